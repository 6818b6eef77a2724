"""fmt and init: the commands that write a project's own files."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from reconcile.cli.common import Context, echo, pass_ctx
from reconcile.errors import UsageError
from reconcile.manifest.loader import manifest_files


def _files(ctx: Context, paths: tuple[Path, ...]) -> list[Path]:
    if not paths:
        project = ctx.project()
        files, _ = manifest_files(project)
        return files
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file())
        elif p.is_file():
            out.append(p)
        else:
            raise UsageError(f"{p}: no such file or folder")
    return out


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--check", is_flag=True, help="Change nothing; exit 1 naming each file that would change."
)
@click.option(
    "--diff", "show_diff", is_flag=True, help="Print what would change as a unified diff."
)
@pass_ctx
def fmt(ctx: Context, paths: tuple[Path, ...], check: bool, show_diff: bool) -> int:
    """Rewrite manifests in canonical form: stable key order, items sorted by key, comments kept.

    Without PATH, every manifest of the project (reconcile.yaml's `manifests:`); a folder
    means every .yaml/.yml file below it. Meaning never changes: only order and layout.
    """
    from reconcile.manifest.formatting import FormatError, format_text  # round-trip YAML: only here

    changed: list[Path] = []
    broken = 0
    for path in _files(ctx, paths):
        text = path.read_text(encoding="utf-8")
        try:
            new = format_text(text)
        except FormatError as exc:
            echo(f"{path}: not formatted, not valid YAML: {exc}", err=True)
            broken += 1
            continue
        if new == text:
            continue
        changed.append(path)
        if show_diff:
            echo(
                "".join(
                    difflib.unified_diff(
                        text.splitlines(keepends=True),
                        new.splitlines(keepends=True),
                        f"{path}",
                        f"{path} (formatted)",
                    )
                ),
                nl=False,
            )
        if check:
            echo(f"would reformat {path}")
        elif not show_diff:
            path.write_text(new, encoding="utf-8")
            echo(f"reformatted {path}")
    if check and changed:
        echo(
            f"{len(changed)} file{'s' if len(changed) != 1 else ''} would be reformatted; run `reconcile fmt`."
        )
    return 1 if broken or (check and changed) else 0


COMMANDS = [fmt]


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--provider",
    "types",
    multiple=True,
    type=click.Choice(["ciopulse", "jtel", "nubitalk", "ucontact"]),
    help="A provider type to set up (repeatable; default: all four).",
)
@pass_ctx
def init(ctx: Context, directory: Path | None, types: tuple[str, ...]) -> int:
    """Scaffold a project: reconcile.yaml, one manifest per kind, .gitignore, CI notes.

    The configuration points at the sandbox through ${VAR:-default} references, so
    `reconcile sandbox serve` in another terminal makes it plan at once. Refuses to
    overwrite any file.
    """
    import json

    from reconcile import lifetimes, scaffold
    from reconcile.manifest.schemas import config_schema, manifest_schema

    root = directory if directory is not None else ctx.directory
    chosen = [t for t in scaffold.PROVIDERS if t in types] if types else list(scaffold.PROVIDERS)
    files: dict[Path, str] = {
        root / "reconcile.yaml": scaffold.config(chosen, "schemas/reconcile.schema.json"),
        root / ".gitignore": scaffold.GITIGNORE,
        root / "CI.md": scaffold.CI,
        root / "schemas" / "reconcile.schema.json": json.dumps(config_schema(), indent=2) + "\n",
        root / "schemas" / "manifest.schema.json": json.dumps(manifest_schema(), indent=2) + "\n",
    }
    for name, ptype, text in scaffold.manifests(lifetimes.now().date()):
        if ptype in chosen:
            head = scaffold.SCHEMA_LINE.format("../schemas/manifest.schema.json")
            files[root / "manifests" / name] = head + text
    there = [p for p in files if p.exists()]
    if there:
        raise UsageError(
            "init writes nothing over existing files: "
            + ", ".join(str(p) for p in there)
            + " (move them away, or pick another folder)"
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    echo(f"Created a project for {', '.join(chosen)} in {root}:")
    for path in files:
        echo(f"  {path.relative_to(root)}")
    echo(
        "Next: `reconcile sandbox serve` in another terminal, then `reconcile validate` and `reconcile plan`."
    )
    return 0


COMMANDS.append(init)
