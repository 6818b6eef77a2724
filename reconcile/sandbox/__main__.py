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
    ap.add_argument("--retry-after", type=float, default=1.0)
    ap.add_argument("--drop-rate", type=float, default=0.0)
    ap.add_argument("--lost-reply-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    try:
        faults = Faults(
            latency_ms=a.latency_ms,
            error_rate=a.error_rate,
            throttle_rate=a.throttle_rate,
            retry_after=a.retry_after,
            drop_rate=a.drop_rate,
            lost_reply_rate=a.lost_reply_rate,
            seed=a.seed,
        )
    except ValueError as exc:
        ap.error(str(exc))
    try:
        serve(a.host, a.port, faults, a.verbose)
    except OSError as exc:
        ap.exit(1, f"cannot listen on {a.host}:{a.port}: {exc.strerror or exc}\n")


if __name__ == "__main__":
    main()
