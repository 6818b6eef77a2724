"""`python -m reconcile.sandbox`: serve the emulators (same as `reconcile sandbox serve`)."""

from __future__ import annotations

import argparse

from reconcile.sandbox.core import Faults
from reconcile.sandbox.server import serve


def main() -> None:
    ap = argparse.ArgumentParser(
        prog="python -m reconcile.sandbox", description="Serve the reconcile vendor emulators."
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8787)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--error-rate", type=float, default=0.0)
    ap.add_argument("--throttle-rate", type=float, default=0.0)
    ap.add_argument("--drop-rate", type=float, default=0.0)
    ap.add_argument("--lost-reply-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    faults = Faults(
        a.latency_ms, a.error_rate, a.throttle_rate, 1.0, a.drop_rate, a.lost_reply_rate, a.seed
    )
    serve(a.host, a.port, faults, a.verbose)


main()
