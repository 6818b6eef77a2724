"""validate, plan, apply and drift."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from reconcile import compliance, kinds
from reconcile.applying import INTERRUPTED
from reconcile.cli.common import (
    EXIT_INTERRUPTED,
    Context,
    echo,
    echo_err,
    format_option,
    full_report_option,
    lock_timeout_option,
    masker,
    parallelism_option,
    pass_ctx,
    shard_option,
    show_values_option,
    target_option,
    write_private,
)
from reconcile.config import Project
from reconcile.diff import not_taken_note
from reconcile.engine import ApplyResult, Engine
from reconcile.errors import ManifestError, ReconcileError, UsageError
from reconcile.manifest.loader import load_collections
from reconcile.masking import Masker
from reconcile.model import Plan, StateEntry
from reconcile.render.html import drift_html, plan_html
from reconcile.render.jsonout import drift_json, plan_from_dict, plan_json
from reconcile.render.markdown import drift_markdown, plan_markdown
from reconcile.render.text import drift_text, plan_text
from reconcile.state import open_project_store


@click.command()
@pass_ctx
def validate(ctx: Context) -> int:
    """Check reconcile.yaml and every manifest; no network. All problems at once."""
    project = ctx.project()
    collections = load_collections(project)
    problems, warnings = compliance.check(
        collections,
        _local_blacklist_state(project),
        {n: p.settings for n, p in project.providers.items()},
    )
    if problems:
        raise ManifestError(problems)
    for w in warnings:
        echo(f"Warning: {w}", err=True)
    items = sum(len(c.items) for c in collections)
    echo(
        f"Valid: {len(collections)} collection{'s' if len(collections) != 1 else ''}, {items} item{'s' if items != 1 else ''}, {len(project.providers)} provider{'s' if len(project.providers) != 1 else ''}."
    )
    return 0


def _local_blacklist_state(project: Project) -> list[StateEntry]:
    """Blacklist entries of a local (SQLite) state, which validate may read without a
    network; a PostgreSQL state is left to plan and apply."""
    path = project.state.path
    if project.state.backend != "sqlite" or path is None or not path.exists():
        return []
    store = open_project_store(project)
    try:
        return [
            e
            for name, spec in kinds.all_kinds().items()
            if spec.blacklist_scope is not None
            for e in store.entries(kind=name).values()
        ]
    finally:
        store.close()


def _show_plan(plan: Plan, fmt: str, ctx: Context, m: Masker, full: str | None) -> None:
    if fmt == "json":
        echo(plan_json(plan, m))
    elif fmt == "markdown":
        echo(plan_markdown(plan, m, full=full), nl=False)
    elif fmt == "html":
        echo(plan_html(plan, m), nl=False)
    else:
        echo(plan_text(plan, ctx.color, m))


def _load_plan(planfile: Path) -> Plan:
    try:
        return plan_from_dict(json.loads(planfile.read_text(encoding="utf-8")), str(planfile))
    except ValueError as exc:
        raise UsageError(f"{planfile}: not a JSON plan file: {exc}") from exc


@click.command()
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan for `reconcile apply PLANFILE` (unmasked: apply needs the values; "
    "written readable by its owner only: keep it a private artifact).",
)
@format_option
@target_option
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0: none, 1: error)."
)
@parallelism_option
@show_values_option
@shard_option
@full_report_option
@pass_ctx
def plan(
    ctx: Context,
    out: Path | None,
    fmt: str,
    targets: tuple[str, ...],
    detailed_exitcode: bool,
    parallelism: int | None,
    show_values: bool,
    shard: tuple[int, int] | None,
    full_report: str | None,
) -> int:
    """Show what apply would change at each vendor."""
    with ctx.engine(parallelism) as engine:
        engine.shard = shard
        lineage, _ = engine.store.lineage_serial()
        m = masker(show_values, fmt, lineage)
        engine.mask_personal = m.on
        p = engine.plan(targets)
    _show_plan(p, fmt, ctx, Masker(p.lineage, m.on), full_report)
    if out is not None:
        write_private(out, plan_json(p) + "\n")
        if fmt == "text":
            echo(f"Saved the plan to {out}; apply it with: reconcile apply {out}")
    if p.errors:
        return 1
    if detailed_exitcode and p.changes:
        return 2
    return 0


@click.command()
@click.argument(
    "planfile", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (needed when there is no terminal)."
)
@target_option
@parallelism_option
@click.option(
    "--force",
    is_flag=True,
    help="Apply even over every delete threshold and blacklist-removal limit.",
)
@click.option(
    "--allow-delete",
    "allow_delete",
    multiple=True,
    metavar="COLLECTION",
    help="Allow the reviewed deletes of one collection (its address prefix) over its threshold; repeatable.",
)
@lock_timeout_option
@shard_option
@show_values_option
@pass_ctx
def apply(
    ctx: Context,
    planfile: Path | None,
    auto_approve: bool,
    targets: tuple[str, ...],
    parallelism: int | None,
    force: bool,
    allow_delete: tuple[str, ...],
    lock_timeout: float,
    shard: tuple[int, int] | None,
    show_values: bool,
) -> int:
    """Make each vendor hold what the manifests declare (or apply a saved plan).

    Locks only the collections it may write: a saved plan those it changes, otherwise
    those it plans (narrow them with --target or --shard); runs on other collections
    proceed in parallel."""
    saved: Plan | None = None
    if planfile is not None:
        if targets or shard:
            raise UsageError(
                "--target and --shard cannot narrow a saved plan; make the plan with them instead"
            )
        saved = _load_plan(planfile)
    writes = None if saved is None or saved.collection_serials is None else saved.collection_serials
    with ctx.engine(parallelism) as engine, engine.locking("apply", lock_timeout, writes):
        engine.shard = shard
        skip: list[Any] = []
        if saved is not None:
            p = saved
            if p.shard:
                index, _, count = p.shard.partition("/")
                engine.shard = (int(index), int(count))
            m = masker(show_values, "text", p.lineage)
            skip = engine.check_saved(p)
        else:
            lineage, _ = engine.store.lineage_serial()
            m = masker(show_values, "text", lineage)
            engine.mask_personal = m.on
            p = engine.plan(targets)
            m = Masker(p.lineage, m.on)
            echo(plan_text(p, ctx.color, m))
            if not p.changes and not p.errors:
                engine.remember(engine.last_refreshed)
                return 0
        if p.errors:
            # Nothing is sent while anything is wrong: a half-applied change set is harder to
            # reason about than none. --target applies the part that is right.
            raise UsageError(
                f"nothing was applied: the plan has {len(p.errors)} error{'s' if len(p.errors) != 1 else ''}; "
                "fix them, or apply the rest with --target ADDR"
            )
        for note in engine.enforce_safety(p, force, allow_delete):
            echo(f"Note: {m.text(note)}")
        if planfile is None and not auto_approve:
            if not sys.stdin.isatty():
                raise UsageError(
                    "no terminal to confirm on: review the plan, then pass --auto-approve (or apply a saved plan file)"
                )
            answer = click.prompt(
                "\nApply these changes? Only 'yes' will be accepted", default="", show_default=False
            )
            if answer.strip() != "yes":
                echo("Apply cancelled; nothing was changed.")
                return 1
        with _graceful_interrupt(engine):
            result = _apply_with_progress(engine, p, skip, ctx)
        for address, names in engine.not_taken:
            echo(f"Warning: {m.text(not_taken_note(m.addr(address), names))}")
    _show_result(result, p, m)
    if engine.stopping.is_set():
        return EXIT_INTERRUPTED
    return 0 if result.ok and not p.errors and not result.skipped else 1


@contextlib.contextmanager
def _graceful_interrupt(engine: Engine) -> Iterator[None]:
    """The first Ctrl-C of an apply stops new writes and lets those in flight finish and be
    recorded (the lock and any vendor session are then released as usual); a second one
    exits at once: every write in flight is journaled, and the next plan settles it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if engine.stopping.is_set():
            echo_err(
                "Stopped at once: writes in flight are journaled as uncertain; the next plan settles them."
            )
            # End vendor sessions if that is quick; the OS releases the state lock.
            closer = threading.Thread(target=engine.close, daemon=True)
            closer.start()
            closer.join(timeout=3)
            os._exit(EXIT_INTERRUPTED)
        engine.stopping.set()
        echo_err(
            "Stopping: no new write starts; waiting for those in flight (Ctrl-C again to stop at once)."
        )

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _apply_with_progress(engine: Engine, p: Plan, skip: list[Any], ctx: Context) -> ApplyResult:
    total = len(p.changes)
    if sys.stderr.isatty() and total > 1:
        with click.progressbar(length=total, label="Applying", file=sys.stderr) as bar:
            last = [0]

            def progress(done: int, _total: int) -> None:
                bar.update(done - last[0])
                last[0] = done

            return engine.apply(p, skip=skip, progress=progress)
    return engine.apply(p, skip=skip)


def _show_result(result: ApplyResult, p: Plan, m: Masker) -> None:
    interrupted = [c for c, why in result.skipped if why == INTERRUPTED]
    for c, why in result.skipped:
        if why != INTERRUPTED:
            echo(f"Skipped {c.action.value} {m.addr(c.address)}: {m.text(why)}")
    if interrupted:
        shown = ", ".join(m.addr(c.address) for c in interrupted[:10])
        more = f" and {len(interrupted) - 10} more" if len(interrupted) > 10 else ""
        echo(
            f"Interrupted: {len(interrupted)} change(s) not started ({shown}{more}); run apply again to finish."
        )
    for c, why in result.failed:
        echo(f"Failed {c.action.value} {m.addr(c.address)}: {m.text(why)}")
    for c, why in result.uncertain:
        echo(
            f"Unknown outcome of {c.action.value} {m.addr(c.address)}: {m.text(why)} "
            "(the next plan looks it up)"
        )
    for e in p.errors:
        echo(f"Not applied: {m.text(e)}")
    echo(
        f"Apply {'complete' if result.ok and not result.skipped else 'incomplete'}: {len(result.succeeded)} succeeded, "
        f"{len(result.failed)} failed, {len(result.uncertain)} unknown, {len(result.skipped)} skipped."
    )


@click.command()
@format_option
@target_option
@show_values_option
@full_report_option
@click.option(
    "--fail-on-unobservable",
    is_flag=True,
    help="Exit 2 also when a collection cannot be observed (a vendor with no read API).",
)
@shard_option
@click.option(
    "--adopt",
    is_flag=True,
    help="Accept records changed outside: write their live values into the manifests (and state), "
    "for a pull request; still exits 2 when drift was found.",
)
@pass_ctx
def drift(
    ctx: Context,
    fmt: str,
    targets: tuple[str, ...],
    show_values: bool,
    full_report: str | None,
    fail_on_unobservable: bool,
    shard: tuple[int, int] | None,
    adopt: bool,
) -> int:
    """Report what changed behind reconcile's back; exit 2 when anything drifted."""
    with ctx.engine() as engine:
        engine.shard = shard
        report = engine.drift(targets)
        lineage, _ = engine.store.lineage_serial()
        if adopt:
            from reconcile.adopting import adopt as adopt_changes

            with engine.store.lock("drift --adopt"):
                adopted = adopt_changes(engine, report)
    m = masker(show_values, fmt, lineage)
    if fmt == "json":
        echo(drift_json(report, m))
    elif fmt == "markdown":
        echo(drift_markdown(report, m, full=full_report), nl=False)
    elif fmt == "html":
        echo(drift_html(report, m), nl=False)
    else:
        echo(drift_text(report, ctx.color, m))
    if adopt:
        # On stderr: stdout stays the report in the chosen format.
        for why in adopted.skipped:
            echo(f"Not adopted: {m.text(why)}", err=True)
        echo(
            f"Adopted {len(adopted.adopted)} record{'s' if len(adopted.adopted) != 1 else ''} changed outside into "
            f"{', '.join(adopted.files) or 'no file'}; review and commit the change.",
            err=True,
        )
    return 2 if report.drift or (fail_on_unobservable and report.unobservable) else 0


@click.command()
@click.argument("planfile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option
@show_values_option
@full_report_option
@pass_ctx
def show(ctx: Context, planfile: Path, fmt: str, show_values: bool, full_report: str | None) -> int:
    """Render a saved plan file (`plan --out`) in any format; no vendor is called."""
    p = _load_plan(planfile)
    _show_plan(p, fmt, ctx, masker(show_values, fmt, p.lineage), full_report)
    return 0


COMMANDS = [validate, plan, apply, drift, show]

__all__ = ["COMMANDS", "ReconcileError"]
