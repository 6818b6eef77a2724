"""examples/ci/: valid for their forge, every reconcile command and flag real, permissions
set, installs pinned, and the GitHub workflow's steps working end to end on the sandbox."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconcile.cli import cli

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / "examples/ci/github-actions.yml"
GITLAB = ROOT / "examples/ci/gitlab-ci.yml"


def scripts(path: Path) -> list[str]:
    """Every shell script of a CI file: GitHub `run:` steps, GitLab `script:` lines."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for name, job in doc.items():
        if not isinstance(job, dict):
            continue
        if name == "jobs":
            for j in job.values():
                out += [s["run"] for s in j.get("steps", []) if "run" in s]
        for key in ("before_script", "script"):
            out += list(job.get(key, []))
    return out


def reconcile_calls(script: str) -> list[list[str]]:
    """The argument lists of every `reconcile ...` command in a script (shell-tokenised, so
    quoted text that mentions reconcile is not taken for a call)."""
    calls = []
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace = " \t"  # newlines end commands
    lexer.commenters = "#"
    tokens = list(lexer)
    starts = {"\n", ";", "&&", "||", "|", "(", "then", "if", "do", "else", "{"}
    ends = {"\n", ";", "&&", "||", "|", ")", ">", ">>", "<", "2>", "}"}
    for i, tok in enumerate(tokens):
        if tok == "reconcile" and (i == 0 or tokens[i - 1] in starts):
            words = []
            for w in tokens[i + 1 :]:
                if w in ends:
                    break
                words.append(w)
            calls.append(words)
    return calls


def check_call(words: list[str]) -> list[str]:
    """Problems with one call: an unknown command or an option the command does not have."""
    cmd: click.Command = cli
    ctx_path = ["reconcile"]
    rest = list(words)
    while isinstance(cmd, click.Group) and rest and not rest[0].startswith("-"):
        sub = cmd.get_command(click.Context(cmd), rest[0])
        if sub is None:
            return [f"{' '.join(ctx_path)}: no command {rest[0]!r}"]
        cmd, ctx_path = sub, [*ctx_path, rest.pop(0)]
    known = {o for p in cmd.params for o in getattr(p, "opts", [])}
    problems = []
    for w in rest:
        if w.startswith("--"):
            flag = w.split("=", 1)[0]
            if flag not in known:
                problems.append(f"{' '.join(ctx_path)}: no option {flag}")
    return problems


@pytest.mark.parametrize(
    ("path", "schema"),
    [(GITHUB, "vendor.github-workflows"), (GITLAB, "vendor.gitlab-ci"),
     (GITHUB, "custom.github-workflows-require-timeout")],
    ids=["github", "gitlab", "github-timeouts"],
)  # fmt: skip
def test_ci_file_is_valid_for_its_forge(path: Path, schema: str) -> None:
    # check-jsonschema ships the forges' published schemas: this runs offline.
    r = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_every_reconcile_command_and_flag_in_the_ci_file_exists(path: Path) -> None:
    calls = [c for s in scripts(path) for c in reconcile_calls(s)]
    used = {c[0] for c in calls}
    assert {"validate", "plan", "apply", "drift", "show"} <= used, used
    problems = [p for c in calls for p in check_call(c)]
    assert not problems, problems


def test_the_checker_catches_a_wrong_flag() -> None:
    assert check_call(["plan", "--out", "p.json", "--formt", "json"]) == [
        "reconcile plan: no option --formt"
    ]
    assert check_call(["aply"]) == ["reconcile: no command 'aply'"]
    assert check_call(["state", "list", "--show-values"]) == []


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_installs_are_pinned_to_a_source_that_is_ours(path: Path) -> None:
    installs = [ln for s in scripts(path) for ln in s.splitlines() if "pip install" in ln]
    text = path.read_text(encoding="utf-8")
    assert installs
    pinned = r"reconcile-cc\[postgres\] @ git\+https://\S+@v"
    for ln in installs:
        # Either pinned on the line, or through $RECONCILE_SOURCE, pinned where it is set.
        assert re.search(pinned, ln) or "$RECONCILE_SOURCE" in ln, ln
    assert re.search(pinned, text)


def test_no_install_instruction_names_the_index_project() -> None:
    # "reconcile" on the package index is someone else's: only checkouts and pinned sources.
    files = [ROOT / "README.md", *ROOT.glob("examples/**/*.yml"), *ROOT.glob("examples/**/*.md")]
    for f in files:
        for ln in f.read_text(encoding="utf-8").splitlines():
            assert not re.search(r"pip install\s+(-U\s+)?[\"']?reconcile([\[\"' ]|$)", ln), (
                f"{f}: {ln}"
            )


def test_github_permissions_are_least_privilege() -> None:
    doc = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    assert doc["permissions"] == {}
    jobs = doc["jobs"]
    assert jobs["plan"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert jobs["apply"]["permissions"] == {
        "contents": "read",
        "actions": "read",
        "pull-requests": "write",
    }
    assert jobs["drift"]["permissions"] == {"contents": "read", "issues": "write"}
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False


def test_gitlab_keeps_the_plan_artifact_private_and_applies_one_at_a_time() -> None:
    doc: dict[str, Any] = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    assert doc["plan"]["artifacts"]["access"] == "developer"
    assert doc["plan"]["artifacts"]["expire_in"]
    assert doc["apply"]["resource_group"] == "reconcile-apply"
    text = GITLAB.read_text(encoding="utf-8")
    assert "backend: postgres" in text and "SQLite" in text


def test_the_distribution_is_renamed_and_the_command_keeps_its_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import tomllib

    from reconcile import __version__
    from reconcile.cli import run_cli

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["name"] == "reconcile-cc" and meta["version"] == __version__
    assert meta["scripts"] == {"reconcile": "reconcile.cli:main"}
    assert run_cli(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"reconcile, version {__version__}"
