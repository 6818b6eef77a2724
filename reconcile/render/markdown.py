"""Plans and drift as markdown for a pull-request comment or an issue body.

Summary counts come first, then one collapsible section per collection. The whole
text stays under GitHub's 65,536-character limit for a comment: rows that do not fit
are cut, and a note says how many were left out, from which collections, and where the
full report is. The first line is a hidden marker, so a CI job finds and updates its own
comment instead of adding one on every push.
"""

from __future__ import annotations

import json
from typing import Any

from reconcile.masking import Masker
from reconcile.model import DriftReport, Plan
from reconcile.render.report import Report, Row, counts_phrase, drift_report, plan_report

COMMENT_LIMIT = 65_536  # GitHub's limit on an issue or pull-request comment body, in characters
PLAN_MARKER = "<!-- reconcile:plan -->"
DRIFT_MARKER = "<!-- reconcile:drift -->"
DEFAULT_FULL = "the JSON report (`--format json`, or `reconcile show PLANFILE --format json`)"


def _cell(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False)
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def _row(r: Row) -> str:
    addr = "`" + r.address.replace("|", "\\|") + "`"
    if not r.has_values:
        return f"| {r.label} | {addr} | {r.note.replace('|', '/')} | | |"
    return f"| {r.label} | {addr} | {r.field} | {_cell(r.before)} | {_cell(r.after)} |"


def render(report: Report, limit: int = COMMENT_LIMIT, full: str | None = None) -> str:
    """The report in at most `limit` characters."""
    marker = PLAN_MARKER if report.what == "plan" else DRIFT_MARKER
    head = [marker, f"### reconcile {report.what}", ""]
    if report.sections:
        head.append(f"**{counts_phrase(report.totals, report.labels, report.what)}**.")
    else:
        head.append(report.empty_text)
    head.append("")
    used = [a for a in report.labels if any(s.counts.get(a) for s in report.sections)]
    if report.sections:
        head.append("| collection | " + " | ".join(a.replace("_", " ") for a in used) + " |")
        head.append("|---|" + "---:|" * len(used))
        for s in report.sections:
            head.append(
                f"| `{s.name}` | " + " | ".join(str(s.counts.get(a, 0)) for a in used) + " |"
            )
        head.append("")
    for level, message in report.notices:
        head.append(f"> **{level}:** {message}")
    if report.notices:
        head.append("")
    foot = [
        "",
        "<sub>Personal data is masked (`#hash` tells entries apart); run with --show-values "
        "where every reader may see it.</sub>"
        if report.masked
        else "<sub>**Personal data is shown unmasked** (--show-values): keep this report "
        "where only those allowed may read it.</sub>",
    ]
    # Room kept for the note on what was cut; the note names at most a few collections.
    reserve = 1200
    budget = limit - len("\n".join(head + foot)) - reserve
    body: list[str] = []
    size = 0
    shown = 0
    cut: list[str] = []
    for s in report.sections:
        opening = [
            "",
            f"<details><summary><code>{s.name}</code>: "
            f"{counts_phrase(s.counts, report.labels, report.what)}</summary>",
            "",
            "| | address | field | before | after |",
            "|---|---|---|---|---|",
        ]
        closing = ["", "</details>"]
        cost = sum(len(x) + 1 for x in opening + closing)
        if cut or size + cost > budget:
            cut.append(s.name)
            continue
        rows: list[str] = []
        rows_size = 0
        for i, r in enumerate(s.rows):
            line = _row(r)
            if size + cost + rows_size + len(line) + 1 > budget:
                cut.append(s.name)
                rows.append(f"| | … {len(s.rows) - i} more row(s) cut here | | | |")
                break
            rows.append(line)
            rows_size += len(line) + 1
            shown += 1
        body += opening + rows + closing
        size += cost + rows_size
    note: list[str] = []
    if cut:
        total = sum(len(s.rows) for s in report.sections)
        names = ", ".join(f"`{n}`" for n in cut[:5]) + (
            f" and {len(cut) - 5} more" if len(cut) > 5 else ""
        )
        note = [
            "",
            f"> **Cut:** this report shows {shown} of {total} rows, to stay under the "
            f"{limit:,}-character limit of a comment. Not shown in full: {names}. "
            f"The full report is {full or DEFAULT_FULL}.",
        ]
    return "\n".join(head + body + note + foot) + "\n"


def plan_markdown(
    plan: Plan, masker: Masker, limit: int = COMMENT_LIMIT, full: str | None = None
) -> str:
    return render(plan_report(plan, masker), limit, full)


def drift_markdown(
    report: DriftReport, masker: Masker, limit: int = COMMENT_LIMIT, full: str | None = None
) -> str:
    return render(drift_report(report, masker), limit, full)
