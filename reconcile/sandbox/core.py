"""The sandbox's core: requests, responses, fault injection and the router.

An `Emulator` answers one vendor's routes under its prefix; `Sandbox` routes
by prefix, injects faults into vendor routes (never into `/_admin`), counts
requests and serves the admin API tests use to look and reach behind the
tool's back. Nothing here knows HTTP sockets: `server.py` serves a Sandbox on
a port, `transport.py` plugs it into httpx in process.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ADMIN_PREFIX = "/_admin"


class Headers(dict[str, str]):
    """Case-insensitive request headers: keys are stored lower-case and looked up in any case."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        super().__init__()
        pairs = items.items() if isinstance(items, Mapping) else (items or [])
        for k, v in pairs:
            super().__setitem__(k.lower(), v)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __setitem__(self, name: str, value: str) -> None:
        super().__setitem__(name.lower(), value)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)

    def get_ci(self, name: str, default: str = "") -> str:
        return str(super().get(name.lower(), default))


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
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes = b"",
    ) -> Request:
        """A request from an HTTP request line's target (path and query) as sent."""
        parts = urlsplit(target)
        return cls(
            method.upper(),
            parts.path or "/",
            parse_qs(parts.query, keep_blank_values=True),
            Headers(headers),
            body,
        )

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def under(self, prefix: str) -> bool:
        return self.path == prefix or self.path.startswith(prefix + "/")

    def segments(self, prefix: str) -> list[str]:
        """Path segments after `prefix`, each percent-decoded (so `%2F` stays inside one)."""
        rest = self.path[len(prefix) :].strip("/")
        return [unquote(s) for s in rest.split("/")] if rest else []


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False  # close the connection without answering

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(
            status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body
        )

    @classmethod
    def dropped(cls) -> Response:
        return cls(0, drop=True)


_RATES = ("error_rate", "throttle_rate", "drop_rate", "lost_reply_rate")


@dataclass(frozen=True)
class Faults:
    """Fault injection settings. Rates are shares (0..1) of vendor calls; all off by default."""

    latency_ms: float = 0.0  # slept before every vendor call, outside any lock
    error_rate: float = 0.0  # answered 500/503 before processing
    throttle_rate: float = 0.0  # answered 429 with Retry-After before processing
    retry_after: float = 1.0  # seconds, in the 429's Retry-After header (0 allowed)
    drop_rate: float = 0.0  # connection closed before processing, no answer
    lost_reply_rate: float = 0.0  # writes processed and committed, then the connection closed
    seed: int | None = None  # for the dice, so a faulty run can be repeated

    def __post_init__(self) -> None:
        for name in _RATES:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number from 0 to 1, not {value!r}")
        for name in ("latency_ms", "retry_after"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0 or math.isinf(value):
                raise ValueError(f"{name} must be a number of at least 0, not {value!r}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Faults:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def retry_after_header(self) -> str:
        return f"{self.retry_after:g}"


class Emulator:
    """One vendor behind one path prefix.

    Subclasses answer `handle` (vendor routes, under `prefix`) and `admin` (their
    admin routes, under `/_admin/<name>`), shape errors with `error`, and hold
    `self.lock` around every read or change of their records.
    """

    name: str = ""
    prefix: str = ""

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def reset(self) -> None:
        """Back to the seed data."""
        raise NotImplementedError

    def handle(self, req: Request) -> Response:
        raise NotImplementedError

    def admin(self, req: Request) -> Response:
        return Response.json(404, {"error": "no such admin route"})

    def admin_parts(self, req: Request) -> list[str]:
        return req.segments(f"{ADMIN_PREFIX}/{self.name}")

    def error(self, status: int, message: str) -> Response:
        """An error in this vendor's documented shape (used for injected faults too)."""
        return Response.json(status, {"message": message, "status": status})

    def route_label(self, req: Request) -> str:
        """A low-cardinality name of the route, for request counts."""
        return f"{req.method} {req.path[len(self.prefix) :]}"


def emulator_classes() -> list[type[Emulator]]:
    """The registry of emulators a Sandbox serves: a new vendor is one more class here."""
    from reconcile.sandbox.ciopulse import CiopulseEmulator
    from reconcile.sandbox.jtel import JtelEmulator

    return [CiopulseEmulator, JtelEmulator]


class Sandbox:
    """Every emulator behind one router, with faults, counters and the admin API."""

    def __init__(
        self, faults: Faults | None = None, emulators: Iterable[Emulator] | None = None
    ) -> None:
        self.emulators: list[Emulator] = (
            list(emulators) if emulators is not None else [cls() for cls in emulator_classes()]
        )
        self._rng_lock = threading.Lock()
        self._faults = Faults()
        self._rng = random.Random()
        self.faults = faults or Faults()
        self._counts: Counter[str] = Counter()
        self._times: deque[float] = deque(maxlen=10_000)  # arrival times of the last calls
        self._count_lock = threading.Lock()

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        with self._rng_lock:
            self._faults = value
            self._rng = random.Random(value.seed)

    def emulator(self, name: str) -> Emulator:
        return next(e for e in self.emulators if e.name == name)

    # -- dispatch -------------------------------------------------------------------
    def dispatch(self, req: Request) -> Response:
        """Answer one request: admin routes as they are, vendor routes through the faults."""
        if req.under(ADMIN_PREFIX):
            try:
                return self._admin(req)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return Response.json(400, {"error": f"{type(exc).__name__}: {exc}"})
            except Exception as exc:
                return Response.json(500, {"error": f"{type(exc).__name__}: {exc}"})
        emu = next((e for e in self.emulators if req.under(e.prefix)), None)
        if emu is None:
            return Response(404)
        with self._count_lock:
            self._counts[f"{emu.name} {emu.route_label(req)}"] += 1
            self._times.append(time.monotonic())
        f = self._faults
        if f.latency_ms:
            time.sleep(f.latency_ms / 1000.0)  # no lock held: concurrent calls overlap
        roll = self._roll()
        if roll < f.drop_rate:
            return Response.dropped()
        roll -= f.drop_rate
        if roll < f.error_rate:
            status = 503 if roll < f.error_rate / 2 else 500
            return emu.error(status, "Injected fault: service unavailable")
        roll -= f.error_rate
        if roll < f.throttle_rate:
            resp = emu.error(429, "Too many requests")
            headers = {**resp.headers, "Retry-After": f.retry_after_header}
            return Response(429, headers, resp.body)
        try:
            resp = emu.handle(req)
        except Exception as exc:  # an emulator bug shows as the vendor's 500, not a hung client
            return emu.error(500, f"Internal error: {type(exc).__name__}")
        is_write = req.method not in ("GET", "HEAD")
        if (
            is_write
            and resp.status < 300
            and f.lost_reply_rate
            and self._roll() < f.lost_reply_rate
        ):
            return Response.dropped()  # committed above; only the answer is lost
        return resp

    def _roll(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    # -- admin ----------------------------------------------------------------------
    def _admin(self, req: Request) -> Response:
        parts = req.segments(ADMIN_PREFIX)
        m = req.method
        if parts == ["faults"]:
            if m == "PUT":
                body = req.json()
                if not isinstance(body, dict):
                    raise ValueError("the faults must be one JSON object")
                self.faults = Faults.from_dict(body)
            elif m != "GET":
                return Response.json(405, {"error": "use GET or PUT"})
            return Response.json(200, self.faults.to_dict())
        if parts == ["reset"] and m == "POST":
            self.reset()
            return Response.json(200, {"status": "reset"})
        if parts == ["stats"] and m == "GET":
            return Response.json(200, self.stats())
        if parts == ["stats", "reset"] and m == "POST":
            self.reset_stats()
            return Response.json(200, {"status": "reset"})
        if parts:
            for emu in self.emulators:
                if parts[0] == emu.name:
                    with emu.lock:
                        return emu.admin(req)
        return Response.json(404, {"error": "no such admin route"})

    def stats(self) -> dict[str, Any]:
        with self._count_lock:
            counts = dict(self._counts)
            times = list(self._times)
        by_vendor: Counter[str] = Counter()
        for label, n in counts.items():
            by_vendor[label.split(" ", 1)[0]] += n
        return {
            "requests": {
                "total": sum(counts.values()),
                "by_vendor": dict(by_vendor),
                "by_route": counts,
                "times": times,  # monotonic arrival times of the last 10,000 calls
            }
        }

    def reset_stats(self) -> None:
        with self._count_lock:
            self._counts.clear()
            self._times.clear()

    def reset(self) -> None:
        """Data, faults and counters back to the seed state."""
        for emu in self.emulators:
            with emu.lock:
                emu.reset()
        self.faults = Faults()
        self.reset_stats()
