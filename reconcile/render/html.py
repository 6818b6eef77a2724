"""Plans and drift as one self-contained HTML file for a CI artifact.

Counts per collection, a bar chart of them (inline SVG) and one table of every row that
a little inline script filters by text, action and collection. Nothing is loaded from
anywhere: a Content-Security-Policy forbids every fetch, so the file opens offline.
Masked exactly like markdown.
"""

from __future__ import annotations

import html
import json
from typing import Any

from reconcile.masking import Masker
from reconcile.model import DriftReport, Plan
from reconcile.render.report import Report, counts_phrase, drift_report, plan_report

_COLOURS = {
    "create": "#2da44e", "adopt": "#1f9fb4", "update": "#d4a72c", "delete": "#cf222e",
    "forget": "#8250df", "lock": "#0969da", "unlock": "#0969da", "reset": "#0969da",
    "move": "#1f9fb4", "changed_outside": "#cf222e", "pending": "#d4a72c",
    "unmanaged": "#8250df",
}  # fmt: skip

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2328}
h1{font-size:1.4em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #d0d7de;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right}code{font-size:90%}
.notice{border-left:4px solid #d4a72c;padding:.2em .8em;margin:.3em 0;background:#fff8c5}
.controls{margin:1em 0}.controls input{width:24em}.masked{color:#57606a;font-size:90%}
tr.hidden{display:none}.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
"""

_SCRIPT = """
(function(){
  var q=document.getElementById('q'),a=document.getElementById('action'),
      c=document.getElementById('collection'),n=document.getElementById('shown');
  var rows=document.querySelectorAll('#rows tbody tr');
  function apply(){
    var text=q.value.toLowerCase(),act=a.value,col=c.value,shown=0;
    for(var i=0;i<rows.length;i++){
      var r=rows[i],ok=(!act||r.dataset.label===act)&&(!col||r.dataset.collection===col)
        &&(!text||r.textContent.toLowerCase().indexOf(text)>=0);
      r.className=ok?'':'hidden';if(ok)shown++;
    }
    n.textContent=shown;
  }
  q.addEventListener('input',apply);a.addEventListener('change',apply);
  c.addEventListener('change',apply);apply();
  document.body.dataset.ready='1';
})();
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _v(value: Any) -> str:
    return _e(json.dumps(value, ensure_ascii=False))


def _chart(report: Report, used: list[str]) -> str:
    """Stacked horizontal bars: one per collection, one colour per action or class."""
    bar_h, gap, label_w, width = 22, 8, 260, 420
    most = max((s.items for s in report.sections), default=0) or 1
    height = len(report.sections) * (bar_h + gap) + gap
    parts = [
        f'<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{label_w + width + 80}" '
        f'height="{height}" role="img" aria-label="changes per collection">'
    ]
    for i, s in enumerate(report.sections):
        y = gap + i * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" text-anchor="end" '
            f'font-size="12">{_e(s.name)}</text>'
        )
        x = float(label_w)
        for a in used:
            n = s.counts.get(a, 0)
            if not n:
                continue
            w = max(1.0, width * n / most)
            parts.append(
                f'<rect class="bar" data-label="{a}" data-collection="{_e(s.name)}" '
                f'x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{_COLOURS.get(a, "#57606a")}"><title>{_e(s.name)}: {n} {a}</title></rect>'
            )
            x += w
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + bar_h * 0.7:.1f}" font-size="12">{s.items}</text>'
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{_COLOURS.get(a, "#57606a")}"></i>{_e(a)}</span>' for a in used
    )
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def render(report: Report) -> str:
    used = [a for a in report.labels if any(s.counts.get(a) for s in report.sections)]
    title = f"reconcile {report.what}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No network: every fetch is forbidden, only the inline style and script run.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<p id="summary"><strong>{_e(counts_phrase(report.totals, report.labels, report.what))}'
        "</strong></p>"
        if report.sections
        else f'<p id="summary">{_e(report.empty_text)}</p>',
    ]
    for level, message in report.notices:
        out.append(f'<div class="notice"><strong>{_e(level)}:</strong> {_e(message)}</div>')
    if report.sections:
        out.append('<table id="counts"><thead><tr><th>collection</th>')
        out += [f"<th>{_e(a.replace('_', ' '))}</th>" for a in used]
        out.append("<th>total</th></tr></thead><tbody>")
        for s in report.sections:
            cells = "".join(f'<td class="n">{s.counts.get(a, 0)}</td>' for a in used)
            out.append(
                f'<tr><td><code>{_e(s.name)}</code></td>{cells}<td class="n">{s.items}</td></tr>'
            )
        out.append("</tbody></table>")
        out.append(_chart(report, used))
        options = "".join(f'<option value="{a}">{_e(a)}</option>' for a in used)
        colls = "".join(
            f'<option value="{_e(s.name)}">{_e(s.name)}</option>' for s in report.sections
        )
        out.append(
            '<div class="controls"><input id="q" type="search" placeholder="filter: address, field, value">'
            f' <select id="action"><option value="">every {"action" if report.what == "plan" else "class"}'
            f"</option>{options}</select>"
            f' <select id="collection"><option value="">every collection</option>{colls}</select>'
            f' <span id="shown"></span> of {sum(len(s.rows) for s in report.sections)} rows shown</div>'
        )
        out.append(
            '<table id="rows"><thead><tr><th></th><th>address</th><th>field</th><th>before</th>'
            "<th>after</th></tr></thead><tbody>"
        )
        for s in report.sections:
            col = _e(s.name)
            for r in s.rows:
                cells = (
                    f"<td>{_e(r.field)}</td><td><code>{_v(r.before)}</code></td><td><code>{_v(r.after)}</code></td>"
                    if r.has_values
                    else f'<td colspan="3">{_e(r.note)}</td>'
                )
                out.append(
                    f'<tr data-label="{r.label}" data-collection="{col}"><td>{_e(r.label)}</td>'
                    f"<td><code>{_e(r.address)}</code></td>{cells}</tr>"
                )
        out.append("</tbody></table>")
    out.append(
        '<p class="masked">Personal data is masked (#hash tells entries apart); '
        "--show-values shows it.</p>"
        if report.masked
        else '<p class="masked"><strong>Personal data is shown unmasked</strong> '
        "(--show-values): keep this file where only those allowed may read it.</p>"
    )
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"


def plan_html(plan: Plan, masker: Masker) -> str:
    return render(plan_report(plan, masker))


def drift_html(report: DriftReport, masker: Masker) -> str:
    return render(drift_report(report, masker))
