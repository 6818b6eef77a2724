"""No credential in any output, log, state or plan file, even with --debug."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import CIO_KEY, Project, Sandbox, cio_manifest


def test_credentials_never_appear_anywhere(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    project.manifest(cio_manifest(3))
    planfile = project.root / "plan.json"
    outputs = [
        project.run("--debug", "validate"),
        project.run("--debug", "plan", "--out", str(planfile)),
        project.run("--debug", "plan", "--format", "json"),
        project.run("--debug", "plan", "--format", "markdown", "--show-values"),
        project.run("--debug", "apply", str(planfile)),
        project.run("--debug", "drift", "--format", "json"),
        project.run("--debug", "state", "list"),
        project.run("--debug", "state", "show", "cio/contacts/AGENT-00000"),
        project.run("--debug", "export", "--provider", "cio", "--kind", "ciopulse/contacts"),
    ]
    assert "GET /contacts" in outputs[1].err  # --debug does log requests
    secrets = [
        CIO_KEY,
        "sandbox-jtel-token",
        "U0FOREJPWDpzYW5kYm94",
    ]  # the key, the token, the Basic header's base64 start
    for r in outputs:
        for s in secrets:
            assert s not in r.out and s not in r.err
    state_files = [p for p in (project.root / ".reconcile").rglob("*") if p.is_file()]
    for path in [planfile, *state_files]:  # the database, its WAL, the lock files
        data = path.read_bytes()
        for s in secrets:
            assert s.encode() not in data, path


def test_a_vendor_auth_failure_does_not_echo_the_key(project: Project, sandbox: Sandbox) -> None:
    project.manifest(cio_manifest(1))
    r = project.run(
        "--debug", "plan", env={"CIOPULSE_API_KEY": "wrongkey0000000000000000000000000000000x"}
    )
    assert r.code == 1
    assert "401" in r.err and "credentials" in r.err
    assert "wrongkey0000000000000000000000000000000x" not in r.text


def test_the_sandbox_published_credentials_are_not_masked_in_messages() -> None:
    from reconcile import redact

    redact.register("sandbox")  # uContact's sandbox password: printed in the README
    assert redact.scrub("is the sandbox running? `reconcile sandbox serve`") == (
        "is the sandbox running? `reconcile sandbox serve`"
    )
    redact.register("a-real-secret-value")
    assert redact.scrub("token a-real-secret-value") == "token ***"
