"""A plan or drift report as rows grouped by collection, masked once, for markdown and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconcile.masking import Masker
from reconcile.model import Action, DriftClass, DriftReport, Plan
from reconcile.render.notes import estimate_note, upcoming_note


@dataclass(frozen=True, slots=True)
class Row:
    label: str  # the action (plan) or the drift class
    address: str
    field: str = ""
    before: Any = None
    after: Any = None
    note: str = ""  # a change or drift with no field rows: why it is listed
    has_values: bool = False  # before/after are meaningful (else the cells stay empty)


@dataclass
class Section:
    """One collection (its address prefix) and what the report lists in it."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    items: int = 0  # changes or drift entries (a change may span several rows)


@dataclass
class Report:
    what: str  # "plan" or "drift"
    labels: tuple[str, ...]  # every action or class, in display order
    totals: dict[str, int]
    notices: list[tuple[str, str]]  # (Error|Safety|Warning|Note, message), masked
    sections: list[Section]
    masked: bool
    empty_text: str

    @property
    def items(self) -> int:
        return sum(s.items for s in self.sections)


def collection_of(address: str) -> str:
    """The collection prefix of an address (keys are escaped, so the last `/` ends it)."""
    return address.rpartition("/")[0]


def _section(sections: dict[str, Section], name: str) -> Section:
    if name not in sections:
        sections[name] = Section(name)
    return sections[name]


def plan_report(plan: Plan, m: Masker) -> Report:
    sections: dict[str, Section] = {}
    for c in plan.changes:
        s = _section(sections, collection_of(c.address))
        s.counts[c.action.value] = s.counts.get(c.action.value, 0) + 1
        s.items += 1
        addr = m.addr(c.address)
        if not c.fields:
            note = f"state address was {m.addr(c.moved_from)}" if c.moved_from else ""
            s.rows.append(Row(c.action.value, addr, note=note))
        for f in c.fields:
            before = None if c.action is Action.CREATE else m.field(c.kind, f.name, f.before)
            s.rows.append(
                Row(
                    c.action.value, addr, f.name, before, m.field(c.kind, f.name, f.after),
                    has_values=True,
                )
            )  # fmt: skip
    notices = [("Error", m.text(e)) for e in plan.errors]
    notices += [
        (
            "Safety",
            f"{m.text(g.message)}; apply needs --allow-delete {g.collection} (or --force)",
        )
        for g in plan.guards
    ]
    notices += [("Warning", m.text(w)) for w in plan.warnings]
    notices += [
        ("Note", f"{u} cannot be read from the vendor; planned against the state only")
        for u in plan.unobservable
    ]
    if plan.estimate is not None and plan.estimate.total:
        notices.append(("Estimate", estimate_note(plan.estimate)))
    notices += [("Note", upcoming_note(m.addr(u.address), u.event, u.when)) for u in plan.upcoming]
    return Report(
        "plan",
        tuple(a.value for a in Action),
        plan.summary(),
        notices,
        sorted(sections.values(), key=lambda s: s.name),
        m.on,
        "No changes: the vendors hold what the manifests declare."
        if not plan.errors
        else "No changes can be planned until the errors above are fixed.",
    )


def drift_report(report: DriftReport, m: Masker) -> Report:
    sections: dict[str, Section] = {}
    for d in report.drift:
        s = _section(sections, d.collection or collection_of(d.address))
        cls = d.drift_class.value
        s.counts[cls] = s.counts.get(cls, 0) + 1
        s.items += 1
        addr = m.addr(d.address)
        if not d.fields:
            s.rows.append(Row(cls, addr, note=d.detail))
        for f in d.fields:
            s.rows.append(
                Row(
                    cls, addr, f.name, m.field(d.kind, f.name, f.before),
                    m.field(d.kind, f.name, f.after), d.detail, has_values=True,
                )
            )  # fmt: skip
    notices = [("Unobservable", u) for u in report.unobservable]
    notices += [("Warning", m.text(w)) for w in report.warnings]
    empty = (
        f"Nothing drifted where reconcile can look; {len(report.unobservable)} collection(s) "
        "cannot be observed: their drift is unknown."
        if report.unobservable
        else "No drift: every readable vendor holds what was last applied and declared."
    )
    return Report(
        "drift",
        tuple(c.value for c in DriftClass),
        report.summary(),
        notices,
        sorted(sections.values(), key=lambda s: s.name),
        m.on,
        empty,
    )


def counts_phrase(counts: dict[str, int], labels: tuple[str, ...], what: str) -> str:
    verb = "to " if what == "plan" else ""
    parts = [f"{counts[a]} {verb}{a.replace('_', ' ')}" for a in labels if counts.get(a)]
    return ", ".join(parts) or ("no changes" if what == "plan" else "no drift")
