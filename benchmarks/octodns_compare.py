"""octoDNS and reconcile side by side (not a test): each plans N unchanged records.

    python benchmarks/octodns_compare.py [--records 100000] [--runs 3] [--out FILE.json]

octoDNS is installed from the package index into a temporary virtual environment
(pass --venv DIR to keep and reuse one). octoDNS has no contact-centre provider, so
the comparison is of like for like work, not the same records: octoDNS plans a zone of
N A records from one YAML provider (the manifests) against another YAML provider
holding the same N records (the live side): no changes. reconcile plans N CIOPulse
contacts declared in one YAML manifest against the sandbox (its own process, over
HTTP) holding the same N contacts and a state that knows them: no changes. Both run
as their own process; the figures are wall time and that process's peak RSS.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench import SandboxProcess, config, contact, emit, run, write_cio_manifest  # noqa: E402

OCTODNS = "octodns>=1.4"

# Runs a command as its only child and reports that child's wall time and peak RSS.
_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "wall = time.perf_counter() - t\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(f'@@BENCH {wall:.3f} {rss:.1f} {p.returncode}')\n"
    "print(p.stdout[-2000:], p.stderr[-2000:], file=sys.stderr)\n"
)


def measure(*cmd: str, cwd: Path) -> tuple[float, float, int, str]:
    p = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, cwd=cwd)  # fmt: skip
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("@@BENCH")][-1].split()
    return float(line[1]), float(line[2]), int(line[3]), p.stderr[-1500:]


def octodns_env(where: Path) -> Path:
    bindir = where / "bin"
    if not (bindir / "octodns-sync").exists():
        venv.EnvBuilder(with_pip=True).create(where)
        subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", OCTODNS], check=True)
    return bindir


def octodns_project(root: Path, n: int) -> None:
    """A zone of n A records, written identically as the desired and the live side."""
    lines = ["---"]
    for i in range(n):  # octoDNS wants names and keys in sorted order
        lines.append(f"host{i:07d}:\n  ttl: 300\n  type: A\n  value: 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")  # fmt: skip
    zone = "\n".join(lines) + "\n"
    for side in ("desired", "live"):
        (root / side).mkdir(parents=True, exist_ok=True)
        (root / side / "example.com.yaml").write_text(zone)
    (root / "config.yaml").write_text(
        "providers:\n"
        "  desired: {class: octodns.provider.yaml.YamlProvider, directory: ./desired}\n"
        "  live: {class: octodns.provider.yaml.YamlProvider, directory: ./live}\n"
        "zones:\n"
        "  example.com.: {sources: [desired], targets: [live]}\n"
    )


def octodns_plan(bindir: Path, n: int, runs: int) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        octodns_project(root, n)
        for _ in range(runs):
            wall, rss, rc, tail = measure(str(bindir / "octodns-sync"), "--config-file", "config.yaml", cwd=root)  # fmt: skip
            assert rc == 0, tail
            assert "No changes" in tail or "no changes" in tail.lower(), tail
            out.append({"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1)})
    return out


def reconcile_plan(n: int, runs: int) -> list[dict[str, Any]]:
    sb = SandboxProcess()
    out = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            (project / "reconcile.yaml").write_text(config(sb.url))
            write_cio_manifest(project, n, "yaml")
            for start in range(0, n, 20000):
                sb.admin("POST", "/ciopulse/bulk", json=[contact(i) for i in range(start, min(n, start + 20000))])  # fmt: skip
            _, _, rc, tail = run(project, "apply", "--auto-approve")  # state knows every record
            assert rc == 0, tail
            for _ in range(runs):
                wall, rss, rc, tail = run(project, "plan", "--detailed-exitcode")
                assert rc == 0, tail
                out.append({"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1)})
    finally:
        sb.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--records", default="100000", help="one count or several: 10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--venv", type=Path, help="where to keep octoDNS (default: a temporary one)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bindir = octodns_env(args.venv or Path(tmp) / "octodns")
        version = subprocess.run([str(bindir / "python"), "-c", "import octodns; print(octodns.__version__)"],
                                 capture_output=True, text=True).stdout.strip()  # fmt: skip
        results = []
        for n in (int(s) for s in args.records.split(",")):
            theirs = octodns_plan(bindir, n, args.runs)
            ours = reconcile_plan(n, args.runs)
            best_t = min(r["wall_s"] for r in theirs) / min(r["wall_s"] for r in ours)
            best_m = min(r["peak_rss_mb"] for r in theirs) / max(r["peak_rss_mb"] for r in ours)
            results.append({"records": n, "octodns": theirs, "reconcile": ours,
                            "faster_x": round(best_t, 1), "less_memory_x": round(best_m, 1)})  # fmt: skip
            print(f"{n} records: octoDNS {min(r['wall_s'] for r in theirs)} s / {min(r['peak_rss_mb'] for r in theirs)} MB, "
                  f"reconcile {min(r['wall_s'] for r in ours)} s / {max(r['peak_rss_mb'] for r in ours)} MB: "
                  f"{best_t:.1f}x faster, {best_m:.1f}x less memory", file=sys.stderr, flush=True)  # fmt: skip
    emit({"benchmark": "octodns-compare", "octodns": version, "sizes": results}, args.out)


if __name__ == "__main__":
    main()
