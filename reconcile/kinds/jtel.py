"""`jtel/dialler-contacts`: contacts of one jtel dialler campaign, keyed by UserData."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconcile.kinds import KindSpec, register
from reconcile.kinds.rules import check_datetime, check_e164, check_email
from reconcile.model import Action

PHONES = tuple(f"PhoneNumber{i}" for i in range(1, 7))

# Writable fields and their maximum lengths (jtel's import scheme; None = unlimited).
LENGTHS: Mapping[str, int | None] = {
    "UserData": 64, "Client": 64, "Service": 64, "ReferenceNumber": 64, "Name": 64,
    "FirstName": 64, "Salutation": 16, "Title": 16, "Company": 64, "Address": 64,
    "PostalCode": 10, "City": 64, "Country": 64, "Region": 256, "AccountOwner": 64,
    "AccountBank": 32, "AccountNationalBankCode": 10, "AccountBIC": 11, "AccountNumber": 20,
    "AccountIBAN": 34, **{p: 32 for p in PHONES}, "FaxNumber": 32, "Email": 256,
    "Website": None, "Comment": None, "ReservedUsersUID": 32, "FollowUpUsersUID": 32,
    "Manufacturer": 64, "Model": 64, "Tag": 64, "ExternalSystemLink": 256,
}  # fmt: skip
DATETIMES = ("FollowUpDateTime", "dtBeginDate", "dtEndDate")
NUMBERS = ("Amount",)
WRITABLE = (*LENGTHS, *DATETIMES, *NUMBERS)

# Fields the dialler changes as it works; never managed, never drift.
SERVER_MANAGED = frozenset(
    {
        "ID", "DiallerContactsID", "DiallerCampaignsID", "ClientsID", "dtImported", "dtNextTry",
        "bLastResultMailbox", "LastAcdAgentEndReasonsID", "ResultCodesID", "ResultCodesExportKey",
        "bLocked", "RandomSortOrder",
        *(f"nTriesPhoneNumber{i}" for i in range(1, 7)),
        *(f"nPhoneNumber{i}LastCause" for i in range(1, 7)),
        *(f"bPhoneNumber{i}Invalid" for i in range(1, 7)),
        *(f"PhoneNumber{i}LastAcdAgentEndReasonsID" for i in range(1, 7)),
    }
)  # fmt: skip


def _string(n: int | None) -> dict[str, Any]:
    s: dict[str, Any] = {"type": ["string", "null"]}
    if n is not None:
        s["maxLength"] = n
    return s


ITEM_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["UserData", "Name"],
    "additionalProperties": False,
    "properties": {
        **{k: _string(n) for k, n in LENGTHS.items()},
        "UserData": {"type": "string", "minLength": 1, "maxLength": 64},
        "Name": {"type": "string", "minLength": 1, "maxLength": 64},
        **{k: {"type": ["string", "null"]} for k in DATETIMES},
        "Amount": {"type": ["number", "null"]},
        "locked": {"type": "boolean"},
        "reset_token": {"type": ["string", "integer"]},
    },
}

SCOPE_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "name": {"type": "string", "minLength": 1},
    },
}


def check_item(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not any(item.get(p) for p in PHONES):
        out.append(("Name", "a dialler contact needs at least one of PhoneNumber1..PhoneNumber6"))
    for p in (*PHONES, "FaxNumber"):
        out += check_e164(p, item.get(p))
    out += check_email("Email", item.get("Email"))
    for d in DATETIMES:
        out += check_datetime(d, item.get(d))
    for name, value in item.items():
        if value == "" and name not in ("UserData", "Name"):
            out.append(
                (
                    name,
                    "write null (or leave the field out) for an empty value: jtel reads do not tell an empty text from a missing one",
                )
            )
    return out


def check_collection(items: Sequence[Mapping[str, Any]]) -> list[tuple[int, str, str]]:
    return []


LEGACY_LIMIT = 32  # releases before 3.19 used 32 where later ones use 64


def check_with_settings(
    item: Mapping[str, Any], settings: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """`release: legacy`: the limits of releases before 3.19 (which have no Region)."""
    if settings.get("release", "current") != "legacy":
        return []
    out: list[tuple[str, str]] = []
    for name, value in item.items():
        if name == "Region":
            out.append((name, "jtel releases before 3.19 (release: legacy) have no Region field"))
        elif LENGTHS.get(name) == 64 and isinstance(value, str) and len(value) > LEGACY_LIMIT:
            out.append(
                (
                    name,
                    f"{len(value)} characters; jtel releases before 3.19 (release: legacy) take at most {LEGACY_LIMIT}",
                )
            )
    return out


def check_across(colls: Sequence[Any], settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """`duplicates_scope: account`: an import matches UserData across the whole account, so
    one UserData declared in two campaigns would overwrite (or move) one contact twice."""
    if settings.get("duplicates_scope", "campaign") != "account":
        return []
    first: dict[str, tuple[str, str]] = {}  # UserData -> (origin, campaign)
    out: list[tuple[str, str]] = []
    for c in colls:
        for d in c.items:
            seen = first.get(d.key)
            if seen is None:
                first[d.key] = (d.origin, c.scope)
            elif seen[1] != c.scope:
                out.append(
                    (
                        d.origin,
                        f"UserData {d.key!r} is also declared in campaign {seen[1]!r} at {seen[0]}; with "
                        f"duplicates_scope: account, jtel matches UserData across the account, so the two "
                        "would overwrite one contact",
                    )
                )
    return out


DIALLER_CONTACTS = register(
    KindSpec(
        name="jtel/dialler-contacts",
        key_field="UserData",
        item_schema=ITEM_SCHEMA,
        scope_field="campaign",
        scope_schema=SCOPE_SCHEMA,
        toggles={"locked": (Action.LOCK, Action.UNLOCK)},
        triggers={"reset_token": Action.RESET},
        dialable_fields=tuple(f"PhoneNumber{i}" for i in range(1, 7)),
        dialable_unless="locked",
        personal_fields=frozenset(
            {
                "Name",
                "FirstName",
                "Address",
                "Email",
                "AccountIBAN",
                "AccountNumber",
                "FaxNumber",
                *PHONES,
            }
        ),
        check_item=check_item,
        check_collection=check_collection,
        check_with_settings=check_with_settings,
        check_across=check_across,
    )
)
