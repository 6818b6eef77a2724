"""import, export, state and history: working with single records."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from reconcile import kinds
from reconcile.cli.common import (
    Context,
    SuggestingGroup,
    echo,
    lock_timeout_option,
    masker,
    pass_ctx,
    show_values_option,
    write_private,
)
from reconcile.errors import UsageError
from reconcile.model import Collection, Prune, StateEntry, Status

_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@click.command("import")
@click.argument("address", required=False)
@click.argument("remote_id", required=False)
@click.option(
    "--from-csv",
    "from_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Import many: a CSV file of address,contact_id rows (all checked first, one transaction).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Import an address no manifest declares (the next plan deletes it).",
)
@lock_timeout_option
@pass_ctx
def import_(
    ctx: Context,
    address: str | None,
    remote_id: str | None,
    from_csv: Path | None,
    force: bool,
    lock_timeout: float,
) -> int:
    """Adopt an existing vendor record: record REMOTE_ID in state as ADDRESS."""
    if from_csv is not None:
        if address or remote_id:
            raise UsageError("give either ADDRESS REMOTE_ID or --from-csv FILE, not both")
        from reconcile.importing import import_many, read_rows

        rows = read_rows(from_csv, str(from_csv))
        with ctx.engine() as engine, engine.store.lock("import", timeout=lock_timeout):
            entries, warnings = import_many(engine, rows, force=force)
        for w in warnings:
            echo(f"Warning: {w}", err=True)
        echo(f"Imported {len(entries)} record(s) from {from_csv}.")
        return 0
    if not address or not remote_id:
        raise UsageError("give ADDRESS and REMOTE_ID (or --from-csv FILE)")
    with ctx.engine() as engine, engine.store.lock("import", timeout=lock_timeout):
        entry, warnings = engine.import_record(address, remote_id, force=force)
    for w in warnings:
        echo(f"Warning: {w}", err=True)
    echo(
        f"Imported {entry.address} (remote id {entry.remote_id}); {len(entry.fields)} managed field(s) recorded."
    )
    return 0


def _scope_ref(spec: kinds.KindSpec, scope: str | None) -> dict[str, Any]:
    if spec.scope_field is None:
        if scope:
            raise UsageError(f"kind {spec.name} has no scope; drop --scope")
        return {}
    if not scope:
        raise UsageError(f"kind {spec.name} needs --scope ({spec.scope_field})")
    return {"id": int(scope)} if scope.isdigit() else {"name": scope}


@click.command()
@click.option(
    "--provider", "provider_name", required=True, help="Provider name from reconcile.yaml."
)
@click.option("--kind", "kind_name", required=True, help="Kind, e.g. ciopulse/contacts.")
@click.option(
    "--scope", default=None, help="Scope: a jtel campaign id or name, a service, a channel."
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the manifest here instead of stdout (readable by its owner only).",
)
@show_values_option
@pass_ctx
def export(
    ctx: Context,
    provider_name: str,
    kind_name: str,
    scope: str | None,
    out: Path | None,
    show_values: bool,
) -> int:
    """Write the live records of one scope as a manifest document."""
    spec = kinds.get(kind_name)
    if spec is None:
        raise UsageError(f"unknown kind {kind_name!r}; known: {', '.join(kinds.all_kinds())}")
    if out is None and not show_values and not sys.stdout.isatty():
        # A manifest is all values: masked, it would be a trap (applied, it would overwrite
        # every name with its mask); in clear, it would land in a CI log.
        raise UsageError(
            "export writes personal data: give --out FILE (written readable by its owner only), "
            "or --show-values to print it where stdout is not a terminal"
        )
    with ctx.engine() as engine:
        prov = engine.provider(provider_name)
        if prov.type != spec.provider_type:
            raise UsageError(
                f"provider {provider_name!r} is of type {prov.type}, kind {kind_name} needs {spec.provider_type}"
            )
        if not prov.can_read:
            raise UsageError(f"{prov.type} has no read API: there is nothing to export")
        ref = _scope_ref(spec, scope)
        coll = Collection(
            provider_name,
            kind_name,
            spec.scope_display(ref),
            ref,
            Prune.MANAGED,
            False,
            (),
            "--scope",
        )
        scope_id = prov.resolve_scope(coll)
        live = prov.read(coll, scope_id)
    items = []
    for key in sorted(live.records):
        rec = live.records[key]
        item = {spec.key_field: key}
        item.update(
            {
                k: v
                for k, v in rec.fields.items()
                if v is not None and k in spec.item_schema.get("properties", {})
            }
        )
        items.append(item)
    doc: dict[str, Any] = {"kind": kind_name, "provider": provider_name}
    if spec.scope_field:
        doc[spec.scope_field] = ref
    doc["prune"] = "managed"
    doc["items"] = items
    text = f"# exported from {provider_name} by reconcile export\n" + yaml.dump(
        doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000
    )
    if out is not None:
        write_private(out, text)
        echo(f"Wrote {len(items)} item(s) to {out}.", err=True)
    else:
        sys.stdout.write(text)
    if live.duplicates:
        echo(
            f"Warning: {len(live.duplicates)} key(s) are held more than once at the vendor and were exported once: {', '.join(sorted(live.duplicates))}",
            err=True,
        )
    return 0


@click.group(cls=SuggestingGroup)
def state() -> None:
    """Inspect and edit the state: what reconcile manages."""


@state.command("list")
@click.option(
    "--status",
    type=click.Choice(["ok", "uncertain"]),
    default=None,
    help="Only entries with this status.",
)
@show_values_option
@pass_ctx
def state_list(ctx: Context, status: str | None, show_values: bool) -> int:
    """One line per managed record: address, remote id, status."""
    with ctx.store() as store:
        m = masker(show_values, "text", store.lineage_serial()[0])
        for e in store.entries().values():
            if status and e.status.value != status:
                continue
            echo(f"{m.addr(e.address)}\t{e.remote_id or '-'}\t{e.status.value}")
    return 0


@state.command("show")
@click.argument("address")
@show_values_option
@pass_ctx
def state_show(ctx: Context, address: str, show_values: bool) -> int:
    """Everything state holds for one address, as JSON."""
    with ctx.store() as store:
        lineage, serial = store.lineage_serial()
        m = masker(show_values, "json", lineage)
        e = store.get(address)
        if e is None:
            raise UsageError(f"{m.addr(address)}: not in the state (see `reconcile state list`)")
        echo(json.dumps(
            {"address": m.addr(e.address), "provider": e.provider, "kind": e.kind, "scope": e.scope,
             "key": m.addr(e.key), "remote_id": e.remote_id, "status": e.status.value,
             "fields": m.fields(e.kind, dict(e.fields)), "lineage": lineage, "serial": serial},
            indent=2, ensure_ascii=False,
        ))  # fmt: skip
    return 0


@state.command("rm")
@click.argument("address")
@pass_ctx
def state_rm(ctx: Context, address: str) -> int:
    """Forget ADDRESS; the vendor's record is left alone."""
    with ctx.store() as store, store.lock("state rm"):
        if not store.remove(address):
            raise UsageError(f"{address}: not in the state")
    echo(f"Removed {address} from the state; the vendor's record was not touched.")
    return 0


@state.command("confirm")
@click.argument("addresses", nargs=-1, required=True)
@pass_ctx
def state_confirm(ctx: Context, addresses: tuple[str, ...]) -> int:
    """Record what a person checked at a vendor that cannot be read: an entry whose write
    had an unknown outcome arrived (it is kept, never sent again), or an entry no manifest
    declares any more was removed by hand in the vendor's UI (it is forgotten)."""
    with ctx.engine() as engine, engine.store.lock("state confirm"):
        declared = {c.address(d.key) for c in engine.collections() for d in c.items}
        missing = [a for a in addresses if engine.store.get(a) is None]
        if missing:
            raise UsageError(
                "\n".join(f"{a}: not in the state (see `reconcile state list`)" for a in missing)
            )
        puts, removes, done = [], [], []
        for a in addresses:
            e = engine.store.get(a)
            assert e is not None
            if a not in declared:
                removes.append(a)
                done.append(f"{a}: removal confirmed; forgotten")
            elif e.status is Status.UNCERTAIN:
                puts.append(dataclasses.replace(e, status=Status.OK))
                done.append(f"{a}: confirmed as received; it will not be sent again")
            else:
                raise UsageError(
                    f"{a}: nothing to confirm: it is declared and its last write succeeded "
                    "(confirm settles an unknown outcome, or a removal done by hand)"
                )
        engine.store.record_many(puts, removes)
    for line in done:
        echo(line)
    return 0


@state.command("mv")
@click.argument("src")
@click.argument("dst")
@pass_ctx
def state_mv(ctx: Context, src: str, dst: str) -> int:
    """Move a record in the state to another address (a renamed key or scope)."""
    with ctx.engine() as engine, engine.store.lock("state mv"):
        e = engine.store.get(src)
        if e is None:
            raise UsageError(f"{src}: not in the state")
        if engine.store.get(dst) is not None:
            raise UsageError(f"{dst}: already in the state; remove it first")
        coll, key = engine.collection_for(dst)
        if coll.kind != e.kind or coll.provider != e.provider:
            raise UsageError(
                f"{dst} is a {coll.provider} {coll.kind} address, {src} is {e.provider} {e.kind}"
            )
        refreshed = engine.refresh([coll.prefix])
        identity = next(r.identity for r in refreshed if r.coll.prefix == coll.prefix)
        engine.store.record_many(
            [StateEntry(dst, coll.provider, coll.kind, coll.scope, key, e.remote_id, e.fields, e.status, identity)],
            [src],
        )  # fmt: skip
        engine.remember(refreshed)
    echo(f"Moved {src} -> {dst}.")
    return 0


@state.command("pull")
@pass_ctx
def state_pull(ctx: Context) -> int:
    """Print the whole state as versioned JSON (a backup: `state pull > backup.json`)."""
    from reconcile.state.backup import pull

    with ctx.store() as store:
        sys.stdout.write(json.dumps(pull(store), indent=1, ensure_ascii=False) + "\n")
    return 0


@state.command("push")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace records of another lineage or a newer serial.")
@pass_ctx
def state_push(ctx: Context, file: Path, force: bool) -> int:
    """Restore a `state pull` backup into this state (an empty one, unless --force)."""
    from reconcile.state.backup import push

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{file}: cannot read a state document: {exc}") from exc
    with ctx.store() as store, store.lock("state push"):
        count, notes = push(store, doc, str(file), force=force)
    for n in notes:
        echo(f"Warning: {n}", err=True)
    echo(f"Restored {count} record(s) from {file}.")
    return 0


@state.command("migrate")
@click.option(
    "--to", "to", required=True, metavar="DSN|PATH",
    help="An empty target: a PostgreSQL DSN (postgresql://... or 'host=... dbname=...') or a SQLite file path.",
)  # fmt: skip
@lock_timeout_option
@pass_ctx
def state_migrate(ctx: Context, to: str, lock_timeout: float) -> int:
    """Copy the whole state to another backend (SQLite <-> PostgreSQL), then prove the copy:
    row counts and a digest of every row of every table must match. Refuses a non-empty
    target; this state is left as it was."""
    from reconcile.state.sql import SqlStore
    from reconcile.state.transfer import describe, migrate_state

    with ctx.store() as store, store.lock("state migrate", timeout=lock_timeout):
        assert isinstance(store, SqlStore)
        checked = migrate_state(store, to)
    for table, d in checked.items():
        echo(f"  {table}: {d.rows} row{'s' if d.rows != 1 else ''}, digest {d.digest[:16]}")
    echo(
        f"Migrated the state to {describe(to)}; every table's rows and digest match. Point "
        "reconcile.yaml's `state:` at it to use it; this state was not changed."
    )
    return 0


@state.command("journal")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="How many of the newest writes.",
)
@show_values_option
@pass_ctx
def state_journal(ctx: Context, limit: int, show_values: bool) -> int:
    """The newest vendor writes: intent, outcome and when (what crash recovery reads)."""
    with ctx.store() as store:
        m = masker(show_values, "text", store.lineage_serial()[0])
        for row in store.journal(limit):
            outcome = row["outcome"] or "in flight (no answer recorded)"
            detail = f"  {m.text(str(row['detail']))}" if row["detail"] else ""
            echo(
                f"{row['id']}\t{row['started_at']}\t{row['action']}\t{m.addr(str(row['address']))}\t{outcome}{detail}"
            )
    return 0


@click.command()
@click.argument("address")
@pass_ctx
def history(ctx: Context, address: str) -> int:
    """Print a record's call history, where the vendor offers one (jtel)."""
    with ctx.engine() as engine:
        coll, key = engine.collection_for(address)
        prov = engine.provider(coll.provider)
        scope_id = prov.resolve_scope(coll)
        live = prov.read(coll, scope_id).records.get(key)
        if live is None:
            raise UsageError(f"{address}: the vendor holds no such record")
        rows = prov.history(live, scope_id)
    if not rows:
        echo(f"{address}: no calls yet.")
    for row in rows:
        echo("  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


COMMANDS = [import_, export, state, history]
