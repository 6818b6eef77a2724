"""The uContact emulator: sessions, asynchronous uploads, scheduled SMS, FormGet, settings."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from reconcile.sandbox.core import Request, Response, Sandbox
from reconcile.sandbox.credentials import banner
from reconcile.sandbox.server import RunningSandbox

UC = "/ucontact"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
SMS_UPLOAD = "/Integra/resources/SMS/uploadbase"
EMAIL_UPLOAD = "/IntegraChannels/resources/DialersResources/uploadDialerBase"
BL_UPLOAD = "/IntegraChannels/resources/DialersResources/uploadMultiChannelBlacklist"
BL_REMOVE = "/IntegraChannels/resources/DialersResources/removeMultiChannelBlacklist"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class Uc:
    """One sandbox, seen as a uContact client and as the admin behind it."""

    def __init__(self) -> None:
        self.sb = Sandbox()
        self.token = ""

    def post(
        self, path: str, form: dict[str, str], token: str | None = None, scheme: str = "Basic"
    ) -> Response:
        headers = dict(FORM)
        token = self.token if token is None else token
        if token:
            headers["Authorization"] = f"{scheme} {token}"
        return self.sb.dispatch(Request.build("POST", UC + path, headers, urlencode(form).encode()))

    def login(self, password: str = "sandbox") -> Response:
        resp = self.post(
            "/Integra/resources/auth/getUserToken", {"user": "sandbox", "password": password}, ""
        )
        if resp.status == 200 and resp.body.startswith(b"["):
            self.token = json.loads(resp.body)[-1]
        return resp

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        raw = b"" if body is None else json.dumps(body).encode()
        resp = self.sb.dispatch(Request.build(method, f"/_admin/{path}", {}, raw))
        assert resp.status == 200, resp.body
        return json.loads(resp.body)

    def settings(self, **changes: Any) -> None:
        self.admin("PUT", "ucontact/settings", changes)

    def query(self, sql: str, dsn: str = "ccdata") -> Response:
        return self.post("/Integra/resources/forms/FormGet", {"query": sql, "dsn": dsn})

    def upload_blacklist(self, csv: str, path: str = BL_UPLOAD) -> Response:
        return self.post(path, {"filename": "bl.csv", "fileb64": b64(csv)})


@pytest.fixture
def uc() -> Uc:
    u = Uc()
    u.settings(processing_delay_seconds=60.0)  # rows appear only through POST process
    assert u.login().status == 200
    return u


def text(resp: Response) -> str:
    return resp.body.decode("utf-8")


# -- sessions ---------------------------------------------------------------------------
def test_login_answers_an_array_whose_last_element_is_a_base64_user_token() -> None:
    u = Uc()
    resp = u.login()
    answer = json.loads(resp.body)
    assert resp.status == 200 and answer[0] == "sandbox" and answer[-1] == u.token
    user, _, rest = base64.b64decode(u.token).decode().partition(":")
    assert user == "sandbox" and len(rest) == 36


def test_wrong_password_answers_text_zero_and_opens_nothing() -> None:
    u = Uc()
    resp = u.login("wrong")
    assert (resp.status, text(resp)) == (200, "0")
    assert u.admin("GET", "ucontact/sessions")["open"] == 0


def test_calls_need_the_token_in_a_basic_authorization_header(uc: Uc) -> None:
    csv = {"filename": "a.csv", "fileb64": b64("C;1;x;1"), "campaign": "C"}
    assert text(uc.post(SMS_UPLOAD, csv)) == "1"
    no_header = uc.post(SMS_UPLOAD, csv, token="")
    bearer = uc.post(SMS_UPLOAD, csv, scheme="Bearer")
    unknown = uc.post(SMS_UPLOAD, csv, token=b64("sandbox:not-a-session"))
    for resp in (no_header, bearer, unknown):
        assert (resp.status, text(resp)) == (401, "0")
    assert len(uc.admin("GET", "ucontact/pending")) == 1


def test_auth_scheme_setting_makes_bearer_the_only_accepted_scheme(uc: Uc) -> None:
    uc.settings(auth_scheme="Bearer")
    form = {"query": "SELECT 1 AS one", "dsn": "ccdata"}
    path = "/Integra/resources/forms/FormGet"
    assert uc.post(path, form, scheme="Basic").status == 401
    assert json.loads(uc.post(path, form, scheme="Bearer").body) == [{"one": 1}]


def test_an_idle_token_expires_and_the_expired_answer_follows_the_setting(uc: Uc) -> None:
    uc.settings(session_idle_seconds=0.0, expired_status=200)  # every token is idle too long
    resp = uc.query("SELECT 1")
    assert (resp.status, text(resp)) == (200, "0")
    view = uc.admin("GET", "ucontact/sessions")
    assert view["open"] == 0 and view["expired"] == 1


def test_end_session_invalidates_the_token_and_closes_the_session(uc: Uc) -> None:
    assert uc.admin("GET", "ucontact/sessions")["open"] == 1
    end = "/Integra/resources/auth/EndSession"
    assert text(uc.post(end, {"user": "sandbox", "token": uc.token})) == "1"
    assert uc.query("SELECT 1").status == 401
    assert text(uc.post(end, {"user": "sandbox", "token": uc.token})) == "0"
    view = uc.admin("GET", "ucontact/sessions")
    assert view["open"] == 0 and view["ended"] == 1 and "token" not in json.dumps(view)


def test_a_session_cap_refuses_a_login_or_evicts_the_oldest_session(uc: Uc) -> None:
    first = uc.token
    uc.settings(max_sessions_per_user=1)
    assert text(uc.login()) == "0" and uc.token == first
    uc.settings(session_cap_policy="evict_oldest")
    assert uc.login().status == 200 and uc.token != first
    assert uc.query("SELECT 1", "ccdata").status == 200
    assert (
        uc.post(
            "/Integra/resources/forms/FormGet", {"query": "SELECT 1", "dsn": "ccdata"}, first
        ).status
        == 401
    )


# -- uploads ----------------------------------------------------------------------------
def test_sms_upload_answers_one_and_its_rows_appear_only_once_processed(uc: Uc) -> None:
    csv = "Ventas->;098344484;Hello World!;9999\nVentas->;098344485;Hola, ¿qué tal?;5"
    form = {"filename": "base.csv", "fileb64": b64(csv), "campaign": "Ventas->"}
    for _ in range(2):  # the same file twice
        resp = uc.post(SMS_UPLOAD, form)
        assert (resp.status, text(resp)) == (200, "1")
    assert uc.admin("GET", "ucontact/sms-base") == []
    assert [p["lines"] for p in uc.admin("GET", "ucontact/pending")] == [2, 2]
    assert uc.admin("POST", "ucontact/process") == {"processed": 2}
    rows = uc.admin("GET", "ucontact/sms-base")
    assert [(r["campaign"], r["phone"], r["message"], r["priority"]) for r in rows[:2]] == [
        ("Ventas->", "098344484", "Hello World!", 9999),
        ("Ventas->", "098344485", "Hola, ¿qué tal?", 5),
    ]
    assert len(rows) == 4 and rows[2:] == [{**r, "id": r["id"] + 2} for r in rows[:2]]  # duplicated
    assert uc.admin("GET", "ucontact/pending") == []


def test_due_uploads_are_processed_before_the_next_call_is_answered(uc: Uc) -> None:
    uc.settings(processing_delay_seconds=0.0)
    uc.post(SMS_UPLOAD, {"filename": "b.csv", "fileb64": b64("C;1;x;1"), "campaign": "C"})
    rows = json.loads(uc.query("SELECT phone FROM sms_base").body)
    assert rows == [{"phone": "1"}]


def test_rows_that_do_not_parse_are_dropped_at_processing_and_shown_to_the_admin(uc: Uc) -> None:
    csv = "C;1;ok;1\nC;2;too;many;fields\nC;3;priority;high\n\nC;;no number;1\nC;4;ok;2\n"
    assert (
        text(uc.post(SMS_UPLOAD, {"filename": "b.csv", "fileb64": b64(csv), "campaign": "C"}))
        == "1"
    )
    uc.admin("POST", "ucontact/process")
    assert [r["phone"] for r in uc.admin("GET", "ucontact/sms-base")] == ["1", "4"]
    assert [r["line"] for r in uc.admin("GET", "ucontact/rejected")] == [2, 3, 5]


@pytest.mark.parametrize(
    "form",
    [
        {"filename": "b.csv", "campaign": "C"},  # no fileb64
        {"filename": "b.csv", "fileb64": "not base64!", "campaign": "C"},
        {"filename": "b.csv", "fileb64": b64("C;1;x;1")},  # no campaign
        {
            "Filename": "b.csv",
            "fileb64": b64("C;1;x;1"),
            "campaign": "C",
        },  # names are case-sensitive
    ],
)
def test_a_bad_upload_answers_zero_and_queues_nothing(uc: Uc, form: dict[str, str]) -> None:
    resp = uc.post(SMS_UPLOAD, form)
    assert (resp.status, text(resp)) == (200, "0")
    assert uc.admin("GET", "ucontact/pending") == []


def test_the_bad_request_answer_is_a_setting(uc: Uc) -> None:
    uc.settings(bad_request_status=400, bad_request_body="ERROR")
    resp = uc.post(SMS_UPLOAD, {"filename": "b.csv"})
    assert (resp.status, text(resp)) == (400, "ERROR")


def test_email_upload_parses_six_fields_with_template_variables(uc: Uc) -> None:
    csv = 'News;ann@example.com;Hi {{Name}};Hello;"Name":"Ann","Tier":"gold";9999\nNews;bob;x;;;1'
    form = {"filename": "e.csv", "fileb64": b64(csv), "channel": "email", "dialer": "Newsletter",
            "cant": "2", "user": "sandbox"}  # fmt: skip
    assert text(uc.post(EMAIL_UPLOAD, form)) == "1"
    assert text(uc.post(EMAIL_UPLOAD, {**form, "channel": "sms"})) == "0"
    uc.admin("POST", "ucontact/process")
    rows = uc.admin("GET", "ucontact/email-base")
    assert [(r["dialer"], r["email"], r["subject"], json.loads(r["variables"])) for r in rows] == [
        ("Newsletter", "ann@example.com", "Hello", {"Name": "Ann", "Tier": "gold"})
    ]
    assert [r["reason"].startswith("no e-mail") for r in uc.admin("GET", "ucontact/rejected")] == [
        True
    ]


@pytest.mark.parametrize(
    ("policy", "answer", "rows"), [("accept", "1", 2), ("refuse", "0", 0), ("truncate", "1", 1)]
)
def test_a_row_count_that_does_not_match_follows_the_setting(
    uc: Uc, policy: str, answer: str, rows: int
) -> None:
    uc.settings(email_count_mismatch=policy)
    csv = "N;a@example.com;b;;;1\nN;b@example.com;b;;;1"
    form = {
        "filename": "e.csv",
        "fileb64": b64(csv),
        "channel": "email",
        "dialer": "D",
        "cant": "1",
    }
    assert text(uc.post(EMAIL_UPLOAD, form)) == answer
    uc.admin("POST", "ucontact/process")
    assert len(uc.admin("GET", "ucontact/email-base")) == rows


# -- blacklist --------------------------------------------------------------------------
def test_blacklist_upload_reads_value_channel_campaign_and_keeps_duplicates(uc: Uc) -> None:
    csv = "+4930123456;phone;Ventas->\nann@example.com;email;\n+4930123456;fax;"
    assert text(uc.upload_blacklist(csv)) == "1"
    assert text(uc.upload_blacklist(csv)) == "1"
    uc.admin("POST", "ucontact/process")
    rows = uc.admin("GET", "ucontact/blacklist")
    assert [(r["value"], r["channel"], r["campaign"]) for r in rows] == [
        ("+4930123456", "phone", "Ventas->"),
        ("ann@example.com", "email", ""),  # empty campaign: every campaign
    ] * 2
    assert [
        r["reason"].startswith("empty value") for r in uc.admin("GET", "ucontact/rejected")
    ] == [True, True]


def test_blacklist_dedupe_setting_ignores_entries_already_listed(uc: Uc) -> None:
    uc.settings(blacklist_dedupe=True)
    uc.upload_blacklist("+4930123456;phone;\n+4930123456;phone;")
    uc.upload_blacklist("+4930123456;phone;\n+4930123456;phone;C")
    uc.admin("POST", "ucontact/process")
    assert [r["campaign"] for r in uc.admin("GET", "ucontact/blacklist")] == ["", "C"]


def test_blacklist_columns_setting_reads_another_layout_and_refuses_ours(uc: Uc) -> None:
    uc.settings(blacklist_columns=["channel", "value"])
    uc.upload_blacklist("phone;+4930123456")
    uc.upload_blacklist("+4930123457;phone;")
    uc.admin("POST", "ucontact/process")
    assert [(r["value"], r["campaign"]) for r in uc.admin("GET", "ucontact/blacklist")] == [
        ("+4930123456", "")
    ]
    assert len(uc.admin("GET", "ucontact/rejected")) == 1
    bad = uc.sb.dispatch(
        Request.build("PUT", "/_admin/ucontact/settings", {}, b'{"blacklist_columns": ["phone"]}')
    )
    assert bad.status == 400


def test_blacklist_upload_path_setting_moves_the_route(uc: Uc) -> None:
    uc.settings(blacklist_upload_path="IntegraChannels/resources/DialersResources/uploadBlacklist")
    assert uc.upload_blacklist("+4930123456;phone;").status == 404
    moved = "/IntegraChannels/resources/DialersResources/uploadBlacklist"
    assert text(uc.upload_blacklist("+4930123456;phone;", moved)) == "1"


def test_the_removal_route_exists_only_behind_its_setting(uc: Uc) -> None:
    uc.upload_blacklist("+4930123456;phone;\n+4930123457;phone;\n+4930123456;phone;C")
    assert uc.upload_blacklist("+4930123456;phone;", BL_REMOVE).status == 404
    uc.settings(blacklist_removal_route=True)
    assert text(uc.upload_blacklist("+4930123456;phone;", BL_REMOVE)) == "1"
    uc.admin("POST", "ucontact/process")
    rows = uc.admin("GET", "ucontact/blacklist")
    assert [(r["value"], r["campaign"]) for r in rows] == [
        ("+4930123457", ""),
        ("+4930123456", "C"),
    ]


def test_admin_removes_and_adds_blacklist_entries_behind_the_clients_back(uc: Uc) -> None:
    uc.admin("POST", "ucontact/blacklist", [{"value": "+1", "channel": "phone"}, {"value": "+2"}])
    assert uc.admin("DELETE", "ucontact/blacklist", [{"value": "+1"}]) == {"removed": 1}
    assert [r["value"] for r in uc.admin("GET", "ucontact/blacklist")] == ["+2"]


# -- scheduled SMS, sending ---------------------------------------------------------------
def test_schedule_dialer_sms_takes_json_in_a_form_field_and_keeps_the_campaign_verbatim(
    uc: Uc,
) -> None:
    sms = {"calldate": "2026-12-01 09:00:00", "campaign": "Ventas->", "destination": "098344484",
           "data": "See you at 10; bring ID"}  # fmt: skip
    path = "/Integra/resources/SMS/ScheduleDialerSMS"
    assert text(uc.post(path, {"sms": json.dumps(sms)})) == "1"
    assert uc.admin("GET", "ucontact/scheduled-sms") == [
        {"id": 1, "calldate": "2026-12-01 09:00:00", "campaign": "Ventas->",
         "phone": "098344484", "data": "See you at 10; bring ID"}
    ]  # fmt: skip
    for bad in (
        {**sms, "calldate": "2026-12-01T09:00:00"},
        {**sms, "calldate": "2026-13-01 09:00:00"},
    ):
        assert text(uc.post(path, {"sms": json.dumps(bad)})) == "0"
    assert text(uc.post(path, {"sms": "{not json"})) == "0"
    assert len(uc.admin("GET", "ucontact/scheduled-sms")) == 1


def test_send_email_takes_json_and_answers_a_guid_or_400(uc: Uc) -> None:
    def send(body: bytes) -> Response:
        headers = {"Content-Type": "application/json", "Authorization": f"Basic {uc.token}"}
        path = UC + "/IntegraChannels/resources/Forms/sendEmail"
        return uc.sb.dispatch(Request.build("POST", path, headers, body))

    ok = send(b'{"campaign": "Email", "to": "ann@example.com", "subject": "S", "template": "t"}')
    assert ok.status == 200 and len(json.loads(ok.body)["guid"]) == 36
    assert send(b'{"campaign": "Email"}').status == 400
    assert send(b"campaign=Email").status == 400
    assert [e["to"] for e in uc.admin("GET", "ucontact/sent-email")] == ["ann@example.com"]


def test_form_routes_refuse_other_content_types_and_unknown_routes_are_404(uc: Uc) -> None:
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {uc.token}"}
    body = b'{"query": "SELECT 1", "dsn": "ccdata"}'
    path = UC + "/Integra/resources/forms/FormGet"
    assert uc.sb.dispatch(Request.build("POST", path, headers, body)).status == 415
    assert uc.sb.dispatch(Request.build("GET", path, headers)).status == 405
    assert (
        uc.post("/Integra/resources/sms/uploadbase", {}).status == 404
    )  # paths are case-sensitive


# -- FormGet ----------------------------------------------------------------------------
def test_form_get_returns_processed_blacklist_rows_as_json_objects(uc: Uc) -> None:
    uc.upload_blacklist("+4930123456;phone;Ventas->")
    assert json.loads(uc.query("SELECT value FROM blacklist").body) == []  # not processed yet
    uc.admin("POST", "ucontact/process")
    resp = uc.query("SELECT value, channel, campaign FROM blacklist WHERE channel = 'phone'")
    assert resp.headers["Content-Type"].startswith("application/json")
    assert json.loads(resp.body) == [
        {"value": "+4930123456", "channel": "phone", "campaign": "Ventas->"}
    ]


def test_form_get_runs_one_select_and_refuses_everything_else(uc: Uc) -> None:
    uc.upload_blacklist("+4930123456;phone;")
    uc.admin("POST", "ucontact/process")
    for sql in (
        "DELETE FROM blacklist",
        "SELECT 1; DELETE FROM blacklist",
        "INSERT INTO blacklist (value) VALUES ('x')",
        "PRAGMA table_info(blacklist)",
        "ATTACH ':memory:' AS other",
        "",
    ):
        assert text(uc.query(sql)) == "0", sql
    assert len(uc.admin("GET", "ucontact/blacklist")) == 1
    assert text(uc.query("SELECT 1", dsn="mysql")) == "0"


def test_form_get_table_names_dsn_and_value_types_follow_the_settings(uc: Uc) -> None:
    uc.post(SMS_UPLOAD, {"filename": "b.csv", "fileb64": b64("C;1;x;7"), "campaign": "C"})
    uc.admin("POST", "ucontact/process")
    uc.settings(sms_base_table="sms_dialer_base", lists_dsn="cccustom", formget_values="strings")
    assert (
        text(uc.query("SELECT priority FROM sms_dialer_base")) == "0"
    )  # lists are not in ccdata now
    found = uc.query("SELECT priority FROM sms_dialer_base", dsn="cccustom")
    assert json.loads(found.body) == [{"priority": "7"}]
    assert text(uc.query("SELECT * FROM sms_base", dsn="cccustom")) == "0"


# -- faults, server, banner ---------------------------------------------------------------
def test_a_lost_reply_after_an_accepted_upload_still_lists_the_rows(uc: Uc) -> None:
    uc.admin("POST", "faults/script", {"vendor": "ucontact", "fault": "lost_reply",
                                         "path_contains": "uploadbase"})  # fmt: skip
    resp = uc.post(SMS_UPLOAD, {"filename": "b.csv", "fileb64": b64("C;1;x;1"), "campaign": "C"})
    assert resp.drop
    uc.admin("POST", "ucontact/process")
    assert [r["phone"] for r in uc.admin("GET", "ucontact/sms-base")] == ["1"]


def test_injected_errors_are_plain_text_like_the_vendors(uc: Uc) -> None:
    uc.admin("POST", "faults/script", {"vendor": "ucontact", "fault": "status", "status": 503})
    resp = uc.query("SELECT 1")
    assert resp.status == 503 and resp.headers["Content-Type"].startswith("text/plain")
    stats = uc.admin("GET", "stats")["requests"]["by_route"]
    assert stats["ucontact POST /Integra/resources/forms/FormGet"] == 1


def test_a_real_client_logs_in_uploads_and_reads_back_over_http(
    served: RunningSandbox, http: httpx.Client
) -> None:
    login = http.post(
        f"{UC}/Integra/resources/auth/getUserToken", data={"user": "sandbox", "password": "sandbox"}
    )
    auth = {"Authorization": f"Basic {login.json()[-1]}"}
    http.put("/_admin/ucontact/settings", json={"processing_delay_seconds": 0.0})
    form = {"filename": "bl.csv", "fileb64": b64("x+y@example.com;email;Sale->")}
    assert http.post(UC + BL_UPLOAD, data=form, headers=auth).text == "1"
    rows = http.post(UC + "/Integra/resources/forms/FormGet", headers=auth,
                     data={"query": "SELECT value, campaign FROM blacklist", "dsn": "ccdata"})  # fmt: skip
    assert rows.json() == [{"value": "x+y@example.com", "campaign": "Sale->"}]
    end = {"user": "sandbox", "token": login.json()[-1]}
    assert http.post(f"{UC}/Integra/resources/auth/EndSession", data=end, headers=auth).text == "1"
    assert http.get("/_admin/ucontact/sessions").json()["open"] == 0


def test_the_banner_gives_the_ucontact_url_and_credentials() -> None:
    line = [x for x in banner("http://127.0.0.1:8787").splitlines() if "uContact" in x][0]
    assert "http://127.0.0.1:8787/ucontact" in line and "not served" not in line
