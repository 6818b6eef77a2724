"""Planning: refreshed collections -> one plan, with the ownership and safety rules.

Pure rules live in `diff` and `safety`; this module applies them to what a
refresh found and says what is wrong with the plan (errors, which keep the
records they name out of it) and what needs a second look (warnings, guards).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from reconcile.diff import not_taken_note, plan_collection
from reconcile.errors import (
    ManifestError,
    UsageError,
)
from reconcile.masking import mask
from reconcile.model import (
    Action,
    Change,
    Guard,
    Live,
    Plan,
    Prune,
    Status,
    Upcoming,
    address_matches,
    escape_part,
)
from reconcile.providers.base import Provider, ReadResult
from reconcile.safety import over_threshold, prevent_destroy

if TYPE_CHECKING:
    from reconcile.engine import Engine, Refreshed


def make_plan(engine: Engine, targets: tuple[str, ...]) -> Plan:
    lineage, _ = engine.store.lineage_serial()
    warnings: list[str] = compliance_warnings(engine, lineage)
    refreshed = engine.refresh(targets)
    engine.last_refreshed = refreshed
    lineage, serial = engine.store.lineage_serial()
    changes: list[Change] = []
    errors: list[str] = []
    unobservable: list[str] = []
    guards: list[Guard] = []
    for r in refreshed:
        prov = engine.provider(r.coll.provider)
        live = _live_or_state(r, prov)
        if r.live is None:
            unobservable.append(r.coll.prefix)
            warnings += _blind_notes(r, prov, serial)
        cp = plan_collection(r.coll, r.spec, live.records, r.state, r.identity, live.unobservable)
        warnings += [f"{r.coll.prefix}: {w}" for w in live.warnings]
        warnings += [not_taken_note(address, names) for address, names in cp.not_taken]
        coll_changes = _moves(r) + list(cp.changes)
        blocked = _duplicates(r, live, lineage, errors, warnings)
        coll_changes = [c for c in coll_changes if c.key not in blocked]
        for p in prov.check_plan(r.coll, live, coll_changes):
            errors.append(str(p))
            blocked.add(p.where)
        coll_changes = [c for c in coll_changes if c.address not in blocked]
        coll_changes, notes = engine.provider(r.coll.provider).shape_plan(
            r.coll, coll_changes, r.state
        )
        warnings += notes
        coll_changes = _one_owner(engine, coll_changes, errors)
        coll_changes, problems = prevent_destroy(r.coll, coll_changes)
        errors += [str(p) for p in problems]
        in_scope = len(live.records) if r.coll.prune is Prune.ALL else len(r.state)
        message = over_threshold(r.coll, coll_changes, in_scope, engine.project.policy)
        if message:
            guards.append(Guard(r.coll.prefix, message))
        if r.live is None:
            coll_changes = _hold_uncertain(r, prov, coll_changes, warnings)
        if r.coll.orphaned and r.state:
            fate = "forgotten (prune: none)" if r.coll.prune is Prune.NONE else "deleted"
            warnings.append(
                f"{r.coll.prefix}: no manifest declares this collection any more (last declared at "
                f"{r.coll.origin or 'an unknown place'}); its {len(r.state)} record(s) are planned to be {fate}. "
                "Restore the document to keep them, or `reconcile state rm` them to leave them at the vendor unmanaged"
            )
        changes += coll_changes
    if targets:
        _check_targets(refreshed, targets)
        changes = [c for c in changes if any(address_matches(c.address, t) for t in targets)]
        errors = [e for e in errors if _concerns(e, targets)]
    changes.sort(key=lambda c: c.sort_key)
    from reconcile.estimating import estimate

    cost = estimate(engine, tuple(changes))
    upcoming = [
        Upcoming(r.coll.address(key), event, when)
        for r in refreshed
        for key, event, when in r.coll.upcoming
    ]
    if targets:
        upcoming = [u for u in upcoming if any(address_matches(u.address, t) for t in targets)]
    return Plan(
        lineage=lineage,
        serial=serial,
        changes=tuple(changes),
        warnings=tuple(warnings),
        errors=tuple(errors),
        unobservable=tuple(unobservable),
        targets=targets,
        created_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        guards=tuple(guards),
        source_digest=source_digest(engine),
        collection_serials={
            c.collection: engine.read_serials.get(c.collection, 0) for c in changes if c.collection
        },
        shard=f"{engine.shard[0]}/{engine.shard[1]}" if engine.shard else "",
        upcoming=tuple(sorted(upcoming, key=lambda u: (u.when, u.address))),
        estimate=cost,
    )


def compliance_warnings(engine: Engine, lineage: str) -> list[str]:
    """The blacklist compliance rule over every declared collection and the blacklist
    entries in state: a conflict stops the plan before any request."""
    from reconcile import compliance, kinds

    state = [
        e
        for name, spec in kinds.all_kinds().items()
        if spec.blacklist_scope is not None
        for e in engine.store.entries(kind=name).values()
    ]
    settings = {n: p.settings for n, p in engine.project.providers.items()}
    problems, warnings = compliance.check(
        engine.collections(),
        state,
        settings,
        (lambda n: str(mask(n, lineage))) if engine.mask_personal else (lambda n: n),
    )
    if problems:
        raise ManifestError(problems)
    return warnings


def _live_or_state(r: Refreshed, prov: Provider) -> ReadResult:
    if r.live is not None:
        return r.live
    # No read API: what state last applied stands in for the vendor. A record whose last
    # write is uncertain but may be resent (the provider says) has unknown values there.
    records = {}
    for k, e in r.state.items():
        if e.status is Status.OK:
            records[k] = Live(k, e.remote_id or "", dict(e.fields))
        elif e.remote_id is not None and prov.retry_uncertain(r.coll, e.remote_id):
            records[k] = Live(k, e.remote_id, {})
    return ReadResult(records)


def _blind_notes(r: Refreshed, prov: Provider, serial: int) -> list[str]:
    """What a plan against state alone must say: records whose vendor values are unknown,
    and a new state that remembers nothing of a collection with items."""
    notes = []
    declared = {d.key for d in r.coll.items}
    unknown = sorted(
        e.address
        for k, e in r.state.items()
        if k in declared and e.status is Status.OK and not e.fields
    )
    if unknown:
        notes.append(
            f"{r.coll.prefix}: {len(unknown)} imported record(s) ({', '.join(unknown[:3])}{', ...' if len(unknown) > 3 else ''}) "
            f"have unknown values at the vendor ({r.coll.provider} cannot be read): each gets one update with every declared field"
        )
    if r.coll.items and not r.state and serial == 0:
        notes.append(
            f"{r.coll.prefix}: this state is new and remembers no record of this collection, and {r.coll.provider} "
            f"cannot be read: all {len(r.coll.items)} item(s) are planned as creates. If they exist at the vendor "
            "already (a lost or different state file), do not apply: restore the state with `reconcile state push "
            "BACKUP.json`, or adopt them with `reconcile import --from-csv FILE`"
        )
    return notes


def _moves(r: Refreshed) -> list[Change]:
    """State entries whose address or owner no longer follows the manifest: re-keyed in state,
    nothing sent (a scope now named instead of numbered, rows of an older reconcile)."""
    out = []
    base = r.coll.address("")  # the address of a key is this prefix and the key, escaped
    for e in r.state.values():
        address = base + escape_part(e.key)
        if address == e.address and e.collection == r.identity:
            continue
        out.append(
            Change(
                address=address, action=Action.MOVE, provider=e.provider, kind=e.kind,
                scope=r.coll.scope, key=e.key, remote_id=e.remote_id, after=e.fields,
                collection=r.identity, moved_from=e.address, origin=r.coll.origin,
            )
        )  # fmt: skip
    return out


def _duplicates(
    r: Refreshed, live: ReadResult, lineage: str, errors: list[str], warnings: list[str]
) -> set[str]:
    """Keys the vendor holds twice: those we declare or manage are blocked, with an error."""
    blocked: set[str] = set()
    if not live.duplicates:
        return blocked
    declared = {d.key for d in r.coll.items}
    for key, recs in live.duplicates.items():
        ids = ", ".join(_describe(rec, lineage) for rec in recs)
        if key in declared or key in r.state:
            blocked.add(key)
            errors.append(
                f"{r.coll.address(key)}: the vendor holds {len(recs)} records with this key ({ids}); "
                "reconcile will not guess which one is meant: delete the extra ones at the vendor, or give them other keys"
            )
        elif r.coll.prune is Prune.ALL:
            warnings.append(
                f"{r.coll.address(key)}: {len(recs)} undeclared records share this key ({ids}); "
                "prune: all does not delete them, since reconcile deletes by key: remove them at the vendor"
            )
    return blocked


def _one_owner(engine: Engine, changes: list[Change], errors: list[str]) -> list[Change]:
    """A live record state already holds under another address is not adopted a second time."""
    kept = []
    moving = {c.moved_from for c in changes if c.action is Action.MOVE}
    adopted: dict[tuple[str, str], list[str]] = {}
    for c in changes:
        if c.action is Action.ADOPT and c.remote_id:
            adopted.setdefault((c.provider, c.kind), []).append(c.remote_id)
    owners = {
        (provider, kind, remote_id): entry
        for (provider, kind), ids in adopted.items()
        for remote_id, entry in engine.store.owners_of(provider, kind, ids).items()
    }
    for c in changes:
        if c.action is Action.ADOPT and c.remote_id:
            owner = owners.get((c.provider, c.kind, c.remote_id))
            if owner is not None and owner.address != c.address and owner.address not in moving:
                errors.append(
                    f"{c.address}: the vendor's record {c.remote_id} is already owned by {owner.address} in state; "
                    f"one record has one owner: `reconcile state mv '{owner.address}' '{c.address}'` if it moved"
                )
                continue
        kept.append(c)
    return kept


def _hold_uncertain(
    r: Refreshed, prov: Provider, changes: list[Change], warnings: list[str]
) -> list[Change]:
    """No read API: an uncertain write cannot be looked up, and planning it again could
    double it. Hold it back and say exactly how to settle it, unless a resend is safe:
    the kind says a second copy is harmless (a blacklist entry), or the provider says the
    vendor refuses a duplicate (then say how to settle a resend the vendor refuses)."""
    uncertain = [e for e in r.state.values() if e.status is Status.UNCERTAIN]
    if not uncertain:
        return changes
    if r.spec.resend_uncertain:
        warnings.append(
            f"{r.coll.prefix}: {len(uncertain)} entr{'ies' if len(uncertain) != 1 else 'y'} whose upload's "
            "outcome is unknown are sent again (a second copy is harmless, a missing one is not)"
        )
        return changes
    declared = {d.key for d in r.coll.items}
    for e in uncertain:
        if prov.retry_uncertain(r.coll, e.remote_id) and (e.remote_id or e.key in declared):
            if e.remote_id is None:
                warnings.append(
                    f"{e.address}: the last create's answer was lost; it is sent again, which cannot double the "
                    "contact here. If the vendor refuses it (its answer to a duplicate), the contact exists: find "
                    f"its id at the vendor and run: reconcile import '{e.address}' CONTACT_ID"
                )
            continue
        changes = [c for c in changes if c.address != e.address or c.action is Action.MOVE]
        warnings.append(
            f"{e.address}: the last write's outcome is unknown and {r.coll.provider} cannot be read; "
            f"{prov.settle_hint(e.address)}; it is left out of this plan until then"
        )
    return changes


def _concerns(error: str, targets: tuple[str, ...]) -> bool:
    """Whether an error (it starts with the address it is about) falls inside the targets."""
    where = error.split(": ", 1)[0]
    return any(address_matches(where, t) or address_matches(t, where) for t in targets)


def _check_targets(refreshed: list[Refreshed], targets: tuple[str, ...]) -> None:
    """A target inside a collection must name a record that is declared, managed or live."""
    known: set[str] = set()
    for r in refreshed:
        known.add(r.coll.prefix)
        known.update(r.coll.address(d.key) for d in r.coll.items)
        known.update(r.coll.address(k) for k in r.state)
        if r.live is not None:
            known.update(r.coll.address(k) for k in r.live.records)
    missing = [t for t in targets if not any(address_matches(a, t) for a in known)]
    if missing:
        raise UsageError(
            "\n".join(f"--target {t} matches nothing{did_you_mean(t, known)}" for t in missing)
        )


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _describe(rec: Live, key: str) -> str:
    """A duplicate record for an error message: its id and its numbers, masked."""
    numbers = [
        mask(v, key) for k, v in sorted(rec.fields.items()) if k.startswith("PhoneNumber") and v
    ]
    return f"id {rec.remote_id}" + (f" {', '.join(map(str, numbers))}" if numbers else "")


def source_digest(engine: Engine) -> str:
    """A digest of every file a plan is made from: reconcile.yaml, the manifests and the
    files their items come from. A saved plan is applied only to the checkout it came from."""
    project = engine.project
    h = hashlib.blake2b(digest_size=16)
    files = {project.config_file.resolve()}
    for coll in engine.collections():
        files.update((project.root / src).resolve() for src in coll.sources)
    for path in sorted(files):
        h.update(project.rel(path).encode() + b"\0")
        if path.is_file():
            with path.open("rb") as f:  # in pieces: a 17 MB manifest is not held twice
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        else:
            h.update(b"(missing)")
        h.update(b"\0")
    return h.hexdigest()
