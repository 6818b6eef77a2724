"""Scale benchmarks for reconcile (not tests: run by hand, figures go in benchmarks/README.md).

    python benchmarks/bench.py noop-plan   [--records 100000] [--format csv|yaml]
    python benchmarks/bench.py apply       [--records 10000] [--latency-ms 50] [--parallelism 16]
    python benchmarks/bench.py nubitalk-apply [--records 10000] [--latency-ms 50] [--parallelism 16]
    python benchmarks/bench.py ucontact-apply [--records 10000] [--blacklist-records 100000] [--batch-size 1000]
    python benchmarks/bench.py jtel-noop   [--records 50000] [--campaigns 5]

The write benchmarks (apply, nubitalk-apply, ucontact-apply) are in writes.py: each
compares reconcile's apply with bare httpx sending the same requests in the same run.

Each starts the sandbox in a separate process on a free loopback port, loads
the vendor side through the sandbox's admin API, and runs `reconcile` as its
own process, measuring wall time and peak RSS (of that process alone) and
the requests the sandbox saw.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

KEY = "sandbox000000000000000000000000000000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SandboxProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reconcile.sandbox", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/_admin/stats", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("sandbox did not start")

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        r = httpx.request(method, f"{self.url}/_admin{path}", timeout=600, **kw)
        r.raise_for_status()
        return r.json() if r.content else None

    def requests(self) -> dict[str, Any]:
        return dict(self.admin("GET", "/stats")["requests"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(project: Path, *args: str) -> tuple[float, float, int, str]:
    """Run `python -m reconcile` (the command users run, exit included) in its own process:
    (wall seconds, peak RSS MB of that process alone, exit code, output tail)."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        p = subprocess.Popen(
            [sys.executable, "-m", "reconcile", "-C", str(project), "--no-color", *args],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - started
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        tail = out.read().decode(errors="replace")[-600:]
    return wall, usage.ru_maxrss / 1024, p.returncode, tail


def config(url: str, extra: str = "") -> str:
    return f"""\
version: 1
state: {{backend: sqlite, path: .reconcile/state.db}}
manifests: ["manifests/*.yaml"]
policy: {{max_delete_percent: 10}}
providers:
  cio:
    type: ciopulse
    url: {url}/ciopulse/api/v5
    portal_code: SANDBOX
    api_key: ${{CIOPULSE_API_KEY:-{KEY}}}
    concurrency: 16
    timeout: 120
  dialler:
    type: jtel
    url: {url}/jtel/rest/v1.0
    client_id: "1000"
    token: ${{JTEL_TOKEN:-sandbox-jtel-token}}
    concurrency: 16
    timeout: 120
{extra}"""


def contact(i: int) -> dict[str, Any]:
    return {"system_id": f"AGENT-{i:06d}", "first_name": f"First{i}", "last_name": f"Last{i}",
            "email": f"agent{i}@example.com", "job_title": "Agent", "mobile": f"+614{i:08d}"}  # fmt: skip


def write_cio_manifest(project: Path, n: int, fmt: str) -> None:
    (project / "manifests").mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        lines = ["system_id,first_name,last_name,email,job_title,mobile"]
        lines += [",".join(contact(i).values()) for i in range(n)]
        (project / "manifests" / "contacts.csv").write_text("\n".join(lines) + "\n")
        (project / "manifests" / "contacts.yaml").write_text(
            "kind: ciopulse/contacts\nprovider: cio\nitems_from: contacts.csv\n"
        )
    else:
        out = ["kind: ciopulse/contacts", "provider: cio", "items:"]
        for i in range(n):
            c = contact(i)
            out.append(f"  - system_id: {c['system_id']}\n    first_name: {c['first_name']}\n    last_name: {c['last_name']}\n"
                       f"    email: {c['email']}\n    job_title: {c['job_title']}\n    mobile: '{c['mobile']}'")  # fmt: skip
        (project / "manifests" / "contacts.yaml").write_text("\n".join(out) + "\n")


def noop_plan(args: argparse.Namespace) -> dict[str, Any]:
    sb = SandboxProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            (project / "reconcile.yaml").write_text(config(sb.url))
            write_cio_manifest(project, args.records, args.format)
            for start in range(0, args.records, 20000):
                sb.admin(
                    "POST",
                    "/ciopulse/bulk",
                    json=[contact(i) for i in range(start, min(args.records, start + 20000))],
                )
            wall, rss, rc, tail = run(
                project, "apply", "--auto-approve"
            )  # adopts every record: state now knows them
            assert rc == 0, tail
            adopt = {"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1)}
            sb.admin("POST", "/stats/reset")
            wall, rss, rc, tail = run(project, "plan", "--detailed-exitcode")
            assert rc == 0, tail
            reqs = sb.requests()
            return {"benchmark": "noop-plan", "records": args.records, "manifest": args.format, "wall_s": round(wall, 2),
                    "peak_rss_mb": round(rss, 1), "requests": reqs["total"], "by_route": reqs["by_route"], "setup_adopt": adopt}  # fmt: skip
    finally:
        sb.stop()


def jtel_noop(args: argparse.Namespace) -> dict[str, Any]:
    sb = SandboxProcess()
    campaigns = [
        ("Outbound Sales", 538),
        ("Renewals", 539),
        ("Winback", 540),
        ("Surveys", 541),
        ("Collections", 542),
    ][: args.campaigns]
    per = args.records // len(campaigns)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            (project / "reconcile.yaml").write_text(config(sb.url))
            (project / "manifests").mkdir()
            for n, (name, cid) in enumerate(campaigns):
                rows = []
                bulk = []
                for i in range(per):
                    ud = f"C{cid}-{i:06d}"
                    rec = {
                        "UserData": ud,
                        "Name": f"Name{i}",
                        "FirstName": "Max",
                        "PhoneNumber1": f"+4930{n}{i:07d}",
                        "City": "Berlin",
                    }
                    rows.append(",".join(str(v) for v in rec.values()))
                    bulk.append({**rec, "DiallerCampaignsID": cid})
                (project / "manifests" / f"c{cid}.csv").write_text(
                    "UserData,Name,FirstName,PhoneNumber1,City\n" + "\n".join(rows) + "\n"
                )
                (project / "manifests" / f"c{cid}.yaml").write_text(
                    f"kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {{name: {name}}}\nitems_from: c{cid}.csv\n"
                )
                sb.admin("POST", "/jtel/bulk", json=bulk)
            wall, rss, rc, tail = run(project, "apply", "--auto-approve")
            assert rc == 0, tail
            sb.admin("POST", "/jtel/dial", json={"campaign": 538})  # dialler activity must not show
            sb.admin("POST", "/stats/reset")
            wall, rss, rc, tail = run(project, "plan", "--detailed-exitcode")
            assert rc == 0, tail
            reqs = sb.requests()
            return {"benchmark": "jtel-noop", "records": per * len(campaigns), "campaigns": len(campaigns), "wall_s": round(wall, 2),
                    "peak_rss_mb": round(rss, 1), "requests": reqs["total"], "by_route": reqs["by_route"]}  # fmt: skip
    finally:
        sb.stop()


def nubitalk_noop(args: argparse.Namespace) -> dict[str, Any]:
    """100,000 Nubitalk contacts known to state only (pushed as a `state pull` backup, as
    after a restore): the no-op plan must send no request at all."""
    sb = SandboxProcess()
    n = args.records
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            extra = (
                "  onecontact:\n    type: nubitalk\n"
                f"    url: {sb.url}/nubitalk/standard/api/v1\n"
                "    token: ${NUBITALK_TOKEN:-SANDBOXNUBITALKTOKEN00000000}\n"
            )
            (project / "reconcile.yaml").write_text(config(sb.url, extra))
            (project / "manifests").mkdir()
            head = ("kind: nubitalk/contacts\nprovider: onecontact\nservice: 486\n"
                    "required: [Address, Priority, AgentID]\nmetadata: {Amount: int, VIP: boolean}\nitems:\n")  # fmt: skip
            fields = [
                {"Address": f"+49301{i:07d}", "Priority": 1, "AgentID": 7,
                 "Metadata": {"Amount": i, "VIP": i % 2 == 0}}
                for i in range(n)
            ]  # fmt: skip
            (project / "manifests" / "contacts.yaml").write_text(
                head + "".join(f"  - {json.dumps(f)}\n" for f in fields)
            )
            ident = "onecontact/nubitalk/contacts/486"
            doc = {
                "format": "reconcile-state", "format_version": 1, "lineage": "bench", "serial": 1,
                "resources": [
                    {"address": f"onecontact/contacts/486/{f['Address']}", "provider": "onecontact",
                     "kind": "nubitalk/contacts", "scope": "486", "key": f["Address"], "remote_id": str(1001 + i),
                     "fields": f, "status": "ok", "collection": ident}
                    for i, f in enumerate(fields)
                ],
                "collections": [],
            }  # fmt: skip
            (project / "backup.json").write_text(json.dumps(doc))
            wall, rss, rc, tail = run(project, "state", "push", str(project / "backup.json"))
            assert rc == 0, tail
            push = {"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1)}
            sb.admin("POST", "/stats/reset")
            wall, rss, rc, tail = run(project, "plan", "--detailed-exitcode")
            assert rc == 0, tail
            reqs = sb.requests()
            return {"benchmark": "nubitalk-noop", "records": n, "wall_s": round(wall, 2),
                    "peak_rss_mb": round(rss, 1), "requests": reqs["total"], "setup_state_push": push}  # fmt: skip
    finally:
        sb.stop()


def blacklist_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Validate (compliance against as many jtel numbers) and the first apply of a big blacklist."""
    sb = SandboxProcess()
    n = args.records
    uc = (f"  uc:\n    type: ucontact\n    url: {sb.url}/ucontact\n    user: sandbox\n"
          f"    password: ${{UCONTACT_PASSWORD:-sandbox}}\n    batch_size: {args.batch_size}\n    timeout: 120\n")  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            (project / "reconcile.yaml").write_text(config(sb.url, uc))
            (project / "manifests").mkdir()
            (project / "manifests" / "bl.csv").write_text(
                "value\n" + "".join(f"+4930{i:07d}\n" for i in range(n))
            )
            (project / "manifests" / "bl.yaml").write_text(
                "kind: ucontact/blacklist\nprovider: uc\nchannel: phone\nitems_from: bl.csv\n"
            )
            (project / "manifests" / "jtel.csv").write_text(
                "UserData,Name,PhoneNumber1\n"
                + "".join(f"C{i},N{i},+4940{i:07d}\n" for i in range(n))
            )
            (project / "manifests" / "jtel.yaml").write_text(
                "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {id: 538}\nitems_from: jtel.csv\n"
            )
            v_wall, v_rss, rc, tail = run(project, "validate")
            assert rc == 0, tail
            (project / "manifests" / "jtel.yaml").unlink()
            sb.admin("POST", "/stats/reset")
            wall, rss, rc, tail = run(project, "apply", "--auto-approve")
            assert rc == 0, tail
            reqs = sb.requests()
            return {"benchmark": "blacklist", "records": n, "batch_size": args.batch_size,
                    "validate_wall_s": round(v_wall, 2), "validate_rss_mb": round(v_rss, 1),
                    "apply_wall_s": round(wall, 2), "apply_rss_mb": round(rss, 1),
                    "batches": -(-n // args.batch_size), "requests": reqs["total"], "by_route": reqs["by_route"]}  # fmt: skip
    finally:
        sb.stop()


def emit(doc: dict[str, Any], out: Path | None) -> None:
    """A benchmark's result as JSON, with the machine it ran on, to stdout and `out`."""
    doc.update(cpu_count=os.cpu_count(), python=sys.version.split()[0], load_avg=os.getloadavg())
    text = json.dumps(doc, indent=2)
    if out:
        out.write_text(text + "\n")
    print(text)


def write_options(p: argparse.ArgumentParser) -> None:
    """What the write benchmarks (apply, nubitalk-apply, ucontact-apply) share."""
    p.add_argument("--latency-ms", type=float, default=50)
    p.add_argument("--parallelism", type=int, default=16)
    p.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="interleaved (reconcile, bare httpx) pairs; medians are reported",
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("noop-plan")
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--format", choices=["csv", "yaml"], default="yaml")
    p = sub.add_parser("apply")
    p.add_argument("--records", type=int, default=10_000)
    write_options(p)
    p = sub.add_parser("jtel-noop")
    p.add_argument("--records", type=int, default=50_000)
    p.add_argument("--campaigns", type=int, default=5)
    p = sub.add_parser("nubitalk-apply")
    p.add_argument("--records", type=int, default=10_000)
    write_options(p)
    p = sub.add_parser("ucontact-apply")
    p.add_argument("--records", type=int, default=10_000, help="scheduled SMS, one request each")
    p.add_argument("--blacklist-records", type=int, default=100_000)
    p.add_argument("--batch-size", type=int, default=1000, help="blacklist entries per upload")
    write_options(p)
    p = sub.add_parser("nubitalk-noop")
    p.add_argument("--records", type=int, default=100_000)
    p = sub.add_parser("blacklist")
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--batch-size", type=int, default=1000)
    args = ap.parse_args()
    import writes  # the write benchmarks; it imports this module's helpers

    fn = {
        "noop-plan": noop_plan,
        "apply": writes.apply_bench,
        "jtel-noop": jtel_noop,
        "nubitalk-noop": nubitalk_noop,
        "nubitalk-apply": writes.nubitalk_apply,
        "ucontact-apply": writes.ucontact_apply,
        "blacklist": blacklist_bench,
    }[args.cmd]
    emit(fn(args), None)


if __name__ == "__main__":
    main()
