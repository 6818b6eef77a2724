"""What every command shares: the context object, output that never leaks secrets, options."""

from __future__ import annotations

import difflib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from reconcile import redact
from reconcile.config import Project, load_project
from reconcile.engine import Engine
from reconcile.masking import Masker
from reconcile.state import open_project_store
from reconcile.state.base import StateStore

F = TypeVar("F", bound=Callable[..., Any])


class _ScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact.scrub(record.getMessage())
        record.args = ()
        return True


def setup_logging(debug: bool) -> None:
    root = logging.getLogger("reconcile")
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ScrubFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    click.echo(redact.scrub(text), err=err, nl=nl)


def echo_err(text: str) -> None:
    echo(text, err=True)


@dataclass
class Context:
    directory: Path
    config: Path | None
    color: bool
    debug: bool
    # Engines this run has finished with (vendor sessions ended, state closed), kept until
    # the process ends, which `main` does without freeing them: a 1,000,000-record plan
    # holds ~10 million objects, and freeing them one by one took ~0.5-1 s after the work
    # was done. None: the caller goes on after the run (tests, the demo), so they are freed.
    left_to_exit: list[Engine] | None = None

    @classmethod
    def make(
        cls,
        directory: str,
        config: str | None,
        no_color: bool,
        debug: bool,
        left_to_exit: list[Engine] | None = None,
    ) -> Context:
        color = not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()
        return cls(Path(directory), Path(config) if config else None, color, debug, left_to_exit)

    def project(self) -> Project:
        return load_project(self.directory, self.config)

    @contextmanager
    def store(self) -> Iterator[StateStore]:
        """The project's state store, closed afterwards (for commands that need no vendor)."""
        store = open_project_store(self.project())
        try:
            yield store
        finally:
            store.close()

    @contextmanager
    def engine(self, parallelism: int | None = None) -> Iterator[Engine]:
        project = self.project()
        store = open_project_store(project)
        engine = Engine(project, store, parallelism=parallelism)
        bar: Any = None
        if sys.stderr.isatty():

            def reading(done: int, total: int) -> None:
                nonlocal bar
                if done == 0:
                    bar = click.progressbar(
                        length=total, label="Reading vendors", file=sys.stderr, show_eta=False
                    )
                    bar.__enter__()
                    bar.render_progress()
                    return
                if bar is not None:
                    bar.update(1)
                    if done >= total:
                        bar.__exit__(None, None, None)
                        bar = None

            engine.read_progress = reading
        try:
            yield engine
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
            engine.close(collect=False)  # the process ends here: 0.2 s saved at 100,000 records
            store.close()
            if self.left_to_exit is not None:
                self.left_to_exit.append(engine)  # closed: its data goes with the process


pass_ctx = click.make_pass_decorator(Context)


def target_option(f: F) -> F:
    return click.option(
        "--target", "targets", multiple=True, metavar="ADDR",
        help="Only this address, or every address below this prefix (repeatable).",
    )(f)  # fmt: skip


def parallelism_option(f: F) -> F:
    return click.option(
        "--parallelism", type=click.IntRange(1, 256), default=None,
        help="Vendor writes in flight at once (default 10; each provider's concurrency also caps it).",
    )(f)  # fmt: skip


def format_option(f: F) -> F:
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json", "markdown", "html"]), default="text",
        show_default=True,
        help="Output format; json is versioned and described in specs/; markdown fits a PR comment; "
        "html is one self-contained file (a CI artifact).",
    )(f)  # fmt: skip


def show_values_option(f: F) -> F:
    return click.option(
        "--show-values", is_flag=True, envvar="RECONCILE_SHOW_VALUES",
        help="Show personal data (names, numbers, e-mail) unmasked. Without it they are masked in "
        "markdown and html always, and in text and json whenever stdout is not a terminal (CI logs). "
        "RECONCILE_SHOW_VALUES=1 sets it for every command (a private runner).",
    )(f)  # fmt: skip


def full_report_option(f: F) -> F:
    return click.option(
        "--full-report", "full_report", metavar="WHERE", default=None,
        help="Where the full report is (an artifact's name or URL): markdown names it when it cuts rows.",
    )(f)  # fmt: skip


def masker(show_values: bool, fmt: str, key: str) -> Masker:
    """The one masking policy of a run: markdown and html are made to be shared, so they are
    masked even on a terminal; text and json when stdout is not a terminal (a CI log, a pipe)."""
    on = not show_values and (fmt in ("markdown", "html") or not sys.stdout.isatty())
    if show_values:
        echo(
            "Note: --show-values: personal data is unmasked in this output; keep it out of "
            "shared logs and comments.",
            err=True,
        )
    return Masker(key, on)


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (a plan file or export holds personal data)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its mode through os.open
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def lock_timeout_option(f: F) -> F:
    return click.option(
        "--lock-timeout", type=click.FloatRange(0), default=0.0, show_default=True,
        help="Seconds to wait for another run's lock (default: fail at once, naming the holder).",
    )(f)  # fmt: skip


def _shard(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[int, int] | None:
    if value is None:
        return None
    index, slash, count = value.partition("/")
    if not (slash and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise click.BadParameter(f"{value!r} is not I/N with 1 <= I <= N (e.g. 2/3)")
    return int(index), int(count)


def shard_option(f: F) -> F:
    return click.option(
        "--shard", callback=_shard, metavar="I/N", default=None,
        help="Only the I-th of N stable shares of the collections (by a hash of each collection's "
        "identity): N runners, one share each, cover every collection once.",
    )(f)  # fmt: skip


class SuggestingGroup(click.Group):
    """A group that answers a mistyped command with the closest ones."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=2, cutoff=0.5)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C
