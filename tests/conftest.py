"""Fixtures: a sandbox on a loopback port, project folders that point at it, a CLI runner."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconcile.cli import run_cli
from reconcile.sandbox.server import start

CIO_KEY = "sandbox000000000000000000000000000000000"


@pytest.fixture(scope="session")
def running_sandbox() -> Iterator[Any]:
    with start() as running:
        yield running


@dataclass
class Sandbox:
    """The running sandbox, seen the way a test wants it: admin calls and request counts."""

    url: str

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        r = httpx.request(method, f"{self.url}/_admin{path}", timeout=30, **kw)
        r.raise_for_status()
        return r.json() if r.content else None

    def faults(self, **kw: Any) -> None:
        self.admin("PUT", "/faults", json=kw)

    def requests(self) -> int:
        return int(self.admin("GET", "/stats")["requests"]["total"])

    def by_route(self) -> dict[str, int]:
        return dict(self.admin("GET", "/stats")["requests"]["by_route"])

    def cio_contacts(self) -> dict[str, dict[str, Any]]:
        return dict(self.admin("GET", "/ciopulse/contacts"))

    def jtel_contacts(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "/jtel/contacts"))


@pytest.fixture
def sandbox(running_sandbox: Any) -> Iterator[Sandbox]:
    sb = Sandbox(running_sandbox.url)
    sb.admin("POST", "/reset")
    yield sb
    sb.admin("POST", "/reset")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


class Project:
    """A project folder whose reconcile.yaml points at the sandbox."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self.write_config()

    def write_config(self, extra: str = "", policy: str = "{max_delete_percent: 10}", state: str | None = None,
                     cio: str = "", jtel: str = "", nubitalk: str = "", ucontact: str = "") -> None:  # fmt: skip
        """reconcile.yaml for the sandbox; `cio`/`jtel`/`nubitalk`/`ucontact` add settings lines
        to those providers (named cio, dialler, onecontact and uc)."""
        state = state or "{backend: sqlite, path: .reconcile/state.db}"
        lines = [
            "version: 1",
            f"state: {state}",
            'manifests: ["manifests/**/*.yaml"]',
            f"policy: {policy}",
            "providers:",
            "  cio:",
            "    type: ciopulse",
            f"    url: {self.url}/ciopulse/api/v5",
            "    portal_code: ${CIOPULSE_PORTAL_CODE:-SANDBOX}",
            f"    api_key: ${{CIOPULSE_API_KEY:-{CIO_KEY}}}",
            "    concurrency: 8",
            *(["    retries: 6"] if "retries" not in cio else []),
            *("    " + ln.strip() for ln in cio.splitlines() if ln.strip()),
            "  dialler:",
            "    type: jtel",
            f"    url: {self.url}/jtel/rest/v1.0",
            "    client_id: ${JTEL_CLIENT_ID:-1000}",
            "    token: ${JTEL_TOKEN:-sandbox-jtel-token}",
            "    concurrency: 8",
            *(["    retries: 6"] if "retries" not in jtel else []),
            *("    " + ln.strip() for ln in jtel.splitlines() if ln.strip()),
            "  onecontact:",
            "    type: nubitalk",
            f"    url: {self.url}/nubitalk/standard/api/v1",
            "    token: ${NUBITALK_TOKEN:-SANDBOXNUBITALKTOKEN00000000}",
            "    concurrency: 8",
            *(["    retries: 6"] if "retries" not in nubitalk else []),
            *("    " + ln.strip() for ln in nubitalk.splitlines() if ln.strip()),
            "  uc:",
            "    type: ucontact",
            f"    url: {self.url}/ucontact",
            "    user: ${UCONTACT_USER:-sandbox}",
            "    password: ${UCONTACT_PASSWORD:-sandbox}",
            *(["    retries: 6"] if "retries" not in ucontact else []),
            *("    " + ln.strip() for ln in ucontact.splitlines() if ln.strip()),
            extra,
        ]
        (self.root).mkdir(parents=True, exist_ok=True)
        (self.root / "reconcile.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def manifest(self, text: str, name: str = "manifests/main.yaml") -> Path:
        return self.write(name, text)

    def run(self, *args: str, env: dict[str, str] | None = None, masked: bool = False) -> Result:
        """Run the CLI in process. Output is not a terminal here, so personal data would be
        masked: tests of behaviour see values (as --show-values), tests of masking pass masked=True."""
        out, err = io.StringIO(), io.StringIO()
        old_env = dict(os.environ)
        os.environ.pop("RECONCILE_SHOW_VALUES", None)
        if not masked:
            os.environ["RECONCILE_SHOW_VALUES"] = "1"
        if env:
            os.environ.update(env)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run_cli(["-C", str(self.root), "--no-color", *args])
        finally:
            os.environ.clear()
            os.environ.update(old_env)
        return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def project(tmp_path: Path, sandbox: Sandbox) -> Project:
    return Project(tmp_path / "proj", sandbox.url)


def cio_items(n: int, start: int = 0, **over: Any) -> str:
    lines = []
    for i in range(start, start + n):
        lines.append(
            f"  - system_id: AGENT-{i:05d}\n    first_name: First{i}\n    last_name: Last{i}\n"
            f"    email: agent{i}@example.com\n    job_title: {over.get('job_title', 'Agent')}\n"
        )
    return "".join(lines)


def cio_manifest(n: int, prune: str = "managed", extra: str = "") -> str:
    return f"kind: ciopulse/contacts\nprovider: cio\nprune: {prune}\n{extra}items:\n" + cio_items(n)


def reconcile_subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env
