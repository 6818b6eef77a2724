"""The blacklist compliance rule across blacklist, SMS base and jtel collections."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.conftest import Project, Sandbox, reconcile_subprocess_env

JTEL = "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {name: Outbound Sales}\n"


def docs(*parts: str) -> str:
    return "---\n".join(parts)


def bl(numbers: str, campaign: str = "") -> str:
    extra = f"campaign: {campaign}\n" if campaign else ""
    return f"kind: ucontact/blacklist\nprovider: uc\nchannel: phone\n{extra}items: [{numbers}]\n"


def sms(campaign: str, number: str, extra: str = "") -> str:
    return (
        f"kind: ucontact/sms-base\nprovider: uc\ncampaign: {campaign}\n{extra}items:\n"
        f'  - {{destination: "{number}", text: Hi}}\n'
    )


def jtel(number: str, extra: str = "", locked: bool = False) -> str:
    return (
        f"{JTEL}{extra}items:\n"
        f'  - {{UserData: C1, Name: N, PhoneNumber2: "{number}", locked: {str(locked).lower()}}}\n'
    )


def test_an_all_campaign_entry_conflicts_with_jtel_and_sms_everywhere(
    project: Project, sandbox: Sandbox
) -> None:
    before = sandbox.requests()
    project.write_config(ucontact="default_region: DE")
    project.manifest(docs(bl('"030 1234567"'), sms("Sale->", "+49301234567"), jtel("+49301234567")))
    for cmd in ("validate", "plan", "apply"):
        r = project.run(cmd, *(["--auto-approve"] if cmd == "apply" else []))
        assert r.code == 1, cmd
        assert "main.yaml:10:5: destination: +49301234567 is blacklisted for all campaigns" in r.err
        assert "main.yaml:16:5: PhoneNumber2: +49301234567 is blacklisted" in r.err
        assert "main.yaml:4:9" in r.err  # where the blacklist entry is
    md = project.run("plan", "--format", "markdown", masked=True)
    assert md.code == 1 and "+49301234567" not in md.err and "+49 30 *** **67" in md.err
    assert sandbox.requests() == before


def test_a_campaign_entry_only_conflicts_in_that_campaign_and_locked_contacts_pass(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(
        docs(bl('"+49301234567"', "Ventas->"), sms("Sale->", "+49301234567"), jtel("+49301234567"))
    )
    assert project.run("validate").code == 0
    project.manifest(docs(bl('"+49301234567"', "Ventas->"), sms("Ventas->", "+49301234567")))
    r = project.run("validate")
    assert r.code == 1 and "blacklisted for campaign Ventas->" in r.err
    project.manifest(docs(bl('"+49301234567"'), jtel("+49301234567", locked=True)))
    assert project.run("validate").code == 0


def test_allow_blacklisted_opts_out_with_a_warning_in_every_plan(
    project: Project, sandbox: Sandbox
) -> None:
    project.manifest(
        docs(bl('"+49301234567"'), sms("Sale->", "+49301234567", "allow_blacklisted: true\n"))
    )
    r = project.run("plan")
    assert r.code == 0 and "allow_blacklisted: true" in r.out and "1 blacklisted number" in r.out
    assert project.run("apply", "--auto-approve").code == 0
    assert "allow_blacklisted" in project.run("plan").out


def test_a_number_blacklisted_in_state_still_conflicts(project: Project, sandbox: Sandbox) -> None:
    project.manifest(bl('"+49301234567"'))
    assert project.run("apply", "--auto-approve").code == 0
    project.manifest(jtel("+49301234567"))  # the blacklist document is gone, its entry is not
    r = project.run("plan")
    assert r.code == 1 and "(in state)" in r.err
    assert project.run("validate").code == 1


def test_sigint_during_an_upload_ends_the_session(project: Project, sandbox: Sandbox) -> None:
    sandbox.admin("PUT", "/ucontact/settings", json={"processing_delay_seconds": 3600})
    project.manifest(bl(", ".join(f'"+4930{i:07d}"' for i in range(50))))
    project.write_config(ucontact="batch_size: 10\nconcurrency: 1")
    sandbox.admin("POST", "/faults/script", json={"vendor": "ucontact", "fault": "slow", "seconds": 2,
                                                  "path_contains": "Blacklist", "count": 5})  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "-C", str(project.root), "apply", "--auto-approve"],
        env=reconcile_subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    route = "ucontact POST /IntegraChannels/resources/DialersResources/uploadMultiChannelBlacklist"
    while sandbox.by_route().get(route, 0) < 1:  # an upload is in flight
        assert proc.poll() is None
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode in (1, 130), err  # click reports Ctrl-C as "Aborted."
    view = sandbox.admin("GET", "/ucontact/sessions")
    assert view["open"] == 0 and view["ended"] == 1
    assert sandbox.by_route()[route] < 5  # it stopped: no new upload after Ctrl-C
