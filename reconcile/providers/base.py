"""The provider contract: how the engine reads from and writes to one vendor.

A provider translates; it does not decide. Planning, ordering, journaling
and safety live in the engine. What must hold on failure:

- `write` raises `RetryableError` when the outcome is unknown (the engine
  keeps the record `uncertain` and resolves it on the next run) and any other
  `ProviderError` when the vendor refused (nothing changed there).
- A failed delete means the record still exists; a 404 on delete is success.
- `read` returns every live record of the collection's scope, or raises.
- `write_batch` (for vendors that take many changes in one request, when
  `batch_size` says so) returns one outcome per change, in order; an unknown
  outcome of the request is unknown for every change it carried.
- A provider that holds a session opens it on its first call and ends it in
  `close`, which the engine calls once every write is finished, also after a
  failure or Ctrl-C.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from reconcile.config import ProviderConfig
from reconcile.errors import Problem, ProviderError, UsageError
from reconcile.http import VendorClient
from reconcile.model import Change, Collection, Live, StateEntry


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one change of a batch: ok, failed (refused) or unknown."""

    result: str  # "ok" | "failed" | "unknown"
    remote_id: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class ReadResult:
    """Live records of one scope by key; keys the vendor holds more than once are set apart."""

    records: Mapping[str, Live]
    duplicates: Mapping[str, list[Live]] = field(default_factory=dict)
    # Said once in plan and drift: records skipped, behaviours this vendor does not show.
    warnings: tuple[str, ...] = ()
    # Fields (toggles) the reads do not show: planned from state, never claimed as drift.
    unobservable: frozenset[str] = frozenset()


class Provider(abc.ABC):
    type: ClassVar[str]
    can_read: ClassVar[bool] = True
    # Every call by name: "METHOD /path/{param}". Users override any of them with
    # `endpoints:` in the provider's config, for calls a vendor does not document.
    endpoint_defaults: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self, config: ProviderConfig, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.config = config
        unknown = set(config.endpoints) - set(self.endpoint_defaults)
        if unknown:
            raise UsageError(
                f"{config.origin}: providers.{config.name}.endpoints: unknown call(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(self.endpoint_defaults)}"
            )
        self.client = VendorClient(
            config, headers=self.auth_headers(), message=self.error_message, transport=transport
        )

    # -- wire ---------------------------------------------------------------------
    @abc.abstractmethod
    def auth_headers(self) -> Mapping[str, str]: ...

    @abc.abstractmethod
    def error_message(self, resp: httpx.Response) -> str: ...

    def endpoint(self, name: str, **params: Any) -> tuple[str, str]:
        spec = self.config.endpoints.get(name) or self.endpoint_defaults[name]
        method, path = spec.split(" ", 1)
        missing = [k for k, v in params.items() if v is None and "{" + k + "}" in path]
        if missing:  # never a request to `/contact/None`
            raise ProviderError(f"{self.config.name}: {name}: no {', '.join(missing)} known")
        return method.upper(), path.format(**{k: quote(str(v), safe="") for k, v in params.items()})

    def close(self) -> None:
        self.client.close()

    @property
    def request_count(self) -> int:
        return self.client.requests

    # -- the contract -------------------------------------------------------------
    def resolve_scope(self, coll: Collection) -> str | None:
        """The vendor's id for the collection's scope (may call the vendor)."""
        return None

    @abc.abstractmethod
    def read(self, coll: Collection, scope_id: str | None) -> ReadResult:
        """Every live record in the scope: one request per collection (plus pages)."""

    @abc.abstractmethod
    def write(self, change: Change, scope_id: str | None) -> str | None:
        """Apply one change at the vendor; return the record's remote id when known."""

    def check_plan(
        self, coll: Collection, live: ReadResult, changes: list[Change]
    ) -> list[Problem]:
        """Problems the vendor would refuse, found before anything is sent."""
        return []

    def retry_uncertain(self, coll: Collection, remote_id: str | None) -> bool:
        """With no read API: may a write whose outcome is unknown simply be sent again?
        (No by default: the plan holds it back with an import hint.)"""
        return False

    def check_remote_id(self, remote_id: str) -> str | None:
        """Why `remote_id` cannot be one of this vendor's ids (for `reconcile import`), or None."""
        return None

    def readable(self, coll: Collection) -> bool:
        """Whether this collection's live records can be read (a vendor without a read
        API may still offer one for some collections)."""
        return self.can_read

    def shape_plan(
        self, coll: Collection, changes: list[Change], state: Mapping[str, StateEntry]
    ) -> tuple[list[Change], list[str]]:
        """The vendor's meaning of some changes, with a warning each: a removal no call can
        make is a manual step; a message already sent cannot be taken back (forgotten)."""
        return changes, []

    def settle_hint(self, address: str) -> str:
        """How a person settles a write whose outcome is unknown, on a vendor that cannot be read."""
        return (
            f"check it at the vendor, then run: reconcile import '{address}' REMOTE_ID "
            f"(or reconcile state rm '{address}' if it does not exist there)"
        )

    # -- batches: one request carries many changes -----------------------------------
    def batch_size(self, change: Change) -> int | None:
        """How many changes like this one go in one request; None: one `write` each."""
        return None

    def write_batch(self, changes: list[Change], scope_id: str | None) -> list[BatchOutcome]:
        """Apply several changes of one collection and action in one request."""
        raise NotImplementedError(f"provider type {self.type} writes one change at a time")

    def fetch_one(self, coll: Collection, scope_id: str | None, remote_id: str) -> Live | None:
        """One live record by its remote id, for `reconcile import`."""
        for rec in self.read(coll, scope_id).records.values():
            if rec.remote_id == remote_id:
                return rec
        return None

    def history(self, change_like: Live, scope_id: str | None) -> list[dict[str, Any]]:
        raise UsageError(f"provider type {self.type} offers no history")
