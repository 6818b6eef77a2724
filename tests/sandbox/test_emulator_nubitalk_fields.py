"""Nubitalk's contact fields (dates, numbers, typed Metadata) and its admin API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox import test_emulator_nubitalk as nubi
from tests.sandbox.test_emulator_nubitalk import refused, settings, stored


def create(c: httpx.Client, body: Any, service: int = 484) -> httpx.Response:
    return nubi.create(c, body, service, check="false")  # many contacts share an Address here


def new_id(c: httpx.Client, body: Any, service: int = 484) -> int:
    return nubi.new_id(c, body, service, check="false")


def meta(kind: Any, value: Any, name: str = "X") -> dict[str, Any]:
    return {"Address": "1", "Metadata": [{"Name": name, "Type": kind, "Value": value}]}


@pytest.mark.parametrize(
    "when",
    [
        "2026-02-31T10:00:00",
        "2027-02-29T10:00:00",
        "2026-13-01T00:00:00",
        "2026-1-01T00:00:00",
        "2026-01-01 10:00:00",
        "2026-01-01T24:00:00",
        "2026-01-01T10:00:00Z",
        "2026-01-01T10:00",
        "1700-01-01T00:00:00",
        20260101,
    ],
)
def test_next_try_must_be_a_real_date_in_the_documented_format(
    client: httpx.Client, when: Any
) -> None:
    refused(create(client, {"Address": "1", "NextTry": when}), "NextTry")


def test_next_try_takes_a_leap_day_and_null_leaves_it_unset(client: httpx.Client) -> None:
    cid = new_id(client, {"Address": "1", "NextTry": "2028-02-29T23:59:59"})
    assert stored(client, cid)["NextTry"] == "2028-02-29T23:59:59"
    assert stored(client, new_id(client, {"Address": "2", "NextTry": None}))["NextTry"] is None


@pytest.mark.parametrize(
    ("form", "accepted", "refused_values"),
    [
        ("any", ["1", 1], ["1.5", "-1", "x", "", True, 1.0, "2147483648"]),
        ("string", ["1"], [1, "x"]),
        ("number", [1], ["1", 1.0]),
    ],
)
def test_priority_and_agent_id_follow_numeric_form(
    client: httpx.Client, form: str, accepted: list[Any], refused_values: list[Any]
) -> None:
    settings(client, numeric_form=form)
    for field in ("Priority", "AgentID"):
        for value in accepted:
            assert stored(client, new_id(client, {"Address": "1", field: value}))[field] == 1
        for value in refused_values:
            refused(create(client, {"Address": "1", field: value}), field)


@pytest.mark.parametrize(
    ("form", "accepted", "refused_types"),
    [
        ("both", [231, "231", "string"], ["varchar", "String", 232, True]),
        ("code", [231, "231"], ["string"]),
        ("name", ["string"], ["231", 231]),
    ],
)
def test_metadata_type_is_a_code_or_a_name_per_metadata_type_form(
    client: httpx.Client, form: str, accepted: list[Any], refused_types: list[Any]
) -> None:
    settings(client, metadata_type_form=form)
    for kind in accepted:
        cid = new_id(client, meta(kind, "v"))
        assert stored(client, cid)["Metadata"] == [{"Name": "X", "Type": "string", "Value": "v"}]
    for kind in refused_types:
        refused(create(client, meta(kind, "v")), "Type")


@pytest.mark.parametrize(
    ("kind", "value", "kept"),
    [
        ("56", "42", 42),
        ("int", -7, -7),
        ("int", "2147483647", 2147483647),
        ("61", "2026-02-28T00:00:00", "2026-02-28T00:00:00"),
        ("104", "true", True),
        ("boolean", "FALSE", False),
        ("boolean", "1", True),
        ("boolean", 0, False),
        ("boolean", True, True),
        ("string", "x", "x"),
        ("string", 5, "5"),
    ],
)
def test_metadata_values_are_converted_to_their_type(
    client: httpx.Client, kind: str, value: Any, kept: Any
) -> None:
    cid = new_id(client, meta(kind, value))
    assert stored(client, cid)["Metadata"][0]["Value"] == kept


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("int", "4.2"),
        ("int", "2147483648"),
        ("int", True),
        ("int", ""),
        ("datetime", "2026-02-31T00:00:00"),
        ("datetime", "2026-02-28"),
        ("boolean", "yes"),
        ("boolean", 2),
        ("boolean", 1.0),
        ("string", {"a": 1}),
    ],
)
def test_a_metadata_value_that_does_not_convert_is_refused(
    client: httpx.Client, kind: str, value: Any
) -> None:
    refused(create(client, meta(kind, value)), "Metadata 'X'")


def test_value_form_string_takes_only_string_values(client: httpx.Client) -> None:
    settings(client, value_form="string")
    refused(create(client, meta("int", 42)), "must be a string")
    refused(create(client, meta("boolean", True)), "must be a string")
    assert stored(client, new_id(client, meta("int", "42")))["Metadata"][0]["Value"] == 42


def test_a_defined_metadata_name_keeps_its_declared_type(client: httpx.Client) -> None:
    body = {"Address": "1", "Priority": 1, "AgentID": 1}
    refused(create(client, {**body, **meta("string", "5", "Amount")}, 486), "is a int field")
    new_id(client, {**body, **meta("56", "5", "Amount")}, 486)


def test_unknown_metadata_names_are_accepted_or_refused_per_setting(client: httpx.Client) -> None:
    new_id(client, meta("string", "v", "Nope"))
    settings(client, unknown_metadata="refuse")
    refused(create(client, meta("string", "v", "Nope")), "not defined for service 484")
    new_id(client, meta("string", "v", "URL"))
    client.put("/_admin/nubitalk/services/484", json={"metadata": {"Nope": "231"}})
    new_id(client, meta("string", "v", "Nope"))


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ({"Name": "X", "Type": "231"}, "{Name, Type, Value}"),
        ([{"Name": "X", "Type": "231"}], "{Name, Type, Value}"),
        ([{"Name": "", "Type": "231", "Value": "v"}], "Name"),
        (
            [
                {"Name": "X", "Type": "231", "Value": "a"},
                {"Name": "X", "Type": "231", "Value": "b"},
            ],
            "twice",
        ),
    ],
)
def test_malformed_metadata_is_refused(client: httpx.Client, metadata: Any, reason: str) -> None:
    refused(create(client, {"Address": "1", "Metadata": metadata}), reason)


def test_unknown_top_level_fields_are_ignored_or_refused(client: httpx.Client) -> None:
    cid = new_id(client, {"Address": "1", "Name": "Ann", "address": "2"})
    assert "Name" not in stored(client, cid) and stored(client, cid)["Address"] == "1"
    settings(client, unknown_fields="refuse")
    refused(create(client, {"Address": "1", "Name": "Ann"}), "unknown field(s): Name")


def test_address_is_a_non_empty_string_and_digits_only_under_address_form(
    client: httpx.Client,
) -> None:
    for bad in ("", "  ", 91112111):
        refused(create(client, {"Address": bad}), "Address")
    new_id(client, {"Address": "+35191112111"})
    settings(client, address_form="digits")
    refused(create(client, {"Address": "+35191112111"}), "digits only")
    new_id(client, {"Address": "35191112111"})


# -- admin ----------------------------------------------------------------------------


def test_admin_inserts_edits_and_deletes_contacts_by_hand(client: httpx.Client) -> None:
    base = "/_admin/nubitalk/contacts"
    made = client.post(base, json={"id": 5000, "service": 485, "Address": "9", "Metadata": [
        {"Name": "Odd", "Type": "whatever", "Value": 1}]})  # fmt: skip
    assert made.json() == {"id": 5000, "service": 485, "Address": "9", "Priority": None,
                           "NextTry": None, "AgentID": None,
                           "Metadata": [{"Name": "Odd", "Type": "whatever", "Value": 1}]}  # fmt: skip
    assert new_id(client, {"Address": "1"}) == 5001  # ids continue after a hand-made one
    assert client.post(base, json={"id": 5000, "service": 484}).status_code == 400
    assert client.post(base, json={"service": 999}).status_code == 400
    edited = client.put(
        f"{base}/5000",
        json={"service": 484, "Priority": 3, "Address": None,
              "Metadata": [{"Name": "Odd", "Type": "int", "Value": None}]},
    )  # fmt: skip
    assert edited.json()["Metadata"] == []
    assert (edited.json()["service"], edited.json()["Priority"], edited.json()["Address"]) == (
        484,
        3,
        None,
    )
    assert [c["id"] for c in client.get(base).json()] == [5000, 5001]
    assert client.delete(f"{base}/5000").json() == {"deleted": True}
    assert client.get(f"{base}/5000").status_code == 404
    assert client.delete(f"{base}/5000").status_code == 404


def test_admin_lists_and_configures_services(client: httpx.Client) -> None:
    base = "/_admin/nubitalk/services"
    assert [(s["id"], s["required"]) for s in client.get(base).json()] == [
        (484, ["Address"]),
        (485, ["Address", "Priority"]),
        (486, ["Address", "Priority", "AgentID"]),
    ]
    made = client.put(
        f"{base}/490", json={"name": "New", "required": ["Score"], "metadata": {"Score": 56}}
    )
    assert made.json() == {
        "id": 490,
        "name": "New",
        "required": ["Score"],
        "metadata": {"Score": "int"},
    }
    assert client.put(f"{base}/490", json={"metadata": {"B": "bit"}}).status_code == 400
    assert client.put(f"{base}/490", json={"required": ["Nope"]}).status_code == 400
    assert client.delete(f"{base}/490").json() == {"deleted": True}
    refused(create(client, {"Address": "1"}, 490), "no service", 404)
    client.post("/_admin/reset")
    assert len(client.get(base).json()) == 3


def test_settings_list_every_unknown_refuse_bad_values_and_reset(client: httpx.Client) -> None:
    url = "/_admin/nubitalk/settings"
    defaults = client.get(url).json()
    assert defaults["failure_status"] == 200 and defaults["duplicate_answer"] == "failure"
    assert len(defaults) == 15
    assert client.put(url, json={"failure_status": 418}).status_code == 400
    assert client.put(url, json={"update_mode": "merge"}).status_code == 400
    assert client.put(url, json={"require_content_type": "yes"}).status_code == 400
    settings(client, update_mode="full")
    client.post("/_admin/reset")
    assert client.get(url).json() == defaults
