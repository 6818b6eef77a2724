"""Fixtures for the emulator tests: an in-process client and a served sandbox on a free port."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from reconcile.sandbox.core import Sandbox
from reconcile.sandbox.server import RunningSandbox, start
from reconcile.sandbox.transport import SandboxTransport

CIO_AUTH = {
    "Authorization": "Basic "
    + base64.b64encode(b"SANDBOX:sandbox000000000000000000000000000000000").decode()
}
JTEL_AUTH = {"Authorization": "Bearer sandbox-jtel-token"}
CIO = "/ciopulse/api/v5"
JTEL = "/jtel/rest/v1.0/1000"


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox()


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox") as c:
        yield c


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    with start() as running:
        yield running


@pytest.fixture
def http(served: RunningSandbox) -> Iterator[httpx.Client]:
    served.sandbox.reset()
    with httpx.Client(base_url=served.url, timeout=10) as c:
        yield c
    served.sandbox.reset()
