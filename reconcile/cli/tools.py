"""sandbox, demo and schema: the tools around the main job."""

from __future__ import annotations

import json
import os
import shlex
import tempfile
import textwrap
from pathlib import Path

import click
import httpx

from reconcile.cli.common import SuggestingGroup, echo
from reconcile.errors import UsageError
from reconcile.manifest.schemas import all_schemas


@click.group(cls=SuggestingGroup)
def sandbox() -> None:
    """The local vendor emulators (CIOPulse, jtel, Nubitalk, uContact) on one port."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True)
@click.option(
    "--latency-ms", type=click.FloatRange(0), default=0.0, help="Added to every vendor call."
)
@click.option(
    "--error-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of calls answered 5xx."
)
@click.option(
    "--throttle-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of calls answered 429 with Retry-After.",
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of connections dropped before processing.",
)
@click.option(
    "--lost-reply-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of writes committed whose answer is lost.",
)
@click.option("--seed", type=int, default=None, help="Seed for the fault dice.")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="VENDOR.NAME=VALUE",
    help="An emulator setting at start, e.g. jtel.release=legacy (VALUE as JSON, else a string). Repeatable.",
)
@click.option("--verbose", is_flag=True, help="Log every request.")
def sandbox_serve(host: str, port: int, latency_ms: float, error_rate: float, throttle_rate: float, drop_rate: float,
                  lost_reply_rate: float, seed: int | None, settings: tuple[str, ...], verbose: bool) -> int:  # fmt: skip
    """Serve the vendor emulators until interrupted."""
    from reconcile.sandbox.core import Faults, Sandbox
    from reconcile.sandbox.server import serve

    faults = Faults(
        latency_ms=latency_ms, error_rate=error_rate, throttle_rate=throttle_rate,
        drop_rate=drop_rate, lost_reply_rate=lost_reply_rate, seed=seed,
    )  # fmt: skip
    sb = Sandbox(faults)
    for vendor, changes in _settings(settings).items():
        try:
            sb.configure(vendor, changes)
        except ValueError as exc:
            raise UsageError(f"--set {vendor}: {exc}") from exc
    try:
        serve(host=host, port=port, verbose=verbose, sandbox=sb)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (is a sandbox already running? try --port)"
        ) from exc
    return 0


def _settings(items: tuple[str, ...]) -> dict[str, dict[str, object]]:
    """`VENDOR.NAME=VALUE` options by vendor; VALUE is JSON if it parses, else a string."""
    out: dict[str, dict[str, object]] = {}
    for item in items:
        target, eq, raw = item.partition("=")
        vendor, dot, name = target.partition(".")
        if not (eq and dot and vendor and name):
            raise UsageError(
                f"--set takes VENDOR.NAME=VALUE (e.g. jtel.release=legacy), not {item!r}"
            )
        try:
            value: object = json.loads(raw)
        except ValueError:
            value = raw
        out.setdefault(vendor, {})[name] = value
    return out


@click.command()
@click.argument("name", required=False)
@click.option(
    "--write",
    "write_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every schema into this folder.",
)
def schema(name: str | None, write_dir: Path | None) -> int:
    """Print the JSON Schema of a file kind (reconcile, plan, drift, or a manifest kind)."""
    schemas = all_schemas()
    if write_dir is not None:
        write_dir.mkdir(parents=True, exist_ok=True)
        for n, s in schemas.items():
            (write_dir / f"{n}.schema.json").write_text(
                json.dumps(s, indent=2) + "\n", encoding="utf-8"
            )
        echo(f"Wrote {len(schemas)} schemas to {write_dir}.")
        return 0
    if name is None:
        echo("Schemas (reconcile schema NAME):")
        for n in schemas:
            echo(f"  {n}")
        return 0
    key = name.replace("/", "-")
    if key not in schemas:
        raise UsageError(f"no schema named {name!r}; known: {', '.join(schemas)}")
    echo(json.dumps(schemas[key], indent=2))
    return 0


DEMO_CONFIG = """\
version: 1
state: {backend: sqlite, path: .reconcile/state.db}
manifests: ["manifests/*.yaml"]
policy: {max_delete_percent: 10}
providers:
  cio:
    type: ciopulse
    url: ${CIOPULSE_URL:-http://127.0.0.1:8787/ciopulse/api/v5}
    portal_code: ${CIOPULSE_PORTAL_CODE:-SANDBOX}
    api_key: ${CIOPULSE_API_KEY:-sandbox000000000000000000000000000000000}
    concurrency: 8
"""

DEMO_MANIFEST = """\
# The support team's escalation contacts, kept in git.
kind: ciopulse/contacts
provider: cio
prune: managed
items:
  - system_id: AGENT-17
    first_name: Ada
    last_name: Lovelace
    email: ada@example.com
    job_title: Team Lead
    mobile: "+61411112233"
  - system_id: AGENT-18
    first_name: Grace
    last_name: Hopper
    email: grace@example.com
    job_title: Duty Manager
  - system_id: AGENT-19
    first_name: Alan
    last_name: Turing
    email: alan@example.com
"""


@click.command()
@click.option("--keep", is_flag=True, help="Keep the demo project folder and print where it is.")
@click.pass_context
def demo(ctx: click.Context, keep: bool) -> int:
    """A self-contained walkthrough on the sandbox: validate, plan, apply, drift, repair."""
    from reconcile.cli import run_cli
    from reconcile.sandbox.server import start

    no_color = ["--no-color"] if not ctx.find_root().obj.color else []
    with start() as running, tempfile.TemporaryDirectory(prefix="reconcile-demo-") as tmp:
        project = Path(tmp)
        (project / "manifests").mkdir()
        (project / "reconcile.yaml").write_text(DEMO_CONFIG, encoding="utf-8")
        (project / "manifests" / "contacts.yaml").write_text(DEMO_MANIFEST, encoding="utf-8")
        old = os.environ.get("CIOPULSE_URL")
        os.environ["CIOPULSE_URL"] = f"{running.url}/ciopulse/api/v5"
        failures = 0

        def step(title: str, args: list[str], expect: int) -> None:
            nonlocal failures
            echo("")
            echo(click.style(f"== {title}", bold=True) if not no_color else f"== {title}")
            echo(f"$ reconcile {shlex.join(args)}")
            code = run_cli(["-C", str(project), *no_color, *args])
            echo(f"(exit code {code})")
            if code != expect:
                failures += 1
                echo(f"!! expected exit code {expect}")

        try:
            echo(f"Sandbox running at {running.url}; demo project in a temporary folder.")
            echo(textwrap.indent(DEMO_MANIFEST, "    "))
            step("1. Validate the manifests (no network)", ["validate"], 0)
            step("2. Plan: what would change at CIOPulse", ["plan"], 0)
            step("3. Apply it", ["apply", "--auto-approve"], 0)
            step("4. Plan again: nothing left to do", ["plan", "--detailed-exitcode"], 0)
            echo("")
            echo("== 5. Someone edits AGENT-18 by hand in the CIOPulse UI")
            httpx.put(
                f"{running.url}/_admin/ciopulse/contacts/AGENT-18",
                json={
                    "first_name": "Grace",
                    "last_name": "Hopper",
                    "email": "grace@example.com",
                    "job_title": "Intern",
                    "mobile": None,
                },
            ).raise_for_status()
            echo("   job_title: Duty Manager -> Intern")
            step("6. The scheduled drift check notices (exit 2)", ["drift"], 2)
            step("7. Apply repairs it", ["apply", "--auto-approve"], 0)
            step("8. Drift again: clean", ["drift"], 0)
            if keep:
                kept = Path(tempfile.mkdtemp(prefix="reconcile-demo-kept-"))
                for p in project.rglob("*"):
                    if p.is_file():
                        dest = kept / p.relative_to(project)
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.write_bytes(p.read_bytes())
                echo(
                    f"\nDemo project kept in {kept} (the sandbox is gone; run `reconcile sandbox serve` to use it)."
                )
        finally:
            if old is None:
                os.environ.pop("CIOPULSE_URL", None)
            else:
                os.environ["CIOPULSE_URL"] = old
    echo("")
    echo(
        "Demo finished: every step behaved as expected."
        if not failures
        else f"Demo finished with {failures} unexpected exit code(s)."
    )
    return 0 if not failures else 1


COMMANDS = [sandbox, schema, demo]
