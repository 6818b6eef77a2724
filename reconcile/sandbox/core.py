"""The sandbox's core: requests, responses, fault injection and the router.

An `Emulator` answers one vendor's routes under its prefix; `Sandbox` routes
by prefix, injects faults into vendor routes (never into `/_admin`), counts
requests and serves the admin API tests use to look and reach behind the
tool's back. Nothing here knows HTTP sockets: `server.py` serves a Sandbox on
a port, `transport.py` plugs it into httpx in process.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class Headers(dict[str, str]):
    """Case-insensitive request headers (keys stored lower-case)."""

    def __init__(self, items: Mapping[str, str] | list[tuple[str, str]] | None = None) -> None:
        super().__init__()
        pairs = items.items() if isinstance(items, Mapping) else (items or [])
        for k, v in pairs:
            self[k.lower()] = v

    def get_ci(self, name: str, default: str = "") -> str:
        return self.get(name.lower(), default)


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-encoded, without the query
    query: Mapping[str, list[str]]
    headers: Headers
    body: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        headers: Mapping[str, str] | list[tuple[str, str]],
        body: bytes,
    ) -> Request:
        parts = urlsplit(target)
        return cls(
            method.upper(),
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            Headers(headers),
            body,
        )

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def segments(self, prefix: str) -> list[str]:
        """Path segments after `prefix`, percent-decoded."""
        rest = self.path[len(prefix) :].strip("/")
        return [unquote(s) for s in rest.split("/")] if rest else []


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(
            status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, text.encode("utf-8"), {"Content-Type": "text/plain; charset=utf-8"})


@dataclass
class Faults:
    """Fault injection, per run. Rates are shares of vendor calls (0..1)."""

    latency_ms: float = 0.0
    error_rate: float = 0.0  # answered 500/502/503 before processing
    throttle_rate: float = 0.0  # answered 429 with Retry-After before processing
    retry_after: float = 1.0
    drop_rate: float = 0.0  # connection dropped before processing
    lost_reply_rate: float = 0.0  # writes committed, then the connection dropped
    seed: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        return cls(**d)


class Emulator:
    """One vendor. Subclasses answer `handle` (vendor routes) and `admin` (its admin routes)."""

    name: str = ""
    prefix: str = ""

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def reset(self) -> None:
        raise NotImplementedError

    def handle(self, req: Request) -> Response:
        raise NotImplementedError

    def admin(self, req: Request, parts: list[str]) -> Response:
        return Response.json(404, {"error": "no such admin route"})

    def route_label(self, req: Request) -> str:
        """A low-cardinality name of the route, for request counts."""
        return f"{req.method} {req.path[len(self.prefix) :]}"


def _registry() -> list[Callable[[], Emulator]]:
    from reconcile.sandbox.ciopulse import CiopulseEmulator
    from reconcile.sandbox.jtel import JtelEmulator

    return [CiopulseEmulator, JtelEmulator]


class Sandbox:
    """Every emulator behind one router, with faults, counters and the admin API."""

    def __init__(self, faults: Faults | None = None) -> None:
        self.emulators: list[Emulator] = [make() for make in _registry()]
        self.faults = faults or Faults()
        self._rng = random.Random(self.faults.seed)
        self._rng_lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._times: deque[float] = deque(maxlen=10_000)  # arrival times of the last calls
        self._count_lock = threading.Lock()

    # -- dispatch -------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        if req.path == "/_admin" or req.path.startswith("/_admin/"):
            try:
                return self._admin(req)
            except (ValueError, KeyError, TypeError) as exc:
                return Response.json(400, {"error": f"{type(exc).__name__}: {exc}"})
        emu = next(
            (
                e
                for e in self.emulators
                if req.path == e.prefix or req.path.startswith(e.prefix + "/")
            ),
            None,
        )
        if emu is None:
            return Response(404)
        with self._count_lock:
            self._counts[f"{emu.name} {emu.route_label(req)}"] += 1
            self._times.append(time.monotonic())
        f = self.faults
        if f.latency_ms:
            time.sleep(f.latency_ms / 1000.0)
        roll = self._roll()
        if roll < f.drop_rate:
            return Response(0, drop=True)
        roll -= f.drop_rate
        if roll < f.error_rate:
            return Response.json(
                503 if roll < f.error_rate / 2 else 500,
                {"message": "injected fault", "status": 503},
            )
        roll -= f.error_rate
        if roll < f.throttle_rate:
            return Response.json(
                429,
                {"message": "rate limited", "status": 429},
                {"Retry-After": f"{f.retry_after:g}"},
            )
        resp = emu.handle(req)
        if req.method != "GET" and resp.status < 300 and self._roll() < f.lost_reply_rate:
            return Response(0, drop=True)  # committed, answer lost
        return resp

    def _roll(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    # -- admin ----------------------------------------------------------------------
    def _admin(self, req: Request) -> Response:
        parts = req.segments("/_admin")
        if parts == ["faults"]:
            if req.method == "PUT":
                self.faults = Faults.from_dict(req.json() if req.body else {})
                with self._rng_lock:
                    self._rng = random.Random(self.faults.seed)
            return Response.json(200, asdict(self.faults))
        if parts == ["reset"] and req.method == "POST":
            self.reset()
            return Response.json(200, {"status": "reset"})
        if parts == ["stats"]:
            with self._count_lock:
                counts = dict(self._counts)
                times = list(self._times)
            requests = {"total": sum(counts.values()), "by_route": counts, "times": times}
            return Response.json(200, {"requests": requests})
        if parts == ["stats", "reset"] and req.method == "POST":
            with self._count_lock:
                self._counts.clear()
                self._times.clear()
            return Response.json(200, {"status": "reset"})
        if parts:
            for emu in self.emulators:
                if parts[0] == emu.name:
                    with emu.lock:
                        return emu.admin(req, parts[1:])
        return Response.json(404, {"error": "no such admin route"})

    def reset(self) -> None:
        for emu in self.emulators:
            with emu.lock:
                emu.reset()
        self.faults = Faults()
        with self._rng_lock:
            self._rng = random.Random()
        with self._count_lock:
            self._counts.clear()
            self._times.clear()
