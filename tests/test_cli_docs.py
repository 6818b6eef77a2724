"""Every command has help, and specs/ holds exactly the schemas the code uses."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from reconcile.cli import cli, run_cli
from reconcile.manifest.schemas import all_schemas

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, prefix + name + " ")
    return out


@pytest.mark.parametrize(("name", "command"), _commands(cli), ids=[n for n, _ in _commands(cli)])
def test_every_command_has_help(
    name: str, command: click.Command, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command.help, f"{name} has no help"
    assert run_cli([*name.split(), "--help"]) == 0
    assert "Usage:" in capsys.readouterr().out


def test_specs_folder_matches_the_code() -> None:
    on_disk = {p.name: json.loads(p.read_text()) for p in (ROOT / "specs").glob("*.schema.json")}
    expected = {f"{n}.schema.json": s for n, s in all_schemas().items()}
    assert on_disk == expected, "specs/ is out of date: run `reconcile schema --write specs`"


def test_schema_command_prints_a_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["schema", "jtel/dialler-contacts"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["properties"]["kind"] == {"const": "jtel/dialler-contacts"}
    assert run_cli(["schema", "nope"]) == 1
