"""A state machine over manifest edits, hand edits at the vendor and applies.

Steps: add or remove an item, name a campaign by id or by name, remove or restore a
whole document, change its prune policy, delete or add a record by hand at the vendor,
apply. After every step no remote record has two owners in state; after every apply a
fresh plan is empty, the vendor holds every declared item, and a record that left state
while still at the vendor did so only under `prune: none`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reconcile.config import load_project
from reconcile.engine import Engine
from reconcile.sandbox.core import Sandbox
from reconcile.sandbox.transport import SandboxTransport
from reconcile.state.sqlite import SqliteStore

CAMPAIGNS = {538: "Outbound Sales", 539: "Renewals"}
KEYS = [f"U{i}" for i in range(5)]
CONFIG = """\
version: 1
manifests: ["m/*.yaml"]
policy: {max_delete_percent: 100}
providers:
  dialler: {type: jtel, url: "http://sandbox/jtel/rest/v1.0", client_id: "1000", token: "${T:-sandbox-jtel-token}", retries: 0, insecure: true}
"""


class Ownership(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sb = Sandbox()
        self.admin = httpx.Client(transport=SandboxTransport(self.sb), base_url="http://sandbox")
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        (self.root / "m").mkdir()
        # A pattern that matches no file is refused as a likely typo: keep one file that declares nothing.
        (self.root / "m" / "empty.yaml").write_text("# nothing declared here\n")
        (self.root / "reconcile.yaml").write_text(CONFIG)
        self.docs: dict[int, dict[str, Any]] = {
            c: {"by": "id", "prune": "managed", "keys": set(), "present": False} for c in CAMPAIGNS
        }
        self.applied_prune: dict[int, str] = {c: "managed" for c in CAMPAIGNS}
        self.hand_made: set[str] = set()  # remote ids created at the vendor by hand
        self.store = SqliteStore(self.root / "state.db")

    def teardown(self) -> None:
        self.store.close()
        self.tmp.cleanup()

    # -- the vendor, as it is ---------------------------------------------------------
    def live(self) -> list[dict[str, Any]]:
        return list(self.admin.get("/_admin/jtel/contacts").json())

    def write_manifests(self) -> None:
        for c, doc in self.docs.items():
            path = self.root / "m" / f"{c}.yaml"
            if not doc["present"]:
                path.unlink(missing_ok=True)
                continue
            scope = f"{{id: {c}}}" if doc["by"] == "id" else f"{{name: {CAMPAIGNS[c]}}}"
            items = "".join(
                "  - "
                + json.dumps({"UserData": k, "Name": f"N{k}", "PhoneNumber1": f"+4930123{c}{i}"})
                + "\n"
                for i, k in enumerate(sorted(doc["keys"]))
            )
            path.write_text(
                f"kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {scope}\n"
                f"prune: {doc['prune']}\nitems:{' []' if not items else ''}\n{items}"
            )

    def engine(self) -> Engine:
        return Engine(load_project(self.root), self.store, transport=SandboxTransport(self.sb))

    # -- manifest edits --------------------------------------------------------------
    @rule(c=st.sampled_from(list(CAMPAIGNS)), key=st.sampled_from(KEYS))
    def add_item(self, c: int, key: str) -> None:
        self.docs[c]["keys"].add(key)
        self.docs[c]["present"] = True

    @rule(c=st.sampled_from(list(CAMPAIGNS)), key=st.sampled_from(KEYS))
    def remove_item(self, c: int, key: str) -> None:
        self.docs[c]["keys"].discard(key)

    @rule(c=st.sampled_from(list(CAMPAIGNS)))
    def rename_scope(self, c: int) -> None:
        self.docs[c]["by"] = "name" if self.docs[c]["by"] == "id" else "id"

    @rule(c=st.sampled_from(list(CAMPAIGNS)), present=st.booleans())
    def remove_or_restore_document(self, c: int, present: bool) -> None:
        self.docs[c]["present"] = present

    @rule(c=st.sampled_from(list(CAMPAIGNS)), prune=st.sampled_from(["managed", "all", "none"]))
    def change_prune(self, c: int, prune: str) -> None:
        self.docs[c]["prune"] = prune

    # -- hand edits at the vendor ---------------------------------------------------------
    @rule(data=st.data())
    def delete_by_hand(self, data: st.DataObject) -> None:
        rows = self.live()
        if rows:
            row = data.draw(st.sampled_from(rows))
            self.admin.delete(f"/_admin/jtel/contacts/{row['ID']}").raise_for_status()

    @rule(c=st.sampled_from(list(CAMPAIGNS)), key=st.sampled_from([*KEYS, "HAND"]))
    def add_by_hand(self, c: int, key: str) -> None:
        if any(r["UserData"] == key and r["DiallerCampaignsID"] == c for r in self.live()):
            return
        body = {
            "DiallerCampaignsID": c,
            "UserData": key,
            "Name": "Hand",
            "PhoneNumber1": "+4930999",
        }
        made = self.admin.post("/_admin/jtel/contacts", json=body)
        made.raise_for_status()
        self.hand_made.add(str(made.json()["ID"]))

    # -- apply ------------------------------------------------------------------------
    @precondition(
        lambda self: any(d["present"] for d in self.docs.values()) or self.store.entries()
    )
    @rule()
    def apply(self) -> None:
        self.write_manifests()
        before = {e.remote_id: e for e in self.store.entries().values()}
        engine = self.engine()
        try:
            plan = engine.plan()
            assert not plan.errors, plan.errors
            engine.enforce_safety(plan, force=True)
            result = engine.apply(plan)
            assert result.ok and not result.skipped, (
                result.failed,
                result.uncertain,
                result.skipped,
            )
        finally:
            engine.close()
        for c, doc in self.docs.items():
            if doc["present"]:
                self.applied_prune[c] = doc["prune"]
        engine = self.engine()
        try:
            again = engine.plan()
        finally:
            engine.close()
        assert not again.errors and not again.changes, (again.changes, again.errors)

        live = self.live()
        after = {e.remote_id: e for e in self.store.entries().values()}
        live_ids = {str(r["ID"]): r for r in live}
        for c, doc in self.docs.items():
            held = {r["UserData"] for r in live if r["DiallerCampaignsID"] == c}
            if doc["present"]:
                assert doc["keys"] <= held, (c, doc["keys"], held)
                if doc["prune"] == "all":
                    assert held == doc["keys"], (c, held)
        for rid, e in after.items():
            assert rid in live_ids, f"{e.address} is in state but gone at the vendor"
        for rid in set(before) - set(after):
            if rid in live_ids:  # left state but still at the vendor: only prune none does that
                c = live_ids[rid]["DiallerCampaignsID"]
                assert (
                    self.applied_prune[c] == "none"
                    or not self.docs[c]["present"]
                    and self.applied_prune[c] == "none"
                ), (
                    before[rid].address,
                    self.applied_prune[c],
                )

    # -- always -----------------------------------------------------------------------
    @invariant()
    def one_owner_per_remote_record(self) -> None:
        owners: dict[str, str] = {}
        for e in self.store.entries().values():
            assert e.remote_id not in owners, (e.address, owners.get(e.remote_id or ""))
            if e.remote_id:
                owners[e.remote_id] = e.address


TestOwnership = Ownership.TestCase
TestOwnership.settings = settings(
    max_examples=300, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
)
