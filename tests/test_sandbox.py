"""The emulators themselves, spoken to as a client would: auth, status codes, error bodies, faults."""

from __future__ import annotations

import base64

import httpx
import pytest

from reconcile.sandbox.core import Faults, Sandbox
from reconcile.sandbox.transport import SandboxTransport

CIO_AUTH = {
    "Authorization": "Basic "
    + base64.b64encode(b"SANDBOX:sandbox000000000000000000000000000000000").decode()
}
JTEL_AUTH = {"Authorization": "Bearer sandbox-jtel-token"}


@pytest.fixture
def client() -> httpx.Client:
    return httpx.Client(transport=SandboxTransport(Sandbox()), base_url="http://sandbox")


def cio(
    client: httpx.Client,
    method: str,
    path: str,
    body: bytes | None = None,
    auth: dict[str, str] = CIO_AUTH,
) -> httpx.Response:
    return client.request(
        method,
        "/ciopulse/api/v5" + path,
        content=body,
        headers={**auth, "Content-Type": "application/json"},
    )


def test_ciopulse_auth_and_error_shape(client: httpx.Client) -> None:
    r = cio(client, "GET", "/contacts", auth={"Authorization": "Basic bm9wZTpub3Bl"})
    assert r.status_code == 401 and r.json() == {
        "message": "Invalid security credentials",
        "status": 401,
    }
    r = cio(client, "GET", "/contacts/NOPE")
    assert r.status_code == 404 and r.json()["status"] == 404


def test_ciopulse_upsert_partial_update_null_clear_and_rules(client: httpx.Client) -> None:
    assert (
        cio(
            client,
            "PUT",
            "/contacts/A",
            b'{"first_name":"Ann","last_name":"Lee","email":"ann@example.com","job_title":"Lead"}',
        ).status_code
        == 201
    )
    assert cio(client, "PUT", "/contacts/A", b'{"job_title":null}').status_code == 200
    got = cio(client, "GET", "/contacts/A").json()["contacts"][0]["contact"]
    assert got == {
        "Contact_System_ID": "A",
        "First_Name": "Ann",
        "Last_Name": "Lee",
        "Email": "ann@example.com",
        "Job_Title": None,
        "Mobile": None,
    }
    assert (
        cio(client, "PUT", "/contacts/B", b'{"first_name":"B"}').status_code == 400
    )  # create needs all three
    assert (
        cio(
            client,
            "PUT",
            "/contacts/B",
            b'{"first_name":"B","last_name":"C","email":"ANN@example.com"}',
        ).status_code
        == 422
    )
    assert (
        cio(
            client,
            "PUT",
            "/contacts/B",
            b'{"first_name":"B\\u00e9","last_name":"C","email":"b@example.com"}',
        ).status_code
        == 400
    )
    assert (
        cio(
            client,
            "PUT",
            "/contacts/B",
            '{"first_name":"Bé","last_name":"C","email":"b@example.com"}'.encode(),
        ).status_code
        == 201
    )
    assert cio(client, "PUT", "/contacts/B", b'{"mobile":"+61 411"}').status_code == 400
    assert cio(client, "PUT", "/contacts/B", b'{"email":null}').status_code == 400


def test_ciopulse_delete_answers_202_404_and_refuses_a_group_lead(client: httpx.Client) -> None:
    cio(client, "PUT", "/contacts/A", b'{"first_name":"A","last_name":"B","email":"a@example.com"}')
    client.put("/_admin/ciopulse/support-groups/G1", json={"lead": "A", "also_alert": []})
    r = cio(client, "DELETE", "/contacts/A")
    assert r.status_code == 422 and "G1" in r.json()["message"]
    client.delete("/_admin/ciopulse/support-groups/G1")
    assert cio(client, "DELETE", "/contacts/A").status_code == 202
    assert cio(client, "DELETE", "/contacts/A").status_code == 404


def jtel(
    client: httpx.Client, method: str, path: str, client_id: str = "1000", **kw: object
) -> httpx.Response:
    return client.request(method, f"/jtel/rest/v1.0/{client_id}{path}", headers=JTEL_AUTH, **kw)  # type: ignore[arg-type]


def test_jtel_401_for_token_or_clients_id_and_404_empty_versus_json(client: httpx.Client) -> None:
    assert jtel(client, "GET", "/dialler/campaigns", client_id="2000").status_code == 401
    r = client.get(
        "/jtel/rest/v1.0/1000/dialler/campaigns", headers={"Authorization": "Bearer wrong"}
    )
    assert r.status_code == 401 and r.json() == {
        "status": 401,
        "error": "Unauthorized: invalid token or ClientsID",
    }
    r = jtel(client, "GET", "/dialler/no-such-route")
    assert r.status_code == 404 and r.content == b""
    r = jtel(client, "GET", "/dialler/contacts/99999999")
    assert r.status_code == 404 and r.json() == {
        "status": 404,
        "error": "Dialler contact not found",
    }


def test_jtel_import_overwrite_update_lock_reset_and_409(client: httpx.Client) -> None:
    body = {
        "DiallerCampaignsName": "Outbound Sales",
        "UserData": "U1",
        "Name": "N",
        "PhoneNumber1": "+4930123456",
    }
    first = jtel(
        client, "POST", "/dialler/contacts/import?overwriteDuplicates=true", json=body
    ).json()["records"][0]
    assert first["nTriesPhoneNumber1"] == 0 and first["bLocked"] is False and "dtNextTry" in first
    again = jtel(
        client,
        "POST",
        "/dialler/contacts/import?overwriteDuplicates=true",
        json={**body, "City": "Bonn"},
    ).json()["records"][0]
    assert again["ID"] == first["ID"] and again["City"] == "Bonn"
    other = jtel(
        client, "POST", "/dialler/contacts/import?overwriteDuplicates=false", json=body
    ).json()["records"][0]
    assert other["ID"] != first["ID"]
    assert (
        jtel(
            client,
            "POST",
            "/dialler/contacts/import?overwriteDuplicates=true",
            json={"UserData": "x", "Name": "N", "DiallerCampaignsID": 538},
        ).status_code
        == 400
    )
    cid = first["ID"]
    assert (
        jtel(
            client, "PUT", f"/dialler/contacts/contact/{cid}", json={"PostalCode": "12345678901"}
        ).status_code
        == 400
    )
    assert jtel(client, "GET", f"/dialler/contacts/contact/{cid}/lock").json() == {"status": 200}
    client.post("/_admin/jtel/dial", json={"ids": [cid]})
    assert (
        jtel(client, "GET", f"/dialler/contacts/{cid}").json()["records"][0]["nTriesPhoneNumber1"]
        == 1
    )
    jtel(client, "GET", f"/dialler/contacts/contact/{cid}/reset")
    got = jtel(client, "GET", f"/dialler/contacts/{cid}").json()["records"][0]
    assert got["nTriesPhoneNumber1"] == 0 and got["bLocked"] is True
    assert (
        len(jtel(client, "GET", f"/dialler/contacts/contact/{cid}/history").json()["records"]) == 1
    )
    client.post("/_admin/jtel/campaigns", json={"id": 900, "name": "Outbound Sales"})
    assert (
        jtel(
            client, "POST", "/dialler/contacts/import?overwriteDuplicates=true", json=body
        ).status_code
        == 409
    )


def test_faults_hit_vendor_routes_only_and_a_lost_reply_still_commits() -> None:
    sb = Sandbox(Faults(error_rate=1.0))
    c = httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox")
    assert cio(c, "GET", "/contacts").status_code in (500, 503)
    assert c.get("/_admin/stats").status_code == 200
    sb.faults = Faults(lost_reply_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        cio(c, "PUT", "/contacts/A", b'{"first_name":"A","last_name":"B","email":"a@example.com"}')
    assert "A" in c.get("/_admin/ciopulse/contacts").json()
    sb.faults = Faults(throttle_rate=1.0, retry_after=3)
    r = cio(c, "GET", "/contacts")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
