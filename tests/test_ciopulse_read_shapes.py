"""CIOPulse's GET body shape is undocumented: the reader takes every plausible one and
refuses what it cannot understand (an empty read would make every record look deleted)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconcile.config import ProviderConfig
from reconcile.errors import ProviderError
from reconcile.model import Collection, Prune
from reconcile.providers.ciopulse import CiopulseProvider

COLL = Collection("cio", "ciopulse/contacts", "", {}, Prune.MANAGED, False, (), "m.yaml:1:1")


def read(body: Any) -> dict[str, dict[str, Any]]:
    vendor = httpx.MockTransport(lambda req: httpx.Response(200, json=body))
    cfg = ProviderConfig(
        "cio", "ciopulse", "http://vendor/api/v5", {"portal_code": "P", "api_key": "K" * 40}
    )
    provider = CiopulseProvider(cfg, transport=vendor)
    return {k: dict(v.fields) for k, v in provider.read(COLL, None).records.items()}


@pytest.mark.parametrize(
    "body",
    [
        {"contacts": [{"contact": {"Contact_System_ID": "A", "First_Name": "Ann", "Email": None}}]},
        {"contacts": [{"system_id": "A", "first_name": "Ann", "email": None}]},
        [{"system_id": "A", "first_name": "Ann", "email": None}],
        {
            "status": 200,
            "contacts": [{"contact": {"contact_system_id": "A", "first_name": "Ann", "email": ""}}],
        },
        {"data": [{"SYSTEM_ID": "A", "FIRST_NAME": "Ann", "EMAIL": None}]},
    ],
)
def test_every_plausible_get_shape_reads_the_same(body: Any) -> None:
    assert read(body) == {"A": {"first_name": "Ann", "email": None}}


def test_a_body_it_does_not_understand_is_an_error_not_an_empty_account() -> None:
    with pytest.raises(ProviderError, match="does not understand"):
        read({"support_groups": [{"support_group": {"Name": "x"}}]})
