"""uContact's Integra session: log in once, send form calls with the token, end it.

`getUserToken` answers a JSON array whose last element is the token (`0` when the
login is refused); calls carry it as `Authorization: Basic <token>` (the scheme is
a setting). A call answered as an expired session (status `expired_status`, 401 by
assumption; with 200 the body `0` says it) logs in again once and is sent again:
an expired session accepted nothing. `end` sends `EndSession`, which must answer `1`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from reconcile import redact
from reconcile.errors import AuthError, ProviderError
from reconcile.http import Interrupted, VendorClient

log = logging.getLogger("reconcile.ucontact")

FORM = "application/x-www-form-urlencoded; charset=UTF-8"
Endpoint = Callable[[str], tuple[str, str]]


class Session:
    """One login, shared by every worker of a run; thread-safe."""

    def __init__(
        self,
        client: VendorClient,
        endpoint: Endpoint,
        user: str,
        password: str,
        *,
        scheme: str = "Basic",
        expired_status: int = 401,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.scheme = scheme
        self.expired_status = expired_status
        self._token: str | None = None
        self._lock = threading.Lock()
        self._ended = False  # once ended, no call of this run logs in again
        self.logins = 0

    @property
    def open(self) -> bool:
        return self._token is not None

    def token(self) -> str:
        with self._lock:
            if self._ended:
                # The run is ending (Ctrl-C, a failure): a write still in flight must not
                # open a session nobody would close. Its outcome is left unknown.
                raise Interrupted("the uContact session was ended: the run is stopping")
            if self._token is None:
                self._token = self._login()
            return self._token

    def _login(self) -> str:
        method, path = self.endpoint("login")
        resp = self.client.request(
            method,
            path,
            address=f"{self.client.config.name}/login",
            idempotent=True,
            ok=(200,),
            content=urlencode({"user": self.user, "password": self.password}).encode(),
            headers={"Content-Type": FORM},
        )
        self.logins += 1
        body = resp.text.strip()
        if body in ("", "0"):
            raise AuthError(
                f"{self.client.config.name}: uContact refused the login of user {self.user!r} (answer {body or 'empty'}); "
                "check the provider's user and password in reconcile.yaml and the environment"
            )
        try:
            answer = json.loads(body)
            token = answer[-1] if isinstance(answer, list) else None
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise ProviderError(
                f"{self.client.config.name}: the login answer is not the JSON array expected (token last)"
            )
        redact.register(token)
        return token

    def _renew(self, stale: str) -> str:
        """Log in again after `stale` expired (once per expiry, whatever the thread)."""
        with self._lock:
            if self._token == stale or self._token is None:
                # Ended too, in case the vendor still holds it: never leave a session open.
                self._end(stale, quiet=True)
                self._token = self._login()
            return self._token

    def call(
        self, name: str, form: Mapping[str, str], *, address: str, idempotent: bool = False
    ) -> str:
        """POST one form call with the session; the answer's text."""
        method, path = self.endpoint(name)
        token = self.token()
        for attempt in (1, 2):
            try:
                resp = self.client.request(
                    method,
                    path,
                    address=address,
                    idempotent=idempotent,
                    ok=(200,),
                    content=urlencode(form).encode(),
                    headers={"Content-Type": FORM, "Authorization": f"{self.scheme} {token}"},
                )
            except ProviderError as exc:
                if exc.status == self.expired_status and exc.status != 200 and attempt == 1:
                    token = self._renew(token)
                    continue
                raise
            body = resp.text.strip()
            if self.expired_status == 200 and body == "0" and attempt == 1:
                token = self._renew(token)
                continue
            return body
        return body

    def end(self) -> None:
        """End the session (EndSession answers 1). Never raises: the run's own outcome
        matters more, and an unended token still expires at the vendor."""
        with self._lock:
            token, self._token = self._token, None
            self._ended = True
        if token is not None:
            self._end(token)

    def _end(self, token: str, *, quiet: bool = False) -> None:
        method, path = self.endpoint("end_session")
        try:
            resp = self.client.request(
                method,
                path,
                address=f"{self.client.config.name}/EndSession",
                idempotent=True,
                ok=(200,),
                content=urlencode({"user": self.user, "token": token}).encode(),
                headers={"Content-Type": FORM, "Authorization": f"{self.scheme} {token}"},
            )
        except Exception as exc:
            if quiet:
                return
            log.warning(
                "%s: could not end the uContact session (%s); it stays open until it expires",
                self.client.config.name,
                exc,
            )
            return
        if resp.text.strip() != "1" and not quiet:
            log.warning(
                "%s: EndSession answered %r instead of 1; the session may stay open until it expires",
                self.client.config.name,
                resp.text.strip()[:40],
            )
