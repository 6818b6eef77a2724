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
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

ADMIN_PREFIX = "/_admin"


def emulator_classes() -> list[type[Emulator]]:
    """The emulators a Sandbox serves, from the registry in `reconcile.sandbox`."""
    from reconcile.sandbox import registry

    return registry()


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


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON as a vendor sends it. msgspec writes a 45 MB list body in a
    seventh of the stdlib's time, with the same bytes except a float's exponent (`1e16`
    for `1e+16`: the same number to any reader) and NaN (null: NaN is no JSON); values
    msgspec will not write (a map with true or null as a key) go through the stdlib."""
    try:
        return msgspec.json.encode(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False  # close the connection without answering

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
        return cls(
            status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
            json_bytes(value),
        )  # fmt: skip

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


class Settings:
    """Base of an emulator's settings: one frozen dataclass field per thing the vendor's
    documentation leaves open. Defaults are reconcile's assumptions (README table);
    every other plausible behaviour is one `PUT /_admin/<vendor>/settings` away.

    Subclasses are frozen dataclasses; `choices` names the allowed values of
    string fields, checked on every change."""

    choices: ClassVar[Mapping[str, tuple[Any, ...]]] = {}

    def merged(self, changes: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in fields(self)}  # type: ignore[arg-type]
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(
                f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        for name, value in changes.items():
            allowed = self.choices.get(name)
            if allowed is not None and value not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(map(repr, allowed))}, not {value!r}"
                )
            current = getattr(self, name)
            if current is not None and value is not None and not _same_type(current, value):
                raise ValueError(f"{name} takes a {type(current).__name__}, not {value!r}")
        return replace(self, **changes)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload, no-any-return]


def _same_type(current: Any, value: Any) -> bool:
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, int | float) and isinstance(value, int | float):
        return True
    if isinstance(current, list | tuple) and isinstance(value, list | tuple):
        return True
    return type(current) is type(value)


@dataclass(frozen=True)
class NoSettings(Settings):
    pass


SCRIPTED_FAULTS = ("lost_reply", "drop", "status", "html", "truncated", "slow")


@dataclass
class ScriptedFault:
    """A fault aimed at the next `count` calls of one vendor route (tests that need an
    exact failure at an exact place, rather than a rate):

    - `lost_reply`: the call is processed and committed, then the connection closes;
    - `drop`: the connection closes before the call is processed;
    - `status`: answered with `status` in the vendor's error shape, not processed;
    - `html`: a proxy's HTML error page with `status` (default 502), not processed;
    - `truncated`: processed, then the answer's body is cut in half;
    - `slow`: processed after sleeping `seconds` (past the client's timeout)."""

    vendor: str
    fault: str
    method: str = ""  # empty: any method
    path_contains: str = ""  # a part of the path after the vendor's prefix; empty: any
    count: int = 1
    status: int = 0
    seconds: float = 0.0
    retry_after: float | None = None  # with `status` 429 or 503: the Retry-After header

    def __post_init__(self) -> None:
        if self.fault not in SCRIPTED_FAULTS:
            raise ValueError(
                f"fault must be one of {', '.join(SCRIPTED_FAULTS)}, not {self.fault!r}"
            )
        if not isinstance(self.count, int) or self.count < 1:
            raise ValueError(f"count must be a whole number of at least 1, not {self.count!r}")

    def matches(self, emu: Emulator, req: Request) -> bool:
        return (
            emu.name == self.vendor
            and (not self.method or req.method == self.method.upper())
            and self.path_contains in req.path[len(emu.prefix) :]
        )


_HTML_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1>"
    b"</center><hr><center>nginx</center></body></html>"
)


class Emulator:
    """One vendor behind one path prefix.

    Subclasses answer `handle` (vendor routes, under `prefix`) and `admin` (their
    admin routes, under `/_admin/<name>`), shape errors with `error`, and hold
    `self.lock` around every read or change of their records.
    """

    name: str = ""
    prefix: str = ""
    settings_type: type[Settings] = NoSettings

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.settings: Any = self.settings_type()

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


class Sandbox:
    """Every emulator behind one router, with faults, counters and the admin API."""

    def __init__(
        self, faults: Faults | None = None, emulators: Iterable[Emulator] | None = None
    ) -> None:
        self.emulators: list[Emulator] = (
            list(emulators) if emulators is not None else [cls() for cls in emulator_classes()]
        )
        self._script: list[ScriptedFault] = []
        self._rng_lock = threading.Lock()
        self._faults = Faults()
        self._rng = random.Random()
        self.faults = faults or Faults()
        self._counts: Counter[str] = Counter()
        self._times: deque[float] = deque(maxlen=10_000)  # arrival times of the last calls
        self._spans: dict[str, list[float]] = {}  # route: first and last arrival (benchmarks)
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

    def configure(self, vendor: str, changes: Mapping[str, Any]) -> None:
        """Change some of one emulator's settings (ValueError naming what is wrong)."""
        emu = next((e for e in self.emulators if e.name == vendor), None)
        if emu is None:
            known = ", ".join(e.name for e in self.emulators)
            raise ValueError(f"no emulator named {vendor!r}; known: {known}")
        with emu.lock:
            emu.settings = emu.settings.merged(changes)

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
            label = f"{emu.name} {emu.route_label(req)}"
            self._counts[label] += 1
            arrived = time.monotonic()
            self._times.append(arrived)
            span = self._spans.setdefault(label, [arrived, arrived])
            span[1] = arrived
        scripted = self._scripted(emu, req)
        if scripted is not None:
            return self._play(scripted, emu, req)
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

    def _scripted(self, emu: Emulator, req: Request) -> ScriptedFault | None:
        with self._rng_lock:
            for sf in self._script:
                if sf.matches(emu, req):
                    sf.count -= 1
                    if sf.count == 0:
                        self._script.remove(sf)
                    return sf
        return None

    def _play(self, sf: ScriptedFault, emu: Emulator, req: Request) -> Response:
        if sf.fault == "drop":
            return Response.dropped()
        if sf.fault == "status":
            resp = emu.error(sf.status or 500, "Injected fault")
            if sf.retry_after is not None:
                return Response(
                    resp.status, {**resp.headers, "Retry-After": f"{sf.retry_after:g}"}, resp.body
                )
            return resp
        if sf.fault == "html":
            return Response(sf.status or 502, {"Content-Type": "text/html"}, _HTML_PAGE)
        if sf.fault == "slow":
            time.sleep(sf.seconds)
        try:
            resp = emu.handle(req)
        except Exception as exc:
            return emu.error(500, f"Internal error: {type(exc).__name__}")
        if sf.fault == "lost_reply":
            return Response.dropped()
        if sf.fault == "truncated":
            return Response(resp.status, resp.headers, resp.body[: len(resp.body) // 2])
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
        if parts == ["faults", "script"]:
            if m == "POST":
                body = req.json()
                items = body if isinstance(body, list) else [body]
                added = [ScriptedFault(**item) for item in items]
                for sf in added:
                    if not any(e.name == sf.vendor for e in self.emulators):
                        raise ValueError(f"no emulator named {sf.vendor!r}")
                with self._rng_lock:
                    self._script.extend(added)
            elif m == "DELETE":
                with self._rng_lock:
                    self._script.clear()
            elif m != "GET":
                return Response.json(405, {"error": "use GET, POST or DELETE"})
            with self._rng_lock:
                return Response.json(200, [asdict(sf) for sf in self._script])
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
                        if parts[1:] == ["settings"]:
                            return self._settings(emu, req)
                        return emu.admin(req)
        return Response.json(404, {"error": "no such admin route"})

    @staticmethod
    def _settings(emu: Emulator, req: Request) -> Response:
        """`GET` an emulator's settings; `PUT` a JSON object of the ones to change."""
        if req.method == "PUT":
            body = req.json()
            if not isinstance(body, dict):
                raise ValueError("the settings must be one JSON object")
            emu.settings = emu.settings.merged(body)  # the router holds emu.lock
        elif req.method != "GET":
            return Response.json(405, {"error": "use GET or PUT"})
        return Response.json(200, emu.settings.to_dict())

    def stats(self) -> dict[str, Any]:
        with self._count_lock:
            counts = dict(self._counts)
            times = list(self._times)
            spans = {label: list(span) for label, span in self._spans.items()}
        by_vendor: Counter[str] = Counter()
        for label, n in counts.items():
            by_vendor[label.split(" ", 1)[0]] += n
        return {
            "requests": {
                "total": sum(counts.values()),
                "by_vendor": dict(by_vendor),
                "by_route": counts,
                "times": times,  # monotonic arrival times of the last 10,000 calls
                "spans": spans,  # route: monotonic arrival times of its first and last call
            }
        }

    def reset_stats(self) -> None:
        with self._count_lock:
            self._counts.clear()
            self._times.clear()
            self._spans.clear()

    def reset(self) -> None:
        """Data, faults and counters back to the seed state."""
        for emu in self.emulators:
            with emu.lock:
                emu.settings = emu.settings_type()
                emu.reset()
        with self._rng_lock:
            self._script.clear()
        self.faults = Faults()
        self.reset_stats()
