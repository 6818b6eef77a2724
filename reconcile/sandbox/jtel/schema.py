"""A jtel dialler contact: its fields and limits, the emulator's settings, and its wire form.

The emulator stores every contact in one canonical form (`ID`, `bLocked`, every
field of the current release); `present` turns it into what the configured
jtel server would send, and `check_values` refuses what that server would
refuse. The settings are the points jtel's documentation leaves open.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from reconcile.sandbox.core import Settings

PHONES = tuple(f"PhoneNumber{i}" for i in range(1, 7))
# Text fields and their maximum lengths (None: unlimited), from jtel's import scheme.
LENGTHS: dict[str, int | None] = {
    "UserData": 64, "Client": 64, "Service": 64, "ReferenceNumber": 64, "Name": 64, "FirstName": 64,
    "Salutation": 16, "Title": 16, "Company": 64, "Address": 64, "PostalCode": 10, "City": 64,
    "Country": 64, "Region": 256, "AccountOwner": 64, "AccountBank": 32, "AccountNationalBankCode": 10,
    "AccountBIC": 11, "AccountNumber": 20, "AccountIBAN": 34, **dict.fromkeys(PHONES, 32), "FaxNumber": 32,
    "Email": 256, "Website": None, "Comment": None, "ReservedUsersUID": 32, "FollowUpUsersUID": 32,
    "Manufacturer": 64, "Model": 64, "Tag": 64, "ExternalSystemLink": 256,
}  # fmt: skip
NEWER_FIELDS = ("Region",)  # jtel documents Region for newer releases only
DATETIMES = ("FollowUpDateTime", "dtBeginDate", "dtEndDate")
WRITABLE = (*LENGTHS, *DATETIMES, "Amount")
COUNTERS = (
    *(f"nTriesPhoneNumber{i}" for i in range(1, 7)),
    *(f"nPhoneNumber{i}LastCause" for i in range(1, 7)),
    *(f"bPhoneNumber{i}Invalid" for i in range(1, 7)),
    *(f"PhoneNumber{i}LastAcdAgentEndReasonsID" for i in range(1, 7)),
    "dtNextTry", "bLastResultMailbox", "LastAcdAgentEndReasonsID", "ResultCodesID",
)  # fmt: skip
ID_KEYS = ("ID", "DiallerContactsID")
SERVER_MANAGED = (*ID_KEYS, "RandomSortOrder", "dtImported", "bLocked", *COUNTERS)
CAMPAIGN_KEYS = ("DiallerCampaignsID", "DiallerCampaignsName")
_DT = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")

Contact = dict[str, Any]


@dataclass(frozen=True)
class JtelSettings(Settings):
    """What jtel leaves open; the defaults are what reconcile assumes (README)."""

    campaign_filter: bool = True  # False: `?diallerCampaignsID=` is ignored (older releases)
    id_field: str = "ID"  # the id key records carry: ID, DiallerContactsID or both
    import_answer: str = "record"  # record | record_without_id | status_only
    update_route: str = "url_id"  # url_id: PUT .../contact/{id} too; body_only: PUT .../contact
    duplicates_scope: str = "campaign"  # what overwriteDuplicates=true matches UserData in
    null_handling: str = "clear"  # what a null in an update does: clear | ignore | reject
    lock_field: str = "bLocked"  # the lock's key in reads; "": reads do not show the lock
    release: str = "current"  # legacy: before 3.19, 32-character limits and no Region
    action_method: str = "both"  # lock/unlock/reset/history as GET, POST or both

    choices: ClassVar[dict[str, tuple[Any, ...]]] = {
        "id_field": ("ID", "DiallerContactsID", "both"),
        "import_answer": ("record", "record_without_id", "status_only"),
        "update_route": ("url_id", "body_only"),
        "duplicates_scope": ("campaign", "account", "account_stay"),
        "null_handling": ("clear", "ignore", "reject"),
        "release": ("current", "legacy"),
        "action_method": ("GET", "POST", "both"),
    }

    def __post_init__(self) -> None:
        taken = {*WRITABLE, *CAMPAIGN_KEYS, *SERVER_MANAGED} - {"bLocked"}
        if self.lock_field in taken:
            raise ValueError(f"lock_field {self.lock_field!r} is already a contact field")

    @property
    def id_keys(self) -> tuple[str, ...]:
        """The id keys records carry, and so the ones an update body may identify by."""
        return ID_KEYS if self.id_field == "both" else (self.id_field,)

    @property
    def action_methods(self) -> tuple[str, ...]:
        return ("GET", "POST") if self.action_method == "both" else (self.action_method,)

    @property
    def is_default_wire(self) -> bool:
        return self.id_field == "ID" and self.lock_field == "bLocked" and self.release == "current"


def present(c: Contact, s: JtelSettings, with_id: bool = True) -> Contact:
    """The contact as this server sends it: its id key(s), its lock field, its release's fields."""
    if with_id and s.is_default_wire:
        return c  # the stored form is the default wire form; big lists stay fast
    out = {k: v for k, v in c.items() if k not in ("ID", "bLocked")}
    if with_id:
        for key in s.id_keys:
            out[key] = c["ID"]
    if s.lock_field:
        out[s.lock_field] = c.get("bLocked")
    if s.release == "legacy":
        for k in NEWER_FIELDS:
            out.pop(k, None)
    return out


def limit(field: str, s: JtelSettings) -> int | None:
    """A text field's maximum length in this release (before 3.19: 32 where later is 64)."""
    n = LENGTHS[field]
    return 32 if s.release == "legacy" and n == 64 else n


def check_values(body: dict[str, Any], s: JtelSettings) -> str | None:
    """Why this server refuses the body's fields (a 400), or None."""
    known = {*WRITABLE, *SERVER_MANAGED, *CAMPAIGN_KEYS, s.lock_field} - {""}
    if s.release == "legacy":
        known -= set(NEWER_FIELDS)
    unknown = sorted(set(body) - known)
    if unknown:
        return f"Unknown field(s): {', '.join(unknown)}"
    for k in LENGTHS:
        v = body.get(k)
        if v is None:
            continue
        if not isinstance(v, str):
            return f"{k} must be a string"
        n = limit(k, s)
        if n is not None and len(v) > n:
            return f"{k} is longer than {n} characters"
    for k in DATETIMES:
        v = body.get(k)
        if v is not None and (not isinstance(v, str) or not _DT.match(v)):
            return f"{k} must be a datetime YYYY-MM-DDTHH:mm:ss"
    a = body.get("Amount")
    if a is not None and (isinstance(a, bool) or not isinstance(a, int | float)):
        return "Amount must be a number"
    return None


def writable(body: dict[str, Any]) -> dict[str, Any]:
    """The writable fields sent; server-managed ones in a body are ignored, as jtel does."""
    return {k: body[k] for k in WRITABLE if k in body}


def stored(data: dict[str, Any]) -> dict[str, Any]:
    """Writable values as jtel keeps them: Amount is always a number."""
    if "Amount" in data:
        return {**data, "Amount": float(data["Amount"] or 0.0)}
    return data


def now(delta: dt.timedelta | None = None) -> str:
    return (dt.datetime.now() + (delta or dt.timedelta())).strftime("%Y-%m-%dT%H:%M:%S")


def blank_counters(c: Contact) -> None:
    """What reset does: the contact is dialled as if it had just been imported."""
    for i in range(1, 7):
        c[f"nTriesPhoneNumber{i}"] = 0
        c[f"nPhoneNumber{i}LastCause"] = None
        c[f"bPhoneNumber{i}Invalid"] = False
        c[f"PhoneNumber{i}LastAcdAgentEndReasonsID"] = None
    c.update(
        dtNextTry=None, bLastResultMailbox=False, LastAcdAgentEndReasonsID=None, ResultCodesID=None
    )
