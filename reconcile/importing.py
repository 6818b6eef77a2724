"""Bulk adoption: `reconcile import --from-csv FILE` records many existing vendor records
at once. Every row is checked before anything is recorded, every problem is reported
together, and the rows go into state in one transaction."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from reconcile.errors import ManifestError, Problem, ProviderError, UsageError
from reconcile.model import StateEntry, Status
from reconcile.planning import did_you_mean

if TYPE_CHECKING:
    from reconcile.engine import Engine


def read_rows(path: Path, shown: str) -> list[tuple[str, str, str]]:
    """(address, remote id, file:line) of each row; a first row naming the columns is skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{shown}: cannot read: {exc}") from exc
    rows: list[tuple[str, str, str]] = []
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    for row in reader:
        where = f"{shown}:{reader.line_num}:1"
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if not rows and not problems and cells[0].lower() == "address":
            continue  # the header
        if len(cells) != 2 or not all(cells):
            problems.append(Problem(where, "a row holds two cells: address,contact_id"))
            continue
        rows.append((cells[0], cells[1], where))
    if problems:
        raise ManifestError(problems)
    if not rows:
        raise UsageError(f"{shown}: no rows to import (expected address,contact_id per line)")
    return rows


def import_many(
    engine: Engine, rows: list[tuple[str, str, str]], *, force: bool = False
) -> tuple[list[StateEntry], list[str]]:
    problems: list[Problem] = []
    warnings: list[str] = []
    seen_address: dict[str, str] = {}
    seen_id: dict[tuple[str, str], str] = {}
    planned: list[tuple[str, str, str, str]] = []  # address, remote id, key, collection prefix
    for address, remote_id, where in rows:
        try:
            coll, key = engine.collection_for(address)
        except UsageError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        prov = engine.provider(coll.provider)
        why = prov.check_remote_id(remote_id)
        if why:
            problems.append(Problem(where, f"{address}: {why}"))
        if address in seen_address:
            problems.append(
                Problem(where, f"{address} is already imported by {seen_address[address]}")
            )
        seen_address[address] = where
        ident = (coll.provider, remote_id)
        if ident in seen_id:
            problems.append(
                Problem(
                    where, f"id {remote_id} is already given to another address by {seen_id[ident]}"
                )
            )
        seen_id[ident] = where
        if not any(d.key == key for d in coll.items):
            if not force:
                problems.append(
                    Problem(
                        where,
                        f"{address}: no manifest declares this item; declare it first (or pass --force)",
                    )
                )
            else:
                warnings.append(f"{address} is not declared: the next plan will delete it")
        owner = engine.store.owner_of(coll.provider, coll.kind, remote_id)
        if owner is not None and owner.address != address:
            problems.append(
                Problem(
                    where,
                    f"{address}: the vendor's record {remote_id} is already owned by {owner.address}",
                )
            )
        held = engine.store.get(address)
        if (
            held is not None
            and held.remote_id not in (None, remote_id)
            and held.status is Status.OK
        ):
            problems.append(
                Problem(
                    where,
                    f"{address} is already managed as record {held.remote_id}; `reconcile state rm` it first",
                )
            )
        planned.append((address, remote_id, key, coll.prefix))
    if problems:
        raise ManifestError(problems)
    prefixes = sorted({p for *_, p in planned})
    refreshed = {r.coll.prefix: r for r in engine.refresh(prefixes)}
    entries: list[StateEntry] = []
    for address, remote_id, key, prefix in planned:
        r = refreshed[prefix]
        prov = engine.provider(r.coll.provider)
        fields: dict[str, object] = {}
        if prov.can_read:
            rec = prov.fetch_one(r.coll, r.scope_id, remote_id)
            if rec is None or rec.key != key:
                problems.append(
                    Problem(
                        address, f"{r.coll.provider} holds no record {remote_id!r} with key {key!r}"
                    )
                )
                continue
            declared = next((d for d in r.coll.items if d.key == key), None)
            managed = dict(declared.fields) if declared else dict(rec.fields)
            fields = {k: rec.fields.get(k) for k in managed}
        entries.append(
            StateEntry(address, r.coll.provider, r.coll.kind, r.coll.scope, key, remote_id, fields,
                       Status.OK, r.identity)
        )  # fmt: skip
    if problems:
        raise ManifestError(problems)
    if any(not engine.provider(r.coll.provider).can_read for r in refreshed.values()):
        warnings.append(
            "the vendor cannot be read, so the imported records' values there are unknown: the next apply "
            "sends the declared fields once"
        )
    engine.store.record_many(entries, [])
    engine.remember(refreshed.values())
    return entries, warnings


def import_record(
    engine: Engine, address: str, remote_id: str, *, force: bool = False
) -> tuple[StateEntry, list[str]]:
    """Record an existing vendor record as `address`. Only a declared item is imported:
    an undeclared one would be deleted by the next plan, so that takes `force`."""
    coll, key = engine.collection_for(address)
    warnings: list[str] = []
    declared = next((d for d in coll.items if d.key == key), None)
    if declared is None:
        if not force:
            raise UsageError(
                f"{address}: no manifest declares this item{did_you_mean(address, (coll.address(d.key) for d in coll.items))}; "
                "declare it first (or pass --force: the next plan will then delete it)"
            )
        warnings.append(
            f"{address} is not declared: the next plan will delete it (prune: {coll.prune.value})"
        )
    refreshed = engine.refresh([coll.prefix])
    r = next(r for r in refreshed if r.coll.prefix == coll.prefix)
    owner = engine.store.owner_of(coll.provider, coll.kind, remote_id)
    if owner is not None and owner.address != address:
        raise UsageError(
            f"{address}: the vendor's record {remote_id} is already owned by {owner.address}; "
            f"one record has one owner: `reconcile state mv '{owner.address}' '{address}'` to rename it"
        )
    prov = engine.provider(coll.provider)
    if not prov.can_read:
        # Nothing to look up: the vendor's values are unknown, so none are recorded and the
        # next apply sends the declared fields once.
        fields: dict[str, object] = {}
        warnings.append(
            f"{coll.provider} cannot be read, so the record's values there are unknown: the next apply sends the declared fields once"
        )
    else:
        rec = prov.fetch_one(coll, r.scope_id, remote_id)
        if rec is None:
            raise ProviderError(
                f"{coll.provider} has no record with id {remote_id!r} in {coll.prefix}",
                address=address,
            )
        if rec.key != key:
            raise UsageError(
                f"{address}: the vendor's record {remote_id!r} has key {rec.key!r}, not {key!r}"
            )
        remote_id = rec.remote_id
        managed = dict(declared.fields) if declared else dict(rec.fields)
        fields = {k: rec.fields.get(k) for k in managed}
    entry = StateEntry(
        address, coll.provider, coll.kind, coll.scope, key, remote_id, fields, Status.OK, r.identity
    )
    engine.store.put(entry)
    engine.remember(refreshed)
    return entry, warnings
