"""Plans and drift as markdown for pull-request comments; personal data masked by default."""

from __future__ import annotations

import json
from typing import Any

from reconcile import kinds
from reconcile.masking import mask, mask_in_text, mask_key
from reconcile.model import DriftClass, DriftReport, Plan
from reconcile.render.notes import estimate_note, upcoming_note

_MAX_ROWS = 500


def _cell(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False)
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _shown(kind: str, name: str, v: Any, key: str, show: bool) -> str:
    spec = kinds.get(kind)
    # `Metadata.Score` is masked when `Metadata` is personal.
    if not show and spec is not None and name.split(".", 1)[0] in spec.personal_fields:
        return _cell(mask(v, key))
    return _cell(v)


def _addr(address: str, key: str, show: bool) -> str:
    if show:
        return address
    head, _, last = address.rpartition("/")
    return f"{head}/{mask_key(last, key)}"


def plan_markdown(plan: Plan, show_values: bool = False) -> str:
    key = plan.lineage
    s = plan.summary()
    counts = ", ".join(f"**{n}** to {a}" for a, n in s.items() if n) or "no changes"
    out = ["### reconcile plan", "", f"{counts}.", ""]

    def said(text: str) -> str:
        return text if show_values else mask_in_text(text, key)

    for e in plan.errors:
        out.append(f"> **Error:** {said(e)}")
    for g in plan.guards:
        out.append(
            f"> **Safety:** {said(g.message)}; apply needs `--allow-delete {g.collection}` (or `--force`)"
        )
    for w in plan.warnings:
        out.append(f"> **Warning:** {said(w)}")
    for u in plan.unobservable:
        out.append(
            f"> **Note:** {u} cannot be read from the vendor; planned against the state only."
        )
    if plan.estimate is not None and plan.estimate.total:
        out.append(f"> **Estimate:** {estimate_note(plan.estimate)}.")
    for up in plan.upcoming:
        shown = _addr(up.address, key, show_values)
        out.append(f"> **Note:** {upcoming_note(shown, up.event, up.when)}")
    if plan.changes:
        out += [
            "",
            "<details><summary>Changes</summary>",
            "",
            "| | address | field | before | after |",
            "|---|---|---|---|---|",
        ]
        rows = 0
        for c in plan.changes:
            addr = _addr(c.address, key, show_values)
            if not c.fields:
                out.append(f"| {c.action.symbol} {c.action.value} | `{addr}` | | | |")
                rows += 1
            for f in c.fields:
                before = _shown(c.kind, f.name, f.before, key, show_values)
                after = _shown(c.kind, f.name, f.after, key, show_values)
                out.append(
                    f"| {c.action.symbol} {c.action.value} | `{addr}` | {f.name} | {before} | {after} |"
                )
                rows += 1
            if rows >= _MAX_ROWS:
                out.append(
                    f"| | … {len(plan.changes)} changes in all; see the JSON plan for the rest | | | |"
                )
                break
        out += ["", "</details>"]
    if not show_values:
        out += [
            "",
            "<sub>Personal data is masked (`#hash` tells entries apart); run with --show-values where readers may see it.</sub>",
        ]
    return "\n".join(out) + "\n"


def drift_markdown(report: DriftReport, show_values: bool = False, key: str = "") -> str:
    s = report.summary()
    out = ["### reconcile drift", ""]
    if report.drift:
        out.append(
            f"**{s['changed_outside']}** changed outside, **{s['pending']}** pending, **{s['unmanaged']}** unmanaged."
        )
    elif report.unobservable:
        out.append(
            f"Nothing drifted where reconcile can look; **{len(report.unobservable)}** collection(s) unobservable."
        )
    else:
        out.append("No drift.")
    for u in report.unobservable:
        out.append(f"> **Unobservable:** {u}")
    for w in report.warnings:
        out.append(f"> **Warning:** {w}")
    if report.drift:
        out += ["", "| class | address | field | before | after |", "|---|---|---|---|---|"]
        for d in report.drift:
            addr = _addr(d.address, key, show_values)
            if not d.fields:
                out.append(f"| {d.drift_class.value} | `{addr}` | {d.detail} | | |")
            for f in d.fields:
                masked = not show_values and d.drift_class is not DriftClass.UNMANAGED
                b = _cell(mask(f.before, key)) if masked else _cell(f.before)
                a = _cell(mask(f.after, key)) if masked else _cell(f.after)
                out.append(f"| {d.drift_class.value} | `{addr}` | {f.name} | {b} | {a} |")
    return "\n".join(out) + "\n"
