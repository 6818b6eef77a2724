"""What CIOPulse sends back: the emulator's settings, the contact read shapes, support groups.

CIOPulse documents no contact read shape (its page shows the support-groups
body instead), nor the status of a refused delete: each is a setting, with
reconcile's assumption as the default. Support groups follow the documented
body exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from reconcile.sandbox.core import Settings

FIELDS = ("first_name", "last_name", "email", "job_title", "mobile")
ALSO_ALERTS = 6  # a support group's Also_Alert_1..6

Record = dict[str, str | None]


@dataclass(frozen=True)
class CiopulseSettings(Settings):
    """What CIOPulse leaves open; the defaults are what reconcile assumes (README)."""

    read_shape: str = "wrapped"  # GET (and PUT answers): wrapped | flat | list | data
    read_key_case: str = "pascal"  # Contact_System_ID, First_Name... or system_id, first_name...
    portal_system_id: str = (
        "null"  # a Portal-made contact's system id in reads: null | absent | empty
    )
    refused_delete_status: int = 422  # deleting a support group's lead or also-alert

    choices: ClassVar[dict[str, tuple[Any, ...]]] = {
        "read_shape": ("wrapped", "flat", "list", "data"),
        "read_key_case": ("pascal", "snake"),
        "portal_system_id": ("null", "absent", "empty"),
        "refused_delete_status": (400, 409, 422),
    }


_PASCAL = {
    "system_id": "Contact_System_ID",
    "first_name": "First_Name",
    "last_name": "Last_Name",
    "email": "Email",
    "job_title": "Job_Title",
    "mobile": "Mobile",
}


def contact(system_id: str | None, c: Record, s: CiopulseSettings) -> dict[str, Any]:
    """One contact as read; `system_id` None is a contact made in the Portal, which has none."""
    if system_id is None:
        return contact_list([], [c], s)[0]
    return contact_list([(system_id, c)], [], s)[0]


def contact_list(
    contacts: Iterable[tuple[str, Record]], portal: Iterable[Record], s: CiopulseSettings
) -> list[dict[str, Any]]:
    """Contacts (system id, record) and then Portal-made ones as read, each as `contact` says.

    The settings are looked at once and each item is built in one step, not built and then
    renamed: the read of all contacts builds 100,000 of them (0.31 s -> 0.22 s)."""
    keys = _read_keys(("system_id", *FIELDS), s)
    items = [dict(zip(keys, (sid, *map(c.get, FIELDS)), strict=True)) for sid, c in contacts]
    if s.portal_system_id == "absent":
        portal_keys = _read_keys(FIELDS, s)
        items += [dict(zip(portal_keys, map(c.get, FIELDS), strict=True)) for c in portal]
    else:
        no_id = None if s.portal_system_id == "null" else ""
        items += [dict(zip(keys, (no_id, *map(c.get, FIELDS)), strict=True)) for c in portal]
    return [{"contact": f} for f in items] if s.read_shape == "wrapped" else items


def _read_keys(names: tuple[str, ...], s: CiopulseSettings) -> tuple[str, ...]:
    return tuple(_PASCAL[k] for k in names) if s.read_key_case == "pascal" else names


def contacts(items: list[dict[str, Any]], s: CiopulseSettings) -> Any:
    """The body around contacts, for GET all, GET one and PUT's answer alike."""
    if s.read_shape == "list":
        return items
    if s.read_shape == "data":
        return {"data": items}
    return {"contacts": items}


@dataclass
class SupportGroup:
    """A support group as the Portal holds it: its lead and up to six also-alerts, by system id."""

    name: str
    code: str | None
    lead: str | None
    also_alert: list[str]
    department_code: str | None = None
    department_system_id: str | None = None

    @classmethod
    def from_admin(cls, gid: str, body: Any) -> SupportGroup:
        if not isinstance(body, dict):
            raise ValueError('a support group is {"lead": id, "also_alert": [ids], "name": ...}')
        also = body.get("also_alert") or []
        if not isinstance(also, list) or len(also) > ALSO_ALERTS:
            raise ValueError(f"also_alert must be a list of at most {ALSO_ALERTS} system ids")
        return cls(
            name=str(body.get("name") or gid),
            code=body.get("code"),
            lead=body.get("lead"),
            also_alert=[str(a) for a in also],
            department_code=body.get("department_code"),
            department_system_id=body.get("department_system_id"),
        )

    def members(self) -> list[tuple[str, str]]:
        """(role, system id) of every contact the group points to."""
        roles = [("Support Lead", self.lead)] if self.lead else []
        return roles + [("Also Alert", a) for a in self.also_alert]

    def to_admin(self) -> dict[str, Any]:
        return {"lead": self.lead, "also_alert": list(self.also_alert), "name": self.name}

    def wire(self, gid: str, email_of: Callable[[str | None], str | None]) -> dict[str, Any]:
        """The documented `{"support_group": {...}}` item; e-mails are the contacts' current ones."""
        g: dict[str, Any] = {
            "Support_Group_System_ID": gid,
            "Support_Group_Name": self.name,
            "Support_Group_Code": self.code,
            "Department_Code": self.department_code,
            "Department_System_ID": self.department_system_id,
            "Support_Lead_Email": email_of(self.lead),
            "Support_Lead_System_ID": self.lead,
        }
        for i in range(ALSO_ALERTS):
            sid = self.also_alert[i] if i < len(self.also_alert) else None
            g[f"Also_Alert_{i + 1}_Email"] = email_of(sid)
            g[f"Also_Alert_{i + 1}_System_ID"] = sid
        g.update(Active="Y", CCS_Only="N", Exclude_From_NPS="N")
        return {"support_group": g}
