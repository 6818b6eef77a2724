"""The `reconcile` command: a thin click shell over the engine.

Exit codes are decided here and only here: 0 success and nothing to do,
1 any error (click's own usage errors included), 2 changes present
(`plan --detailed-exitcode`) or drift found (`drift`).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

import click

from reconcile import __version__, redact
from reconcile.cli.common import EXIT_INTERRUPTED, Context, SuggestingGroup, echo_err, setup_logging
from reconcile.engine import Engine
from reconcile.errors import ReconcileError

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


@click.group(
    cls=SuggestingGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
# The distribution is reconcile-cc (the name "reconcile" on the package index belongs to
# another project); the version comes from the package, so a checkout run in place has one too.
@click.version_option(version=__version__, package_name="reconcile-cc", prog_name="reconcile")
@click.option("-C", "directory", type=click.Path(file_okay=False, path_type=str), default=".", show_default=True,
              help="Run as if started in this project folder.")  # fmt: skip
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Path of reconcile.yaml (default: DIR/reconcile.yaml).")  # fmt: skip
@click.option(
    "--no-color",
    is_flag=True,
    help="No colour (also when NO_COLOR is set or output is not a terminal).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Log every vendor request (method, path, status, time) to stderr; never credentials.",
)
@click.pass_context
def cli(
    ctx: click.Context, directory: str, config: str | None, no_color: bool, debug: bool
) -> None:
    """Contact-centre data as code: plan, apply and drift-check what each vendor holds."""
    setup_logging(debug)
    # `obj` is what `run_cli` was given: the list `main` keeps finished engines in, or None.
    ctx.obj = Context.make(directory, config, no_color, debug, left_to_exit=ctx.obj)


def _register() -> None:
    from reconcile.cli import authoring, records, run, tools

    for module in (run, records, tools, authoring):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the CLI and map every outcome to an exit code."""
    kept: list[Engine] = []
    code = run_cli(argv, left_to_exit=kept)
    if not kept:
        sys.exit(code)
    # A run that used an engine has closed it (sessions ended, state and its journal
    # committed and closed) and written its output: end the process without freeing its
    # data object by object. Only the standard streams are left to flush.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or EXIT_ERROR
    os._exit(code)


def _malloc_settings() -> None:
    """glibc gives each thread that allocates its own heap (arena). A plan's vendor reads run
    in threads while the main thread reads state, and each read thread's heap keeps its own
    free pieces: ~9 MB of a 100,000-record plan's 193 MB, measured. One arena (what
    MALLOC_ARENA_MAX=1 does) costs nothing measurable in time here: the threads wait on the
    network and the GIL, not on malloc. Elsewhere (musl, macOS) this is a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, 1)  # M_ARENA_MAX, 1
        # A fixed threshold for allocations served by mmap, so that freed large buffers (a
        # body, a cache entry) go back to the system. glibc otherwise raises it to the size
        # of each large buffer freed, and later ones land in the heap, where their pieces
        # stay: 6.5 MB of a 100,000-record plan's peak, measured.
        libc.mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def run_cli(argv: Sequence[str] | None = None, left_to_exit: list[Engine] | None = None) -> int:
    """Run the command line in this process and return its exit code. Engines the run
    finishes with go into `left_to_exit` when given (the caller then ends the process
    without freeing them), else they are freed."""
    # A run builds hundreds of thousands of small, acyclic containers (items, records,
    # state entries); the default thresholds rescan them again and again (~1 s at
    # 100,000 records). Collect far less often; memory is bounded by the data anyway.
    gc.set_threshold(100_000, 50, 100)
    _malloc_settings()
    try:
        rv = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="reconcile",
            standalone_mode=False,
            obj=left_to_exit,
        )
    except click.exceptions.UsageError as exc:
        # click would exit 2, which means "changes present" here: a typo in a cron job is not drift.
        echo_err(redact.scrub(exc.format_message()))
        if exc.ctx is not None:
            echo_err(f"Try '{exc.ctx.command_path} --help' for help.")
        return EXIT_ERROR
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort; it is an interruption (130), as a shell reports it.
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            echo_err("Interrupted.")
            return EXIT_INTERRUPTED
        echo_err("Aborted.")
        return EXIT_ERROR
    except click.ClickException as exc:
        echo_err("Error: " + redact.scrub(exc.format_message()))
        return EXIT_ERROR
    except ReconcileError as exc:
        echo_err("Error: " + redact.scrub(str(exc)))
        return EXIT_ERROR
    except KeyboardInterrupt:
        echo_err("Interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    if isinstance(rv, int):
        return rv
    return EXIT_OK
