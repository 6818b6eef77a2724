"""One collection per vendor, seen the same way by the reliability tests: a manifest of n
items, what the vendor holds of it, an apply in a real subprocess, and the person's step
a vendor without a read API needs after a lost create answer."""

from __future__ import annotations

import collections
import subprocess
import sys
import tempfile
from collections.abc import Callable

from tests.conftest import Project, Result, Sandbox, cio_manifest, reconcile_subprocess_env


def jtel(n: int) -> str:
    rows = "".join(
        f'  - {{UserData: CRM-{i:05d}, Name: N{i}, PhoneNumber1: "+49301{i:07d}"}}\n'
        for i in range(n)
    )
    return "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {id: 538}\nitems:\n" + rows


def nubitalk(n: int) -> str:
    rows = "".join(f'  - {{Address: "+49302{i:07d}"}}\n' for i in range(n))
    return "kind: nubitalk/contacts\nprovider: onecontact\nservice: 484\nitems:\n" + rows


def blacklist(n: int) -> str:
    rows = "".join(f'  - "+49303{i:07d}"\n' for i in range(n))
    return "kind: ucontact/blacklist\nprovider: uc\nchannel: phone\nitems:\n" + rows


MANIFESTS: dict[str, Callable[[int], str]] = {
    "ciopulse": cio_manifest,
    "jtel": jtel,
    "nubitalk": nubitalk,
    "ucontact": blacklist,
}
PROVIDER = {"ciopulse": "cio", "jtel": "dialler", "nubitalk": "onecontact", "ucontact": "uc"}


def prepare(project: Project, sandbox: Sandbox, vendor: str, n: int, settings: str = "") -> None:
    """The vendor's collection of n items; uContact processes uploads only when told."""
    if vendor == "ucontact":
        project.write_config(ucontact=settings or "batch_size: 5")
        sandbox.admin("PUT", "/ucontact/settings", json={"processing_delay_seconds": 3600})
    elif settings:
        project.write_config(**{_config_arg(vendor): settings})
    project.manifest(MANIFESTS[vendor](n))


def _config_arg(vendor: str) -> str:
    return {"ciopulse": "cio", "jtel": "jtel", "nubitalk": "nubitalk"}[vendor]


def held(sandbox: Sandbox, vendor: str) -> list[str]:
    """The keys the vendor holds, one per record (a key held twice appears twice)."""
    if vendor == "ciopulse":
        return list(sandbox.cio_contacts())
    if vendor == "jtel":
        return [c["UserData"] for c in sandbox.jtel_contacts() if c["DiallerCampaignsID"] == 538]
    if vendor == "nubitalk":
        return [c["Address"] for c in sandbox.admin("GET", "/nubitalk/contacts")]
    sandbox.admin("POST", "/ucontact/process")
    return [r["value"] for r in sandbox.admin("GET", "/ucontact/blacklist")]


def start_apply(project: Project, *extra: str) -> subprocess.Popen[str]:
    # Output goes to files, not pipes: a plan of hundreds of changes would fill a pipe
    # nobody reads until the end, and the apply would wait on it forever.
    out = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finish()
    err = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in finish()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "-C", str(project.root), "--no-color", "apply", "--auto-approve", *extra],
        stdout=out, stderr=err, text=True, env=reconcile_subprocess_env(),
    )  # fmt: skip
    proc.files = (out, err)  # type: ignore[attr-defined]
    return proc


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[str, str]:
    proc.wait(timeout=timeout)
    texts = []
    for f in proc.files:  # type: ignore[attr-defined]
        f.seek(0)
        texts.append(f.read())
        f.close()
    return texts[0], texts[1]


def settle_lost_creates(project: Project, sandbox: Sandbox, result: Result) -> None:
    """What a person does for Nubitalk after a create's answer was lost and the resend was
    refused as a duplicate: the plan names `reconcile import ADDR CONTACT_ID`, and the id is
    on the vendor's Manage Contacts screen (here, the emulator's admin view)."""
    ids = {c["Address"]: c["id"] for c in sandbox.admin("GET", "/nubitalk/contacts")}
    for line in result.text.splitlines():
        if "reconcile import '" in line:
            address = line.split("reconcile import '", 1)[1].split("'", 1)[0]
            done = project.run("import", address, str(ids[address.rsplit("/", 1)[1]]))
            assert done.code == 0, done.text


def converge(
    project: Project, sandbox: Sandbox, vendor: str, n: int, *, sessions_closed: bool = True
) -> None:
    """Apply until done (a person settling Nubitalk's lost creates in between), then check:
    every item held once (a blacklist entry may be held twice: harmless by design), state
    all ok, the next plan empty, no uContact session left open (a killed run's session
    cannot be ended: it expires at the vendor)."""
    result = project.run("apply", "--auto-approve")
    for _ in range(3):
        if result.code == 0:
            break
        assert vendor == "nubitalk", result.text
        settle_lost_creates(project, sandbox, result)
        result = project.run("apply", "--auto-approve")
    assert result.code == 0, result.text
    keys = held(sandbox, vendor)
    doubled = [k for k, c in collections.Counter(keys).items() if c > 1]
    if vendor != "ucontact":
        assert not doubled, f"held twice: {doubled[:5]}"
    assert len(set(keys)) == n
    state = project.run("state", "list").out.splitlines()
    assert len(state) == n and all(line.endswith("\tok") for line in state), state[:5]
    assert project.run("plan", "--detailed-exitcode").code == 0
    if vendor == "ucontact" and sessions_closed:
        assert sandbox.admin("GET", "/ucontact/sessions")["open"] == 0
