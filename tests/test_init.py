"""reconcile init: a scaffold that validates, plans and applies against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconcile.cli import run_cli
from tests.conftest import Project, Sandbox


def test_init_then_validate_then_plan_and_apply_against_the_sandbox(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    root = tmp_path / "fresh"
    assert run_cli(["init", str(root)]) == 0
    assert (root / ".gitignore").read_text().startswith("# reconcile's local state")
    assert (
        "yaml-language-server: $schema=" in (root / "manifests/ciopulse-contacts.yaml").read_text()
    )
    fresh = Project.__new__(Project)
    fresh.root, fresh.url = root, sandbox.url
    assert fresh.run("validate").code == 0
    assert fresh.run("fmt", "--check").code == 0
    env = {
        "CIOPULSE_URL": f"{sandbox.url}/ciopulse/api/v5",
        "JTEL_URL": f"{sandbox.url}/jtel/rest/v1.0",
        "NUBITALK_URL": f"{sandbox.url}/nubitalk/standard/api/v1",
        "UCONTACT_URL": f"{sandbox.url}/ucontact",
    }
    r = fresh.run("plan", "--format", "json", env=env)
    assert r.code == 0, r.text
    plan = json.loads(r.out)
    assert plan["errors"] == []
    assert plan["summary"]["create"] == 7
    assert fresh.run("apply", "--auto-approve", env=env).code == 0
    assert "AGENT-17" in sandbox.cio_contacts()
    assert fresh.run("plan", "--detailed-exitcode", env=env).code == 0


def test_init_for_one_type_and_never_overwrites(tmp_path: Path) -> None:
    root = tmp_path / "p"
    assert run_cli(["init", str(root), "--provider", "jtel"]) == 0
    config = (root / "reconcile.yaml").read_text()
    assert "type: jtel" in config and "ciopulse" not in config
    assert sorted(p.name for p in (root / "manifests").iterdir()) == ["jtel-dialler-contacts.yaml"]
    (root / "manifests/jtel-dialler-contacts.yaml").write_text("# mine\n")
    assert run_cli(["init", str(root)]) == 1
    assert (root / "manifests/jtel-dialler-contacts.yaml").read_text() == "# mine\n"
    assert not (root / "manifests/ciopulse-contacts.yaml").exists()


def test_the_pre_commit_hooks_run_real_commands() -> None:
    import re
    import shlex
    from pathlib import Path

    import yaml

    from reconcile.cli import cli

    hooks = yaml.safe_load((Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"reconcile-validate", "reconcile-fmt"}
    for h in hooks:
        words = shlex.split(h["entry"])
        assert words[0] == "reconcile" and words[1] in cli.commands, h
        command = cli.commands[words[1]]
        flags = {o for p in command.params for o in getattr(p, "opts", [])}
        assert all(w in flags for w in words[2:] if w.startswith("-")), h
        assert h["language"] == "python"
        re.compile(h["files"])


def test_a_scaffold_made_any_day_validates_that_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sample scheduled SMS once carried a fixed calldate: from that day on, every new
    # project (and the demo) failed validate with "calldate ... is in the past".
    for day in ("2026-12-04T11:00:00+00:00", "2031-06-30T23:59:00+00:00"):
        monkeypatch.setenv("RECONCILE_NOW", day)
        root = tmp_path / day[:10]
        assert run_cli(["init", str(root)]) == 0
        assert run_cli(["-C", str(root), "validate"]) == 0
