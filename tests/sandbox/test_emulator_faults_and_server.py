"""The router, faults, counters and admin API, over real HTTP and in process."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest

from reconcile.sandbox.core import Faults, Request, Sandbox
from reconcile.sandbox.credentials import CIOPULSE_API_KEY, banner
from reconcile.sandbox.server import RunningSandbox
from reconcile.sandbox.transport import SandboxTransport
from tests.sandbox.conftest import CIO, CIO_AUTH, JTEL, JTEL_AUTH

ANN = b'{"first_name":"Ann","last_name":"Lee","email":"ann@example.com"}'


def test_every_vendor_call_gets_a_5xx_in_the_vendors_shape_at_error_rate_1(
    http: httpx.Client,
) -> None:
    http.put("/_admin/faults", json={"error_rate": 1.0})
    r = http.get(f"{CIO}/contacts", headers=CIO_AUTH)
    assert r.status_code in (500, 503) and set(r.json()) == {"message", "status"}
    r = http.get(f"{JTEL}/dialler/campaigns", headers=JTEL_AUTH)
    assert r.status_code in (500, 503) and set(r.json()) == {"status", "error"}
    assert http.put(f"{CIO}/contacts/A", content=ANN, headers=CIO_AUTH).status_code >= 500
    assert http.get("/_admin/ciopulse/contacts").json() == {}  # refused before processing


def test_admin_routes_are_never_faulted(http: httpx.Client) -> None:
    http.put("/_admin/faults", json={"error_rate": 0.5, "drop_rate": 0.5, "latency_ms": 3000})
    started = time.monotonic()
    for _ in range(5):
        assert http.get("/_admin/stats").status_code == 200
    assert time.monotonic() - started < 5  # five faulted calls would sleep 15 s
    assert http.get("/_admin/faults").json()["drop_rate"] == 0.5


def test_a_lost_reply_commits_the_write_but_the_client_sees_a_disconnect(
    http: httpx.Client,
) -> None:
    http.put("/_admin/faults", json={"lost_reply_rate": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        http.put(f"{CIO}/contacts/A", content=ANN, headers=CIO_AUTH)
    assert http.get(f"{CIO}/contacts/A", headers=CIO_AUTH).status_code == 200  # reads answer
    assert "A" in http.get("/_admin/ciopulse/contacts").json()


def test_a_dropped_connection_processes_nothing(http: httpx.Client) -> None:
    http.put("/_admin/faults", json={"drop_rate": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        http.put(f"{CIO}/contacts/A", content=ANN, headers=CIO_AUTH)
    assert http.get("/_admin/ciopulse/contacts").json() == {}


def test_throttling_answers_429_with_a_configurable_retry_after(http: httpx.Client) -> None:
    http.put("/_admin/faults", json={"throttle_rate": 1.0})
    r = http.get(f"{CIO}/contacts", headers=CIO_AUTH)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    http.put("/_admin/faults", json={"throttle_rate": 1.0, "retry_after": 0})
    r = http.get(f"{JTEL}/dialler/campaigns", headers=JTEL_AUTH)
    assert r.status_code == 429 and r.headers["Retry-After"] == "0" and r.json()["status"] == 429


def test_bad_fault_settings_are_a_400_and_change_nothing(http: httpx.Client) -> None:
    assert http.put("/_admin/faults", json={"error_rate": 2}).status_code == 400
    assert http.put("/_admin/faults", json={"colour": 1}).status_code == 400
    assert http.get("/_admin/faults").json()["error_rate"] == 0


def test_seeded_faults_repeat_the_same_sequence() -> None:
    def run() -> list[int]:
        sb = Sandbox(Faults(error_rate=0.5, seed=7))
        with httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox") as c:
            return [c.get(f"{CIO}/contacts", headers=CIO_AUTH).status_code for _ in range(20)]

    first = run()
    assert first == run() and 200 in first and any(s >= 500 for s in first)


def test_latency_does_not_serialise_concurrent_calls(
    served: RunningSandbox, http: httpx.Client
) -> None:
    http.put("/_admin/faults", json={"latency_ms": 1500})
    codes: list[int] = []

    def one() -> None:
        codes.append(
            httpx.get(f"{served.url}{CIO}/contacts", headers=CIO_AUTH, timeout=30).status_code
        )

    threads = [threading.Thread(target=one) for _ in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # in series the eight calls would take 12 s; together, about one latency
    assert codes == [200] * 8 and time.monotonic() - started < 8


def test_stats_count_vendor_calls_per_route_and_reset(http: httpx.Client) -> None:
    http.put(f"{CIO}/contacts/A", content=ANN, headers=CIO_AUTH)
    http.put(f"{CIO}/contacts/B", content=ANN.replace(b"ann@", b"bo@"), headers=CIO_AUTH)
    http.get(f"{CIO}/contacts", headers=CIO_AUTH)
    http.get(f"{JTEL}/dialler/contacts?diallerCampaignsID=538", headers=JTEL_AUTH)
    http.get(f"{JTEL}/dialler/contacts/7", headers=JTEL_AUTH)
    http.get("/nowhere")
    req = http.get("/_admin/stats").json()["requests"]
    assert req["total"] == 5
    assert req["by_route"] == {
        "ciopulse PUT /contacts/{id}": 2,
        "ciopulse GET /contacts": 1,
        "jtel GET /dialler/contacts": 1,
        "jtel GET /dialler/contacts/{id}": 1,
    }
    http.post("/_admin/stats/reset")
    assert http.get("/_admin/stats").json()["requests"]["total"] == 0
    assert len(http.get("/_admin/ciopulse/contacts").json()) == 2  # data stays


def test_reset_restores_seed_data_faults_and_counters(http: httpx.Client) -> None:
    http.put(f"{CIO}/contacts/A", content=ANN, headers=CIO_AUTH)
    http.post("/_admin/jtel/campaigns", json={"name": "Extra"})
    http.put("/_admin/faults", json={"latency_ms": 5})
    assert http.post("/_admin/reset").status_code == 200
    assert http.get("/_admin/ciopulse/contacts").json() == {}
    assert http.get(f"{JTEL}/dialler/campaigns", headers=JTEL_AUTH).json()["count"] == 5
    assert http.get("/_admin/faults").json()["latency_ms"] == 0
    assert http.get("/_admin/stats").json()["requests"]["total"] == 1


def test_unknown_prefix_is_an_empty_404(http: httpx.Client) -> None:
    for path in ("/", "/nubitalk/standard/api/v1/service/1", "/ciopulsex/api/v5/contacts"):
        r = http.get(path)
        assert r.status_code == 404 and r.content == b""
    assert http.get("/_admin/nothing").status_code == 404


def test_keep_alive_serves_many_calls_on_one_connection(served: RunningSandbox) -> None:
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        for _ in range(3):
            s.sendall(f"GET /_admin/faults HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(4096)
            assert head.startswith(b"HTTP/1.1 200")
            header, _, rest = head.partition(b"\r\n\r\n")
            length = int(
                next(
                    ln.split(b":")[1]
                    for ln in header.split(b"\r\n")
                    if ln.lower().startswith(b"content-length")
                )
            )
            while len(rest) < length:
                rest += s.recv(4096)


def test_the_transport_and_the_server_answer_alike(
    served: RunningSandbox, http: httpx.Client
) -> None:
    with httpx.Client(transport=SandboxTransport(served.sandbox), base_url="http://sandbox") as c:
        assert c.put(f"{CIO}/contacts/A", content=ANN, headers=CIO_AUTH).status_code == 201
    assert (
        http.get(f"{CIO}/contacts/A", headers=CIO_AUTH).json()["contacts"][0]["contact"][
            "First_Name"
        ]
        == "Ann"
    )


def test_request_headers_are_case_insensitive() -> None:
    req = Request.build("GET", "/x?a=1&a=2", [("X-Thing", "v")])
    assert req.headers["x-thing"] == req.headers["X-THING"] == "v" and "x-Thing" in req.headers
    assert req.query == {"a": ["1", "2"]}


def test_the_banner_prints_each_vendors_config_url_and_credentials() -> None:
    lines = [ln.split() for ln in banner("http://127.0.0.1:8787").splitlines()]
    u = "http://127.0.0.1:8787"
    assert ["CIOPulse", f"{u}/ciopulse/api/v5"] in lines
    assert ["portal_code", "SANDBOX,", "api_key", CIOPULSE_API_KEY] in lines
    # jtel's url stops at /rest/v1.0: the ClientsID is the separate client_id setting
    assert ["jtel", f"{u}/jtel/rest/v1.0"] in lines
    assert ["client_id", "1000,", "token", "sandbox-jtel-token"] in lines
    assert ["Nubitalk", f"{u}/nubitalk/standard/api/v1"] in lines
    assert ["token", "SANDBOXNUBITALKTOKEN00000000"] in lines


def test_chunked_bodies_are_read_and_broken_framing_is_a_400(
    served: RunningSandbox, http: httpx.Client
) -> None:
    def parts() -> object:
        yield ANN[:10]
        yield ANN[10:]

    r = http.put(f"{CIO}/contacts/A", content=parts(), headers=CIO_AUTH)  # type: ignore[arg-type]
    assert r.status_code == 201
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"PUT /_admin/faults HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 400")
