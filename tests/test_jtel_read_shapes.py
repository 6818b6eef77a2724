"""What a jtel list body may hold besides the usual: the reader decodes a campaign at
once into typed records of only the fields it reads, and must read every other body the
way a plain JSON reading would, or refuse it (an empty read would make every record
look deleted)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from reconcile.config import ProviderConfig
from reconcile.errors import ProviderError
from reconcile.model import Collection, Prune
from reconcile.providers.jtel import JtelProvider

COLL = Collection(
    "dialler", "jtel/dialler-contacts", "538", {"id": 538}, Prune.MANAGED, False, (), "m.yaml:1:1"
)


def contact(key: str, **fields: Any) -> dict[str, Any]:
    """A contact as the list sends it: every field present, most of them null."""
    base: dict[str, Any] = {"UserData": key, "Client": None, "Name": "Muster", "FirstName": None}
    base |= {"PhoneNumber1": "+4930123456", "Email": "", "Amount": 0.0, "Comment": None}
    base |= {"ID": 100001, "DiallerCampaignsID": 538, "bLocked": False, "nTriesPhoneNumber1": 3}
    base |= {"dtNextTry": "2026-12-01T09:00:00", "SomethingNewer": {"x": [1, 2]}}
    return base | fields


def read(body: bytes | Any, **settings: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    vendor = httpx.MockTransport(lambda req: httpx.Response(200, content=raw))
    cfg = ProviderConfig(
        "dialler",
        "jtel",
        "http://vendor/rest/v1.0",
        {"client_id": "1000", "token": "T", **settings},
    )
    result = JtelProvider(cfg, transport=vendor).read(COLL, "538")
    got = {k: {**v.fields, "@id": v.remote_id} for k, v in result.records.items()}
    return got, list(result.warnings)


def test_fields_keep_their_json_types_and_empty_or_server_managed_ones_are_left_out() -> None:
    got, warnings = read({"records": [contact("A", Amount=12, FirstName="Ann")], "count": 1})
    assert warnings == []
    assert got == {
        "A": {
            "Name": "Muster",
            "FirstName": "Ann",
            "PhoneNumber1": "+4930123456",
            "Amount": 12,
            "locked": False,
            "@id": "100001",
        }
    }
    assert type(got["A"]["Amount"]) is int  # 12 and 12.0 are different values at the vendor
    got, _ = read({"records": [contact("A", Amount=12.0)]})
    assert type(got["A"]["Amount"]) is float


def test_a_record_that_is_no_object_is_skipped_and_the_others_read_as_usual() -> None:
    usual, _ = read({"records": [contact("A"), contact("B", ID=100002)]})
    mixed, _ = read({"records": [contact("A"), "junk", None, 7, contact("B", ID=100002)]})
    assert mixed == usual
    assert set(usual) == {"A", "B"}


def test_a_field_the_body_lacks_is_missing_not_null() -> None:
    # A release whose reads carry no lock field: the lock is unobservable, never "unlocked".
    body = {"records": [{k: v for k, v in contact("A").items() if k != "bLocked"}]}
    got, warnings = read(body)
    assert "locked" not in got["A"]
    assert any("lock state cannot be observed" in w for w in warnings)
    # The id under the other documented key, and a lock field named otherwise.
    other = {k: v for k, v in contact("A").items() if k not in ("ID", "bLocked")}
    got, warnings = read(
        {"records": [{**other, "DiallerContactsID": 7, "Locked": True}]}, lock_field="Locked"
    )
    assert got["A"]["@id"] == "7" and got["A"]["locked"] is True and warnings == []


def test_records_of_other_campaigns_or_none_are_never_read_as_ours() -> None:
    body = {"records": [contact("A"), contact("B", DiallerCampaignsID=539), contact("C")]}
    body["records"][2].pop("DiallerCampaignsID")
    got, warnings = read(body)
    assert set(got) == {"A"}
    assert len(warnings) == 2


@pytest.mark.parametrize("body", [{"records": []}, {"records": None, "count": 0}])
def test_an_empty_campaign(body: Any) -> None:
    assert read(body) == ({}, [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"count": 0, "status": 200}, "no list of `records`"),
        ({"records": {"UserData": "A"}}, "no list of `records`"),
        ([contact("A")], "no list of `records`"),
        (b'{"records": [{"UserData": "A", ', "not the JSON expected"),
        (b"<html>maintenance</html>", "not the JSON expected"),
    ],
)
def test_a_body_it_does_not_understand_is_an_error_not_an_empty_campaign(
    body: Any, message: str
) -> None:
    with pytest.raises(ProviderError, match=message):
        read(body)
