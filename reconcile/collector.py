"""The cyclic garbage collector, paused while a run builds data that holds no cycles.

A plan builds millions of small containers (located manifest values, declared items,
live records, state entries) and no reference cycles: the collector would only rescan
them again and again (1.2 s of a 1,000,000-record plan, measured with `gc.callbacks`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused(*, freeze: bool = False) -> Iterator[None]:
    """No collection inside. With `freeze`, what exists at the end is frozen before the
    collector resumes (data that lives as long as the run: later collections never look
    at it, and the first pass after the pause does not scan everything built meanwhile);
    whoever owns it unfreezes it (`Engine.close`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()
