"""For any desired, live and state sets: applying the plan makes the vendor hold the
desired set, a second plan is empty and drift finds nothing. Driven through the engine and the
in-process sandbox (real HTTP handling, no socket)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.config import load_project
from reconcile.engine import Engine
from reconcile.model import StateEntry, Status
from reconcile.sandbox.core import Sandbox
from reconcile.sandbox.transport import SandboxTransport
from reconcile.state.sqlite import SqliteStore

KEYS = [f"K{i}" for i in range(8)]
TITLES = st.sampled_from(["Agent", "Lead", None])
NAMES = st.sampled_from(["Ann", "Bob"])

desired_st = st.dictionaries(
    st.sampled_from(KEYS),
    st.fixed_dictionaries({"first_name": NAMES, "job_title": TITLES}),
    max_size=8,
)
live_st = st.dictionaries(
    st.sampled_from(KEYS),
    st.fixed_dictionaries({"first_name": NAMES, "job_title": TITLES}),
    max_size=8,
)
state_st = st.dictionaries(
    st.sampled_from(KEYS),
    st.tuples(
        st.sampled_from([Status.OK, Status.UNCERTAIN]), st.fixed_dictionaries({"job_title": TITLES})
    ),
    max_size=8,
)

CONFIG = """\
version: 1
manifests: ["m.yaml"]
providers:
  cio: {type: ciopulse, url: "http://sandbox/ciopulse/api/v5", portal_code: SANDBOX, api_key: "${K:-sandbox000000000000000000000000000000000}", retries: 0, insecure: true}
"""


def _item(key: str, fields: dict[str, Any]) -> str:
    title = "null" if fields["job_title"] is None else fields["job_title"]
    return f"  - {{system_id: {key}, first_name: {fields['first_name']}, last_name: L, email: {key.lower()}@example.com, job_title: {title}}}\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    desired=desired_st,
    live=live_st,
    state=state_st,
    prune=st.sampled_from(["managed", "all", "none"]),
)
def test_apply_makes_live_equal_desired_and_a_second_plan_is_empty(
    desired: dict[str, dict[str, Any]],
    live: dict[str, dict[str, Any]],
    state: dict[str, tuple[Status, dict[str, Any]]],
    prune: str,
) -> None:
    sb = Sandbox()
    admin = httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox")
    for key, f in live.items():
        admin.put(
            f"/_admin/ciopulse/contacts/{key}",
            json={**f, "last_name": "X", "email": f"{key.lower()}@example.com", "mobile": None},
        ).raise_for_status()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "reconcile.yaml").write_text(CONFIG)
        (root / "m.yaml").write_text(
            f"kind: ciopulse/contacts\nprovider: cio\nprune: {prune}\nitems:"
            + ("\n" if desired else " []\n")
            + "".join(_item(k, f) for k, f in desired.items())
        )
        project = load_project(root)
        store = SqliteStore(root / "state.db")
        for key, (status, fields) in state.items():
            store.put(
                StateEntry(
                    f"cio/contacts/{key}", "cio", "ciopulse/contacts", "", key, key, fields, status
                )
            )
        engine = Engine(project, store, transport=SandboxTransport(sb))
        try:
            plan = engine.plan()
            assert not plan.errors, plan.errors
            result = engine.apply(plan)
            assert result.ok, (result.failed, result.uncertain)

            held = admin.get("/_admin/ciopulse/contacts").json()
            for key, f in desired.items():
                assert held[key]["first_name"] == f["first_name"]
                assert held[key]["job_title"] == f["job_title"]
                assert held[key]["last_name"] == "L"
            for key in live:
                if key in desired:
                    continue
                if key in state:
                    assert (key in held) == (prune == "none"), key
                else:
                    assert (key in held) == (prune != "all"), key

            engine2 = Engine(project, store, transport=SandboxTransport(sb))
            second = engine2.plan()
            assert second.changes == (), [(c.action.value, c.address) for c in second.changes]
            drift = engine2.drift()
            assert drift.drift == (), drift.drift
            engine2.close()
        finally:
            engine.close()
            store.close()
            admin.close()


JTEL_CONFIG = """\
version: 1
manifests: ["m.yaml"]
providers:
  d: {type: jtel, url: "http://sandbox/jtel/rest/v1.0", client_id: "1000", token: "${T:-sandbox-jtel-token}", retries: 0, insecure: true}
"""

jtel_desired = st.dictionaries(
    st.sampled_from(KEYS),
    st.fixed_dictionaries(
        {
            "City": st.sampled_from(["Bonn", "Köln", None]),
            "locked": st.booleans(),
            "reset_token": st.sampled_from(["a", "b"]),
        }
    ),
    max_size=8,
)
jtel_live = st.dictionaries(
    st.sampled_from(KEYS),
    st.fixed_dictionaries({"City": st.sampled_from(["Bonn", None]), "bLocked": st.booleans()}),
    max_size=8,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=jtel_desired, live=jtel_live, prune=st.sampled_from(["managed", "all", "none"]))
def test_jtel_locks_and_fields_converge(
    desired: dict[str, dict[str, Any]], live: dict[str, dict[str, Any]], prune: str
) -> None:
    sb = Sandbox()
    admin = httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox")
    for key, f in live.items():
        admin.post(
            "/_admin/jtel/contacts",
            json={
                "DiallerCampaignsID": 538,
                "UserData": key,
                "Name": "N",
                "PhoneNumber1": "+4930123456",
                **f,
            },
        ).raise_for_status()
    items = "".join(
        f"  - {{UserData: {k}, Name: N, PhoneNumber1: '+4930123456', City: {f['City'] or 'null'}, locked: {str(f['locked']).lower()}, reset_token: {f['reset_token']}}}\n"
        for k, f in desired.items()
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "reconcile.yaml").write_text(JTEL_CONFIG)
        (root / "m.yaml").write_text(
            f"kind: jtel/dialler-contacts\nprovider: d\ncampaign: {{id: 538}}\nprune: {prune}\nitems:"
            + ("\n" + items if items else " []\n")
        )
        project = load_project(root)
        store = SqliteStore(root / "state.db")
        try:
            engine = Engine(project, store, transport=SandboxTransport(sb))
            result = engine.apply(engine.plan())
            assert result.ok, (result.failed, result.uncertain)
            engine.close()
            held = {c["UserData"]: c for c in admin.get("/_admin/jtel/contacts").json()}
            for key, f in desired.items():
                assert held[key]["bLocked"] is f["locked"]
                assert held[key]["City"] == f["City"]
            engine = Engine(project, store, transport=SandboxTransport(sb))
            again = engine.plan()
            assert again.changes == (), [(c.action.value, c.address) for c in again.changes]
            assert engine.drift().drift == ()
            engine.close()
        finally:
            store.close()
            admin.close()
