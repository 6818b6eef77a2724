"""How many vendor calls a plan's apply makes, and about how long it takes.

One call per change, or per batch for vendors that take many changes in one
request (batches are formed exactly as apply forms them). Phases run one after
another; within a phase each provider works at most `concurrency` calls at a
time (and the run's --parallelism overall), and at most `rate_limit` calls a
second. Each call is assumed to take LATENCY seconds at the vendor: a stated
guess, not a measurement. Reads that apply makes (a saved plan's re-check, the
read-back after writing) are not counted: they are one request per collection.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING

from reconcile.model import Change, Estimate

if TYPE_CHECKING:
    from reconcile.engine import Engine

LATENCY = 0.25  # seconds per vendor call: an assumption, stated in every estimate


def estimate(engine: Engine, changes: tuple[Change, ...]) -> Estimate:
    from reconcile.applying import _units

    calls: dict[str, int] = defaultdict(int)
    seconds = 0.0
    phases: dict[int, list[Change]] = defaultdict(list)
    for c in changes:
        if c.action.writes_vendor:
            phases[c.action.phase].append(c)
    for phase in sorted(phases):
        per_provider: dict[str, int] = defaultdict(int)
        for unit in _units(engine, phases[phase]):
            per_provider[unit[0].provider] += 1
        slowest = 0.0
        for name, n in per_provider.items():
            calls[name] += n
            pc = engine.project.providers[name]
            in_flight = max(1, min(pc.concurrency, engine.parallelism))
            t = (
                math.ceil(n / in_flight) * LATENCY
            )  # a call takes its latency, however few there are
            if pc.rate_limit:
                t = max(t, n / pc.rate_limit)
            slowest = max(slowest, t)
        seconds += slowest
    return Estimate(calls=dict(sorted(calls.items())), seconds=round(seconds, 1), latency=LATENCY)
