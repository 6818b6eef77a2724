"""Plots of the scale sweep (not a test): time and memory against record count, log-log.

    pip install -e '.[bench]'    # matplotlib: only here, never a runtime dependency
    python benchmarks/plot.py benchmarks/results/scale.json benchmarks/results/octodns.json

Writes benchmarks/scale-time.png and benchmarks/scale-memory.png: reconcile's no-op plan
and 1% change plan (the range of the runs of each size), with octoDNS's no-op plan of as
many records (from octodns_compare.py) beside them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).parent


def series(sizes: list[dict[str, Any]], pick: str, metric: str) -> tuple[list[int], list[float], list[float], list[float]]:  # fmt: skip
    xs, lo, hi, mid = [], [], [], []
    for s in sizes:
        runs = s[pick] if isinstance(s[pick], list) else [s[pick]]
        values = sorted(r[metric] for r in runs)
        xs.append(s["records"])
        lo.append(values[0])
        hi.append(values[-1])
        mid.append(values[len(values) // 2])
    return xs, lo, hi, mid


def plot(metric: str, label: str, name: str, scale: dict[str, Any], octo: dict[str, Any] | None) -> None:  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 5))
    lines = [("noop", "reconcile: no-op plan", "o-"), ("change_1pct", "reconcile: 1% change plan", "s-")]  # fmt: skip
    for pick, text, style in lines:
        xs, lo, hi, mid = series(scale["sizes"], pick, metric)
        ax.plot(xs, mid, style, label=text)
        ax.fill_between(xs, lo, hi, alpha=0.2)
    if octo:
        xs, lo, hi, mid = series(octo["sizes"], "octodns", metric)
        ax.plot(xs, mid, "^--", color="grey", label=f"octoDNS {octo.get('octodns', '')}: no-op plan (YAML to YAML)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("records")
    ax.set_ylabel(label)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(f"{label} against records ({scale.get('cpu_count')} cores, Python {scale.get('python')})")  # fmt: skip
    fig.tight_layout()
    fig.savefig(HERE / name, dpi=110)


def main() -> None:
    scale = json.loads(Path(sys.argv[1]).read_text())
    octo = json.loads(Path(sys.argv[2]).read_text()) if len(sys.argv) > 2 else None
    plot("wall_s", "wall time (s)", "scale-time.png", scale, octo)
    plot("peak_rss_mb", "peak RSS (MB)", "scale-memory.png", scale, octo)


if __name__ == "__main__":
    main()
