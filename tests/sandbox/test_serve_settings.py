"""`reconcile sandbox serve --set VENDOR.NAME=VALUE` starts the emulators with those settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reconcile.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_serve_applies_every_set_option_at_start() -> None:
    args = ["--set", "jtel.release=legacy", "--set", "jtel.campaign_filter=false",
            "--set", "jtel.lock_field=Locked", "--set", "ciopulse.refused_delete_status=409"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "sandbox", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "reconcile sandbox on http://127.0.0.1:PORT"
        url = first.split(" on ", 1)[1].strip()
        jtel = httpx.get(f"{url}/_admin/jtel/settings").json()
        cio = httpx.get(f"{url}/_admin/ciopulse/settings").json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert (jtel["release"], jtel["campaign_filter"], jtel["lock_field"]) == (
        "legacy",
        False,
        "Locked",
    )
    assert cio["refused_delete_status"] == 409 and cio["read_shape"] == "wrapped"


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("jtel.release", "VENDOR.NAME=VALUE"),
        ("release=legacy", "VENDOR.NAME=VALUE"),
        ("acme.x=1", "no emulator named 'acme'"),
        ("jtel.colour=red", "unknown setting"),
        ("ciopulse.refused_delete_status=418", "must be one of"),
    ],
)
def test_a_bad_set_option_is_refused_before_serving(
    option: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["sandbox", "serve", "--port", "0", "--set", option]) == 1
    assert words in capsys.readouterr().err
