"""Nubitalk OneContact contacts: create, update and delete; the vendor cannot be read.

State is the only memory of what exists there and of each contact's id. A
write succeeds only on a 2xx answer whose body says `"success": true`; the
vendor gives no reason for a refusal, so the error names the usual causes.
Every undocumented choice is a provider setting (README, vendor assumptions):
`update` (partial or full PUT), `numeric_form`, `metadata_type_form`,
`metadata_value_form`, `address_form`, `delete_answer`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from reconcile.errors import AuthError, Problem, ProviderError, RetryableError, UsageError
from reconcile.kinds.nubitalk import METADATA_TYPES, declared_types
from reconcile.model import Action, Change, Collection
from reconcile.providers.base import Provider, ReadResult

DEFAULTS: Mapping[str, str] = {
    "update": "partial",
    "numeric_form": "string",
    "metadata_type_form": "code",
    "metadata_value_form": "string",
    "address_form": "as_written",
    "delete_answer": "envelope_or_empty",
}
# Statuses the HTTP layer retries (a busy vendor or a proxy); every other status is
# answered here, where a `{"success": false}` body, whatever the status, is a refusal.
_RETRIED = frozenset({429, 502, 503, 504})
_ANSWERED = tuple(s for s in range(200, 600) if s not in _RETRIED)


class NubitalkProvider(Provider):
    type = "nubitalk"
    can_read = False
    endpoint_defaults: ClassVar[Mapping[str, str]] = {
        "create": "POST /service/{service}/contacts/{checkrepeated}",
        "update": "PUT /service/{service}/contacts/{id}",
        "delete": "DELETE /service/{service}/contacts/{id}",
    }

    def __init__(self, config: Any, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(config, transport)
        self.opts = {k: str(config.settings.get(k, v)) for k, v in DEFAULTS.items()}
        # Collections by address prefix, learnt as their scopes are resolved (every plan
        # and saved-plan check does that first): writes need their declared metadata types.
        self.collections: dict[str, Collection] = {}

    def auth_headers(self) -> Mapping[str, str]:
        # Content-Type on every call, DELETE included: the vendor requires it.
        return {
            "Authorization": f"Bearer {self.config.settings['token']}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def error_message(self, resp: httpx.Response) -> str:
        text = resp.text.strip()
        return text[:300] if text else "(empty body)"

    # -- the contract -------------------------------------------------------------
    def resolve_scope(self, coll: Collection) -> str | None:
        self.collections[coll.prefix] = coll
        value = coll.scope_ref.get("value", coll.scope)
        return str(value)

    def read(self, coll: Collection, scope_id: str | None) -> ReadResult:
        raise UsageError(
            f"{coll.prefix}: Nubitalk has no read API; reconcile's state is the only record of its contacts"
        )

    def retry_uncertain(self, coll: Collection, remote_id: str | None) -> bool:
        """An uncertain update or delete is safe to resend; an uncertain create only when
        the vendor refuses a second contact with the same Address (check_repeated)."""
        return remote_id is not None or check_repeated(coll)

    def check_remote_id(self, remote_id: str) -> str | None:
        if not remote_id.isdigit():
            return f"{remote_id!r} is not a Nubitalk contact id (a whole number, shown on Manage Contacts)"
        return None

    def check_plan(
        self, coll: Collection, live: ReadResult, changes: list[Change]
    ) -> list[Problem]:
        types = declared_types(coll.options)
        problems = []
        for c in changes:
            for f in c.fields:
                name = f.name.partition(".")[2]
                if f.name.startswith("Metadata.") and name not in types:
                    problems.append(
                        Problem(
                            c.address,
                            f"{f.name} is removed but its type is no longer declared in metadata: of {coll.prefix}; "
                            f"keep `{name}: TYPE` there until this change is applied",
                        )
                    )
        return problems

    # -- writes -------------------------------------------------------------------
    def write(self, change: Change, scope_id: str | None) -> str | None:
        service = scope_id or change.scope
        if change.action is Action.CREATE:
            return self._create(change, service)
        if change.remote_id is None:
            raise ProviderError(
                "no Nubitalk contact id is known for this record; find it on Manage Contacts and run "
                f"`reconcile import '{change.address}' CONTACT_ID`",
                address=change.address,
            )
        if change.action is Action.DELETE:
            method, path = self.endpoint("delete", service=service, id=change.remote_id)
            resp = self._send(method, path, change, None, idempotent=True)
            self._delete_answer(resp, method, path, change)
            return change.remote_id
        if change.action in (Action.UPDATE, Action.ADOPT):
            # ADOPT: an imported or uncertain record, whose values at the vendor are
            # unknown: every declared field is sent.
            full = self.opts["update"] == "full" or change.action is Action.ADOPT
            body = self.body(change, full=full)
            method, path = self.endpoint("update", service=service, id=change.remote_id)
            resp = self._send(method, path, change, body, idempotent=True)
            self._success(resp, method, path, change)
            return change.remote_id
        raise ProviderError(
            f"Nubitalk contacts have no {change.action.value} action", address=change.address
        )

    def _create(self, change: Change, service: str) -> str:
        coll = self.collections.get(change.address.rsplit("/", 1)[0])
        repeated = check_repeated(coll) if coll is not None else True
        method, path = self.endpoint(
            "create", service=service, checkrepeated="true" if repeated else "false"
        )
        body = self.body(change, full=True)
        try:
            resp = self._send(method, path, change, body, idempotent=False)
        except RetryableError as lost:
            if not repeated:
                raise  # a resend could create a second contact: leave it uncertain
            # checkrepeated=true: a resend cannot double the contact. It answers the id,
            # or the vendor's duplicate answer (success: false) when the first one landed.
            try:
                resp = self._send(method, path, change, body, idempotent=True)
            except RetryableError:
                raise lost from None
            if not _succeeded(resp):
                raise RetryableError(
                    f"{method} {path}: the answer was lost and the resend was refused ({_shown(resp)}), "
                    "which is Nubitalk's answer to a duplicate: the contact most likely exists. Find its id on "
                    f"OneSupervisor's Manage Contacts screen and run `reconcile import '{change.address}' CONTACT_ID`",
                    address=change.address,
                ) from None
        data = self._success(resp, method, path, change).get("data")
        if isinstance(data, bool) or not isinstance(data, int | str) or not str(data).isdigit():
            raise RetryableError(
                f"{method} {path}: the vendor answered success without a contact id ({_shown(resp)}); the contact "
                f"exists: find its id on Manage Contacts and run `reconcile import '{change.address}' CONTACT_ID`",
                address=change.address,
            )
        return str(data)

    # -- bodies -------------------------------------------------------------------
    def body(self, change: Change, *, full: bool) -> dict[str, Any]:
        """The JSON contact: every managed field (create, `update: full`), or only the
        changed ones, a removed metadata entry sent with a null Value (`update: partial`)."""
        coll = self.collections.get(change.address.rsplit("/", 1)[0])
        types = declared_types(coll.options) if coll is not None else {}
        after = change.after or {}
        out: dict[str, Any] = {}
        if full:
            for name, value in after.items():
                if name == "Metadata":
                    meta = value if isinstance(value, Mapping) else {}
                    out["Metadata"] = [
                        self.entry(k, types.get(k), v) for k, v in meta.items() if v is not None
                    ]
                else:
                    out[name] = self.value(name, value)
            return out
        entries = []
        for f in change.fields:
            if f.name.startswith("Metadata."):
                name = f.name.partition(".")[2]
                entries.append(self.entry(name, types.get(name), f.after))
            else:
                out[f.name] = self.value(f.name, f.after)
        if entries:
            out["Metadata"] = entries
        return out

    def value(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        if name in ("Priority", "AgentID"):
            return str(value) if self.opts["numeric_form"] == "string" else int(value)
        if name == "Address" and self.opts["address_form"] == "digits":
            return re.sub(r"\D", "", str(value))
        return value

    def entry(self, name: str, kind: str | None, value: Any) -> dict[str, Any]:
        kind = kind or "string"
        type_: Any = (
            str(METADATA_TYPES[kind]) if self.opts["metadata_type_form"] == "code" else kind
        )
        if value is not None and self.opts["metadata_value_form"] == "string":
            value = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return {"Name": name, "Type": type_, "Value": value}

    # -- answers ------------------------------------------------------------------
    def _send(
        self, method: str, path: str, change: Change, body: Any, *, idempotent: bool
    ) -> httpx.Response:
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        return self.client.request(
            method, path, address=change.address, idempotent=idempotent, ok=_ANSWERED,
            content=content,
        )  # fmt: skip

    def _success(
        self, resp: httpx.Response, method: str, path: str, change: Change
    ) -> dict[str, Any]:
        if _succeeded(resp):
            body: dict[str, Any] = resp.json()
            return body
        raise self._refusal(resp, method, path, change)

    def _delete_answer(self, resp: httpx.Response, method: str, path: str, change: Change) -> None:
        if _succeeded(resp):
            return
        if (
            resp.is_success
            and not resp.content.strip()
            and self.opts["delete_answer"] == "envelope_or_empty"
        ):
            return  # an empty 2xx (or 204): the documentation leaves the delete answer open
        if resp.status_code == 404 and _envelope(resp) is not None:
            return  # the contact is already gone: the goal is met
        raise self._refusal(resp, method, path, change)

    def _refusal(
        self, resp: httpx.Response, method: str, path: str, change: Change
    ) -> ProviderError:
        status = resp.status_code
        head = f"{self.config.name}: {method} {path} answered {status} {_shown(resp)}"
        if status >= 500 and _envelope(resp) is None:
            # Not the vendor's own refusal: the write may or may not have happened.
            return RetryableError(f"{head}; the outcome is unknown", address=change.address)
        if status in (401, 403):
            return AuthError(
                f"{head}: the token was refused (check providers.{self.config.name}.token)",
                address=change.address,
                status=status,
            )
        if status == 404 and _envelope(resp) is None:
            return ProviderError(
                f"{head}: no such route; check providers.{self.config.name}.url (it ends in /standard/api/v1)",
                address=change.address,
                status=status,
            )
        causes = {
            Action.CREATE: "a field the service's Contact List Setup requires is missing (list it in required:), "
            "a metadata name or type the service does not define, a value in a form it refuses, a wrong service "
            "id or token, or, with check_repeated: true, a contact with this Address already exists (if an earlier "
            "answer was lost, it is that contact: find its id on Manage Contacts and run "
            f"`reconcile import '{change.address}' CONTACT_ID`)",
            Action.DELETE: "the contact no longer exists there (deleted by hand or by a lost earlier attempt: then "
            f"run `reconcile state rm '{change.address}'`), or a wrong service id or token",
        }.get(
            change.action,
            "the contact no longer exists in this service (deleted by hand: `reconcile state rm` it and plan again "
            "to recreate it), a field the service requires is cleared, a metadata name or type the service does "
            "not define, a value in a form it refuses, or a wrong token",
        )
        return ProviderError(
            f"{head}. Nubitalk gives no reason for a refusal; usually: {causes}",
            address=change.address,
            status=status,
            vendor_message=resp.text[:300],
        )


def check_repeated(coll: Collection | None) -> bool:
    return coll is None or coll.options.get("check_repeated", True) is not False


def _envelope(resp: httpx.Response) -> dict[str, Any] | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and "success" in body else None


def _succeeded(resp: httpx.Response) -> bool:
    body = _envelope(resp)
    return resp.is_success and body is not None and body.get("success") is True


def _shown(resp: httpx.Response) -> str:
    text = resp.text.strip()
    return text[:200] if text else "(empty body)"
