"""validate, plan, apply and drift."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from reconcile import compliance, kinds
from reconcile.cli.common import (
    Context,
    echo,
    format_option,
    lock_timeout_option,
    parallelism_option,
    pass_ctx,
    show_values_option,
    target_option,
)
from reconcile.config import Project
from reconcile.diff import not_taken_note
from reconcile.engine import ApplyResult, Engine
from reconcile.errors import ManifestError, ReconcileError, UsageError
from reconcile.manifest.loader import load_collections
from reconcile.model import Plan, StateEntry
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


def _show_plan(plan: Plan, fmt: str, ctx: Context, show_values: bool) -> None:
    if fmt == "json":
        echo(plan_json(plan))
    elif fmt == "markdown":
        echo(plan_markdown(plan, show_values), nl=False)
    else:
        echo(plan_text(plan, ctx.color))


@click.command()
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan for `reconcile apply PLANFILE`.",
)
@format_option
@target_option
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes (0: none, 1: error)."
)
@parallelism_option
@show_values_option
@pass_ctx
def plan(
    ctx: Context,
    out: Path | None,
    fmt: str,
    targets: tuple[str, ...],
    detailed_exitcode: bool,
    parallelism: int | None,
    show_values: bool,
) -> int:
    """Show what apply would change at each vendor."""
    with ctx.engine(parallelism) as engine:
        engine.mask_personal = fmt == "markdown" and not show_values
        p = engine.plan(targets)
    _show_plan(p, fmt, ctx, show_values)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(plan_json(p) + "\n", encoding="utf-8")
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
) -> int:
    """Make each vendor hold what the manifests declare (or apply a saved plan)."""
    with ctx.engine(parallelism) as engine, engine.store.lock("apply", timeout=lock_timeout):
        skip: list[Any] = []
        if planfile is not None:
            if targets:
                raise UsageError(
                    "--target cannot narrow a saved plan; make the plan with --target instead"
                )
            try:
                p = plan_from_dict(json.loads(planfile.read_text(encoding="utf-8")), str(planfile))
            except ValueError as exc:
                raise UsageError(f"{planfile}: not a JSON plan file: {exc}") from exc
            skip = engine.check_saved(p)
        else:
            p = engine.plan(targets)
            echo(plan_text(p, ctx.color))
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
            echo(f"Note: {note}")
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
        result = _apply_with_progress(engine, p, skip, ctx)
        for address, names in engine.not_taken:
            echo(f"Warning: {not_taken_note(address, names)}")
    _show_result(result, p)
    return 0 if result.ok and not p.errors and not result.skipped else 1


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


def _show_result(result: ApplyResult, p: Plan) -> None:
    for c, why in result.skipped:
        echo(f"Skipped {c.action.value} {c.address}: {why}")
    for c, why in result.failed:
        echo(f"Failed {c.action.value} {c.address}: {why}")
    for c, why in result.uncertain:
        echo(f"Unknown outcome of {c.action.value} {c.address}: {why} (the next plan looks it up)")
    for e in p.errors:
        echo(f"Not applied: {e}")
    echo(
        f"Apply {'complete' if result.ok and not result.skipped else 'incomplete'}: {len(result.succeeded)} succeeded, "
        f"{len(result.failed)} failed, {len(result.uncertain)} unknown, {len(result.skipped)} skipped."
    )


@click.command()
@format_option
@target_option
@show_values_option
@click.option(
    "--fail-on-unobservable",
    is_flag=True,
    help="Exit 2 also when a collection cannot be observed (a vendor with no read API).",
)
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
    fail_on_unobservable: bool,
    adopt: bool,
) -> int:
    """Report what changed behind reconcile's back; exit 2 when anything drifted."""
    with ctx.engine() as engine:
        report = engine.drift(targets)
        lineage, _ = engine.store.lineage_serial()
        if adopt:
            from reconcile.adopting import adopt as adopt_changes

            with engine.store.lock("drift --adopt"):
                adopted = adopt_changes(engine, report)
    if fmt == "json":
        echo(drift_json(report))
    elif fmt == "markdown":
        echo(drift_markdown(report, show_values, lineage), nl=False)
    else:
        echo(drift_text(report, ctx.color))
    if adopt:
        # On stderr: stdout stays the report in the chosen format.
        for why in adopted.skipped:
            echo(f"Not adopted: {why}", err=True)
        echo(
            f"Adopted {len(adopted.adopted)} record{'s' if len(adopted.adopted) != 1 else ''} changed outside into "
            f"{', '.join(adopted.files) or 'no file'}; review and commit the change.",
            err=True,
        )
    return 2 if report.drift or (fail_on_unobservable and report.unobservable) else 0


COMMANDS = [validate, plan, apply, drift]

__all__ = ["COMMANDS", "ReconcileError"]
