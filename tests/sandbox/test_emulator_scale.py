"""Whole-list reads stay fast at the sizes the benchmarks use (100k CIOPulse, 50k jtel contacts)."""

from __future__ import annotations

import json

from reconcile.sandbox.core import Request, Sandbox
from tests.sandbox.conftest import CIO, CIO_AUTH, JTEL, JTEL_AUTH


def _load(sb: Sandbox, path: str, rows: list[dict[str, object]]) -> None:
    resp = sb.dispatch(Request.build("POST", path, {}, json.dumps(rows).encode()))
    assert resp.status == 200


def test_ciopulse_returns_100k_contacts_in_one_body() -> None:
    sb = Sandbox()
    rows: list[dict[str, object]] = [
        {"system_id": f"S{i}", "first_name": "Zoë", "last_name": "L", "email": f"s{i}@example.com"}
        for i in range(100_000)
    ]
    _load(sb, "/_admin/ciopulse/bulk", rows)
    resp = sb.dispatch(Request.build("GET", f"{CIO}/contacts", CIO_AUTH))
    assert resp.status == 200 and len(json.loads(resp.body)["contacts"]) == 100_000
    assert "Zoë".encode() in resp.body  # raw UTF-8, not \\u escapes


def test_jtel_returns_a_50k_campaign_in_one_body() -> None:
    sb = Sandbox()
    rows: list[dict[str, object]] = [
        {"DiallerCampaignsID": 538, "UserData": f"U{i}", "Name": "N", "PhoneNumber1": "+4930123"}
        for i in range(50_000)
    ]
    _load(sb, "/_admin/jtel/bulk", rows)
    resp = sb.dispatch(
        Request.build("GET", f"{JTEL}/dialler/contacts?diallerCampaignsID=538", JTEL_AUTH)
    )
    assert resp.status == 200 and resp.body.count(b'"UserData"') == 50_000
