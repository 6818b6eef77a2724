"""The fault matrix, for every vendor: each fault a real network or vendor can produce, aimed
at one write or read of an apply. Whatever happens, the run ends with a clear error naming
the address and the reason, or succeeds; a rerun without the fault converges; nothing is held
twice and nothing the tool created is forgotten."""

from __future__ import annotations

import collections
from typing import Any

import pytest

from tests.conftest import Project, Sandbox, cio_manifest
from tests.vendors import blacklist, held, jtel, nubitalk, settle_lost_creates

N = 12


# vendor -> (manifest, provider name in the test config, the write call, the read call or None)
VENDORS: dict[str, tuple[Any, str, dict[str, str], dict[str, str] | None]] = {
    "ciopulse": (cio_manifest, "cio", {"method": "PUT", "path_contains": "/contacts/"}, {"method": "GET", "path_contains": "/contacts"}),
    "jtel": (jtel, "dialler", {"method": "POST", "path_contains": "/import"}, {"method": "GET", "path_contains": "/dialler/contacts"}),
    "nubitalk": (nubitalk, "onecontact", {"method": "POST", "path_contains": "/contacts/"}, None),
    "ucontact": (blacklist, "uc", {"method": "POST", "path_contains": "uploadMultiChannelBlacklist"}, None),
}  # fmt: skip

FAULTS: dict[str, dict[str, Any]] = {
    "5xx-once": {"fault": "status", "status": 500},
    "5xx-every-retry": {"fault": "status", "status": 503, "count": 10},
    "429-with-retry-after": {"fault": "status", "status": 429, "retry_after": 0.1, "count": 2},
    "429-without-retry-after": {"fault": "status", "status": 429, "count": 2},
    "drop-before-commit": {"fault": "drop"},
    "lost-reply-after-commit": {"fault": "lost_reply"},
    "slow-past-the-timeout": {"fault": "slow", "seconds": 2.5},
    "html-error-page": {"fault": "html", "status": 502},
    "truncated-json": {"fault": "truncated"},
    "expired-credentials": {"fault": "status", "status": 401},
}


def setup(project: Project, sandbox: Sandbox, vendor: str) -> None:
    make, _, _, _ = VENDORS[vendor]
    short = "timeout: 1.5"  # the slow fault sleeps past it
    project.write_config(cio=short, jtel=short, nubitalk=short, ucontact=f"{short}\nbatch_size: 4")
    if vendor == "ucontact":
        sandbox.admin("PUT", "/ucontact/settings", json={"processing_delay_seconds": 3600})
    project.manifest(make(N))


def check_after(project: Project, sandbox: Sandbox, vendor: str, first: Any) -> None:
    text = first.text
    assert "Traceback" not in text, text
    if first.code != 0:
        # A clear error: the provider or an address, and a reason.
        named = [ln for ln in text.splitlines() if ("/" in ln and ":" in ln) or "provider" in ln]
        assert named, text
    second = project.run("apply", "--auto-approve")
    if second.code != 0 and vendor == "nubitalk":
        # A create whose answer was lost, on a vendor with no read: the resend is refused as
        # a duplicate (the vendor's default answer), and the plan names the import to run
        # with the id from the vendor's Manage Contacts screen, as a person would.
        settle_lost_creates(project, sandbox, second)
        second = project.run("apply", "--auto-approve")
    assert second.code == 0, (first.text, second.text)
    keys = held(sandbox, vendor)
    doubled = [k for k, c in collections.Counter(keys).items() if c > 1]
    if vendor != "ucontact":  # a second copy of a blacklist entry is harmless by design
        assert not doubled, doubled
    assert len(set(keys)) == N
    state = project.run("state", "list").out.splitlines()
    assert len(state) == N and all(line.endswith("\tok") for line in state), state
    assert project.run("plan", "--detailed-exitcode").code == 0


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("vendor", list(VENDORS))
def test_a_fault_on_a_write_ends_clearly_and_a_rerun_converges(
    project: Project, sandbox: Sandbox, vendor: str, fault: str
) -> None:
    setup(project, sandbox, vendor)
    _, _, write, _ = VENDORS[vendor]
    sandbox.admin("POST", "/faults/script", json={"vendor": vendor, **write, **FAULTS[fault]})
    first = project.run("apply", "--auto-approve")
    sandbox.admin("DELETE", "/faults/script")
    check_after(project, sandbox, vendor, first)


@pytest.mark.parametrize(
    "fault", ["html-error-page", "truncated-json", "5xx-every-retry", "expired-credentials"]
)
@pytest.mark.parametrize("vendor", [v for v, spec in VENDORS.items() if spec[3] is not None])
def test_a_fault_on_the_read_stops_before_any_write(
    project: Project, sandbox: Sandbox, vendor: str, fault: str
) -> None:
    setup(project, sandbox, vendor)
    _, name, _, read = VENDORS[vendor]
    assert read is not None
    # Aimed at every try: a single 5xx or proxy page on a read is retried and heals.
    spec = {**FAULTS[fault], "count": 10}
    sandbox.admin("POST", "/faults/script", json={"vendor": vendor, **read, **spec})
    first = project.run("apply", "--auto-approve")
    sandbox.admin("DELETE", "/faults/script")
    assert first.code == 1 and name in first.err, first.text
    assert held(sandbox, vendor) == []  # nothing written on a read we could not trust
    check_after(project, sandbox, vendor, first)


def test_an_expired_ucontact_session_mid_run_logs_in_again(
    project: Project, sandbox: Sandbox
) -> None:
    setup(project, sandbox, "ucontact")
    write = VENDORS["ucontact"][2]
    sandbox.admin(
        "POST",
        "/faults/script",
        json={"vendor": "ucontact", **write, "fault": "status", "status": 401},
    )
    first = project.run("apply", "--auto-approve")
    assert first.code == 0, first.text
    sessions = sandbox.admin("GET", "/ucontact/sessions")
    assert sessions["open"] == 0 and sessions["logins"] == 2
    check_after(project, sandbox, "ucontact", first)
