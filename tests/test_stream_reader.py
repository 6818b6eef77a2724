"""A list body is parsed as it arrives, in whatever pieces the transport hands over: one
byte at a time, a network's 64 KiB, or the whole body at once (a transport that does not
stream). Every cut must give the same records."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.config import ProviderConfig
from reconcile.http import VendorClient

BODY = json.dumps(
    {
        "contacts": [
            {"contact": {"Contact_System_ID": f"A-{i}", "Name": "é" * (i % 5)}} for i in range(300)
        ]
    }
).encode()


def client(chunks: list[bytes]) -> VendorClient:
    transport = httpx.MockTransport(lambda req: httpx.Response(200, content=iter(chunks)))
    cfg = ProviderConfig("v", "ciopulse", "http://vendor", {"retries": 0})
    return VendorClient(cfg, headers={}, message=lambda resp: resp.text, transport=transport)


def cut(body: bytes, sizes: list[int]) -> list[bytes]:
    out, at = [], 0
    for n in sizes:
        if at >= len(body):
            break
        out.append(body[at : at + n])
        at += n
    return [*out, body[at:]] if at < len(body) else out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5000), max_size=40))
def test_every_cut_of_a_body_gives_the_same_records(sizes: list[int]) -> None:
    got = list(client(cut(BODY, sizes)).stream_items("GET", "/contacts", "contacts.item"))
    assert got == json.loads(BODY)["contacts"]


@pytest.mark.parametrize("pieces", [1, 7, 1000])
def test_a_whole_body_read_gives_the_bytes_as_sent(pieces: int) -> None:
    size = len(BODY) // pieces + 1
    assert client(cut(BODY, [size] * pieces)).read_body("GET", "/contacts") == BODY
