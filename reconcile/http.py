"""The one HTTP client every provider uses: auth, retries, rate limit, error mapping.

Retries use jittered exponential backoff on 429, 5xx and connection faults,
honouring Retry-After, and only for calls the provider marks idempotent: a
non-idempotent write is never sent twice by this layer. Errors leave as the
`ProviderError` tree, never as httpx exceptions. Credentials go in headers
and are never logged.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx
import ijson

from reconcile.config import ProviderConfig
from reconcile.errors import AuthError, ConflictError, NotFoundError, ProviderError, RetryableError

log = logging.getLogger("reconcile.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_RETRIES = 2  # a refused connection is tried twice more, quickly
MAX_RETRY_AFTER = 60.0


class RateLimiter:
    """A token bucket shared by every thread talking to one provider."""

    def __init__(self, rate: float | None, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, (rate or 1.0))
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        if not self.rate:
            return
        while True:
            with self.lock:
                t = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (t - self.stamp) * self.rate)
                self.stamp = t
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(MAX_RETRY_AFTER, float(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, min(MAX_RETRY_AFTER, when.timestamp() - time.time()))


MessageParser = Callable[[httpx.Response], str]


class VendorClient:
    """httpx.Client plus the policies above, for one configured provider."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        headers: Mapping[str, str],
        message: MessageParser,
        transport: httpx.BaseTransport | None = None,
        backoff: float = 0.2,
    ) -> None:
        self.config = config
        self.message = message
        self.backoff = backoff
        self.limiter = RateLimiter(config.rate_limit)
        self.requests = 0
        self.stopping = threading.Event()  # set when the run is interrupted: no more retries
        conns = max(1, config.concurrency) + 2
        self.http = httpx.Client(
            base_url=config.url,
            headers=dict(headers),
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            verify=config.ca_bundle or True,
            limits=httpx.Limits(max_connections=conns, max_keepalive_connections=conns),
            transport=transport,
            follow_redirects=False,
        )
        base = str(self.http.base_url)
        self._base = base if base.endswith("/") else base + "/"
        self._extensions = {"timeout": self.http.timeout.as_dict()}

    def close(self) -> None:
        self.http.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        stream: bool = False,
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """One request, straight to the connection pool the client picked for its URL (a
        proxy's when the environment names one), with the client's headers and timeouts.
        What `httpx.Client.send` adds around that (a cookie jar, auth flows, redirects, event
        hooks) no vendor here uses, and it was a third of each write's CPU: with 16 writes
        in flight that CPU is taken in turns, and a 10,000-write apply ran 0.2-0.9 s longer.
        Vendors' cookies are therefore not kept; every call authenticates with its headers."""
        all_headers = self.http.headers
        if headers:
            all_headers = httpx.Headers(all_headers)
            all_headers.update(headers)
        request = httpx.Request(
            method,
            self._base + path.lstrip("/"),  # paths are relative (endpoints start with "/")
            content=content,
            params=params,
            headers=all_headers,
            json=json_body,
            extensions=self._extensions,
        )
        response = self.http._transport_for_url(request.url).handle_request(request)
        response.request = request
        if not stream:
            try:
                response.read()
            except BaseException:
                response.close()
                raise
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        address: str = "",
        idempotent: bool,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """Send one call; return the response if its status is in `ok`, else raise."""
        attempts = 1 + (self.config.retries if idempotent else 0)
        attempt = refused = 0
        answers: list[tuple[int, str]] = []  # the retryable answers, to tell a refusal from a fault
        while True:
            self.limiter.acquire()
            started = time.monotonic()
            try:
                self.requests += 1
                resp = self._send(
                    method,
                    path,
                    content=content,
                    params=params,
                    headers=headers,
                    json_body=json_body,
                )
            except httpx.ConnectError as exc:
                # Nothing was sent: safe to try again even for a write, but a vendor that
                # refuses connections is down or misconfigured, not busy: fail fast.
                refused += 1
                if refused > CONNECT_RETRIES:
                    raise self.unreachable(exc, address) from exc
                time.sleep(0.2 * refused)
                continue
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                attempt += 1
                log.debug(
                    "%s %s: %s (attempt %d/%d)", method, path, type(exc).__name__, attempt, attempts
                )
                if attempt < attempts:
                    self._sleep(attempt - 1, None)
                    continue
                raise RetryableError(
                    f"{method} {path}: {type(exc).__name__}: {exc or 'connection failed'}; the vendor may or may not have applied it",
                    address=address,
                ) from exc
            log.debug(
                "%s %s -> %d in %.0f ms",
                method,
                path,
                resp.status_code,
                (time.monotonic() - started) * 1000,
            )
            if resp.status_code in ok:
                return resp
            if resp.status_code not in RETRY_STATUSES:
                raise self.error(resp, method, path, address)
            answers.append((resp.status_code, self.message(resp)))
            attempt += 1
            if attempt < attempts:
                self._sleep(attempt - 1, retry_after_seconds(resp.headers.get("Retry-After")))
                continue
            if len(answers) >= 3 and len(set(answers)) == 1 and resp.status_code != 429:
                # The same server error to every try is the vendor refusing this call, not a
                # passing fault: an error for this record, reported, never an endless retry.
                raise ProviderError(
                    f"{self.config.name}: {method} {path} answered HTTP {resp.status_code} the same way to all "
                    f"{len(answers)} tries ({self.message(resp)}): the vendor refuses it; check the record, "
                    "or the vendor's status",
                    address=address,
                    status=resp.status_code,
                    vendor_message=self.message(resp),
                )
            raise RetryableError(
                f"{method} {path}: HTTP {resp.status_code}: {self.message(resp)}",
                address=address,
                status=resp.status_code,
                vendor_message=self.message(resp),
            )

    def stream_items(
        self, method: str, path: str, prefix: str | Callable[[bytes], str], *, address: str = ""
    ) -> Iterator[Any]:
        """Yield the JSON values at `prefix` (ijson syntax, e.g. "records.item") of a GET body
        as they arrive, so a large body is never held whole. `prefix` may be a function of
        the body's first bytes ("" yields the whole document once). Retried like any
        idempotent call until the first value is out; a fault after that raises RetryableError."""

        def items(chunks: Iterator[bytes]) -> Iterator[Any]:
            reader = _Reader(chunks)
            chosen = prefix(reader.peek(512)) if callable(prefix) else prefix
            return ijson.items(reader, chosen, use_float=True)  # type: ignore[no-any-return]

        return self._streamed(method, path, items, address)

    def read_body(self, method: str, path: str, *, address: str = "") -> bytearray:
        """A GET body whole, retried like any idempotent call. No response object keeps it:
        an httpx response sits in a reference cycle with its stream, so a body it holds
        lives until the next full garbage collection, which a run makes rare (a 1,000,000-
        record plan held 645 MB of jtel bodies that way)."""
        for body in self._streamed(method, path, lambda chunks: [_joined(chunks)], address):
            assert isinstance(body, bytearray)
            return body
        raise AssertionError("unreachable: one body per answer")

    def _streamed(
        self,
        method: str,
        path: str,
        values: Callable[[Iterator[bytes]], Iterable[Any]],
        address: str,
    ) -> Iterator[Any]:
        """The values `values` makes of a 200 answer's byte chunks, as they arrive."""
        attempts = 1 + self.config.retries
        started = False
        for attempt in range(attempts):
            self.limiter.acquire()
            self.requests += 1
            try:
                started_at = time.monotonic()
                with contextlib.closing(self._send(method, path, stream=True)) as resp:
                    log.debug(
                        "%s %s -> %d (streaming) after %.0f ms",
                        method,
                        path,
                        resp.status_code,
                        (time.monotonic() - started_at) * 1000,
                    )
                    if resp.status_code == 200:
                        for item in values(resp.iter_bytes()):
                            started = True
                            yield item
                        return
                    resp.read()
                    if resp.status_code not in RETRY_STATUSES or attempt + 1 >= attempts:
                        if resp.status_code in RETRY_STATUSES:
                            raise RetryableError(
                                f"{method} {path}: HTTP {resp.status_code}: {self.message(resp)}",
                                address=address,
                                status=resp.status_code,
                            )
                        raise self.error(resp, method, path, address)
                    retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
            except httpx.ConnectError as exc:
                if attempt >= CONNECT_RETRIES:
                    raise self.unreachable(exc, address) from exc
                retry_after = None
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                if started or attempt + 1 >= attempts:
                    raise RetryableError(
                        f"{method} {path}: {type(exc).__name__}: {exc or 'connection failed'}",
                        address=address,
                    ) from exc
                retry_after = None
            except ijson.JSONError as exc:
                raise ProviderError(
                    f"{self.config.name}: {method} {path}: the body is not the JSON expected: {exc}",
                    address=address,
                ) from exc
            self._sleep(attempt, retry_after)

    def unreachable(self, exc: Exception, address: str) -> ProviderError:
        """A connection that could not be made: nothing was sent, so nothing is uncertain."""
        reason = str(exc) or type(exc).__name__
        hint = (
            " (is the sandbox running? `reconcile sandbox serve`)"
            if self.config.url.startswith(("http://127.", "http://localhost"))
            else ""
        )
        return ProviderError(
            f"provider {self.config.name}: cannot connect to {self.config.url}: {reason}; nothing was sent. "
            f"Check providers.{self.config.name}.url in reconcile.yaml and that the vendor is reachable{hint}",
            address=address,
        )

    def error(self, resp: httpx.Response, method: str, path: str, address: str) -> ProviderError:
        msg = self.message(resp)
        status = resp.status_code
        text = f"{self.config.name}: {method} {path} answered {status}: {msg}"
        cls: type[ProviderError] = ProviderError
        if status in (401, 403):
            cls = AuthError
            text += " (check the provider's credentials in reconcile.yaml and the environment)"
        elif status == 404:
            cls = NotFoundError
        elif status in (409, 412, 422):
            cls = ConflictError
        return cls(text, address=address, status=status, vendor_message=msg)

    def _sleep(self, attempt: int, retry_after: float | None) -> None:
        if retry_after is not None:
            delay = retry_after + random.uniform(0, self.backoff)
        else:
            delay = random.uniform(0, min(10.0, self.backoff * (2**attempt)))
        # A run asked to stop (Ctrl-C) does not wait to try again: the call's outcome is
        # left unknown, journaled, and settled by the next plan.
        if self.stopping.wait(delay):
            raise Interrupted("stopped before trying again (interrupted); the outcome is unknown")


class Interrupted(RetryableError):
    """A call given up because the run is stopping; it may or may not have been applied."""


def _joined(chunks: Iterator[bytes]) -> bytearray:
    body = bytearray()  # grown in place: never the chunks and their join at once
    for chunk in chunks:
        body += chunk
    return body


class _Reader:
    """A file-like view of an iterator of byte chunks, for ijson. A chunk may be the whole
    body (a transport that does not stream): it is handed out in pieces through a view,
    never re-copied from its start for each piece."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buffer = b""
        self.at = 0  # bytes of `buffer` already handed out

    def _fill(self, n: int) -> None:
        """Buffer at least `n` unread bytes (fewer at the end); n < 0: all of them."""
        while n < 0 or len(self.buffer) - self.at < n:
            chunk = next(self.chunks, None)
            if chunk is None:
                return
            self.buffer = self.buffer[self.at :] + chunk if self.at < len(self.buffer) else chunk
            self.at = 0

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self.buffer[self.at : self.at + n]

    def read(self, n: int = -1) -> bytes:
        self._fill(n)
        end = len(self.buffer) if n < 0 else min(len(self.buffer), self.at + n)
        out = self.buffer[self.at : end]
        self.at = end
        return out


def json_message(resp: httpx.Response, *keys: str) -> str:
    """The vendor's error text from a JSON body, or the start of the raw body."""
    try:
        body = resp.json()
    except ValueError:
        text = resp.text.strip()
        return text[:300] if text else "(empty body)"
    if isinstance(body, dict):
        for k in keys:
            if body.get(k):
                return str(body[k])
    return str(body)[:300]
