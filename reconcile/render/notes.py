"""Sentences text and markdown plans share: item lifetimes ahead, the apply estimate."""

from __future__ import annotations


def upcoming_note(address: str, event: str, when: str) -> str:
    if event == "expires":
        return f"{address} expires {when}: a plan made from then on removes it (valid until then)"
    return f"{address} becomes valid {when}: a plan made from then on creates it"
