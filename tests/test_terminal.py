"""On a terminal: apply asks for 'yes', output has colour (unless NO_COLOR), progress bars show."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from tests.conftest import Project, Sandbox, cio_manifest, reconcile_subprocess_env


def run_on_terminal(
    project: Project, args: list[str], answer: str | None, env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run reconcile with a pseudo-terminal as stdin, stdout and stderr; type `answer` at the prompt."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "-C", str(project.root), *args],
        stdin=follower, stdout=follower, stderr=follower, env={**reconcile_subprocess_env(), **(env or {})}, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    out = b""
    answered = answer is None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not answered and b"Only 'yes' will be accepted" in out:
                os.write(leader, answer.encode() + b"\n")  # type: ignore[union-attr]
                answered = True
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    return proc.returncode, out.decode("utf-8", "replace")


def test_apply_on_a_terminal_asks_and_only_yes_applies(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(3))
    code, out = run_on_terminal(project, ["apply"], "no")
    assert code == 1 and "Apply cancelled; nothing was changed." in out
    assert sandbox.cio_contacts() == {}
    code, out = run_on_terminal(project, ["apply"], "yes")
    assert code == 0, out
    assert "Applying" in out  # the progress bar
    assert len(sandbox.cio_contacts()) == 3


def test_colour_on_a_terminal_and_none_with_no_color(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(1))
    _, coloured = run_on_terminal(project, ["plan"], None)
    assert "\x1b[" in coloured
    _, plain = run_on_terminal(project, ["plan"], None, env={"NO_COLOR": "1"})
    assert "\x1b[32m" not in plain and "+ cio/contacts/AGENT-00000" in plain
    _, flag = run_on_terminal(project, ["--no-color", "plan"], None)
    assert "\x1b[32m" not in flag
