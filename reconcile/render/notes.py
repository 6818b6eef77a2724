"""Sentences text and markdown plans share: item lifetimes ahead, the apply estimate."""

from __future__ import annotations

from reconcile.model import Estimate


def upcoming_note(address: str, event: str, when: str) -> str:
    if event == "expires":
        return f"{address} expires {when}: a plan made from then on removes it (valid until then)"
    return f"{address} becomes valid {when}: a plan made from then on creates it"


def estimate_note(e: Estimate) -> str:
    calls = ", ".join(f"{n} to {p}" for p, n in e.calls.items())
    return (
        f"apply will make {e.total} vendor write call{'s' if e.total != 1 else ''} ({calls}), "
        f"about {_duration(e.seconds)} at each provider's concurrency and rate limit "
        f"(assuming {e.latency * 1000:.0f} ms per call)"
    )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 0.1):.1f} s"
    minutes, s = divmod(round(seconds), 60)
    return (
        f"{minutes} min {s:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
    )
