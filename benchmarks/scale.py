"""Scale sweep (not a test): no-op plan and 1% change plan at several record counts.

    python benchmarks/scale.py [--sizes 10000,100000,1000000] [--runs 3] [--out FILE.json]

Each size is one project of 20 collections of two kinds: half the records are CIOPulse
contacts (one collection, a YAML manifest), the other half jtel dialler contacts in 19
campaigns (CSV item files). The sandbox runs as its own process and is loaded through
its admin API; `apply` adopts every record once (state now knows them and the cache of
checked manifests is warm), then:

- no-op plan, `--runs` times: wall, peak RSS of the reconcile process, requests;
- 1% change: 1% of the records edited in the manifests, then `plan` twice: the first
  run re-reads the edited files (a cold cache), the second is every later run.

Prints one JSON document and, with --out, writes it for benchmarks/plot.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench import SandboxProcess, config, contact, emit, run  # noqa: E402

CAMPAIGNS = 19
FIRST_CAMPAIGN = 600


def jtel_row(cid: int, i: int) -> dict[str, Any]:
    return {"UserData": f"C{cid}-{i:07d}", "Name": f"Name{i}", "FirstName": "Max",
            "PhoneNumber1": f"+49{cid}{i:07d}", "City": "Berlin"}  # fmt: skip


def write_manifests(project: Path, n: int, changed: int = 0) -> None:
    """The project's manifests; the first `changed` records of each collection edited."""
    m = project / "manifests"
    m.mkdir(parents=True, exist_ok=True)
    cio, per = n // 2, (n - n // 2) // CAMPAIGNS
    out = ["kind: ciopulse/contacts", "provider: cio", "items:"]
    for i in range(cio):
        c = contact(i)
        title = "Team lead" if i < changed * cio // n else c["job_title"]
        out.append(f"  - system_id: {c['system_id']}\n    first_name: {c['first_name']}\n    last_name: {c['last_name']}\n"
                   f"    email: {c['email']}\n    job_title: {title}\n    mobile: '{c['mobile']}'")  # fmt: skip
    (m / "contacts.yaml").write_text("\n".join(out) + "\n")
    for k in range(CAMPAIGNS):
        cid = FIRST_CAMPAIGN + k
        rows = ["UserData,Name,FirstName,PhoneNumber1,City"]
        for i in range(per):
            r = jtel_row(cid, i)
            if i < changed * per // n:
                r["City"] = "Hamburg"
            rows.append(",".join(str(v) for v in r.values()))
        (m / f"c{cid}.csv").write_text("\n".join(rows) + "\n")
        (m / f"c{cid}.yaml").write_text(
            f"kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {{id: {cid}}}\nitems_from: c{cid}.csv\n"
        )


def load_vendor(sb: SandboxProcess, n: int) -> None:
    cio, per = n // 2, (n - n // 2) // CAMPAIGNS
    for start in range(0, cio, 20000):
        sb.admin("POST", "/ciopulse/bulk", json=[contact(i) for i in range(start, min(cio, start + 20000))])  # fmt: skip
    for k in range(CAMPAIGNS):
        cid = FIRST_CAMPAIGN + k
        sb.admin("POST", "/jtel/campaigns", json={"id": cid, "name": f"Campaign {cid}"})
        for start in range(0, per, 20000):
            sb.admin("POST", "/jtel/bulk", json=[{**jtel_row(cid, i), "DiallerCampaignsID": cid}
                                                 for i in range(start, min(per, start + 20000))])  # fmt: skip


def measured(sb: SandboxProcess, project: Path, want: int) -> dict[str, Any]:
    sb.admin("POST", "/stats/reset")
    wall, rss, rc, tail = run(project, "plan", "--detailed-exitcode")
    assert rc == want, tail
    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(rss, 1),
        "requests": sb.requests()["total"],
    }


def one_size(n: int, runs: int) -> dict[str, Any]:
    sb = SandboxProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            # 500,000 contacts in one YAML file are 78 MiB: over the default file limit.
            (project / "reconcile.yaml").write_text(config(sb.url) + "limits: {max_file_mb: 512}\n")
            write_manifests(project, n)
            load_vendor(sb, n)
            wall, rss, rc, tail = run(project, "apply", "--auto-approve")
            assert rc == 0, tail
            noop = [measured(sb, project, 0) for _ in range(runs)]
            write_manifests(project, n, changed=n // 100)
            first = measured(sb, project, 2)
            later = [measured(sb, project, 2) for _ in range(max(1, runs - 1))]
            return {"records": n, "collections": 1 + CAMPAIGNS,
                    "setup_adopt": {"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1)},
                    "noop": noop, "change_1pct_first": first, "change_1pct": later}  # fmt: skip
    finally:
        sb.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M")
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        results.append(one_size(n, args.runs))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    emit({"benchmark": "scale", "started": started, "sizes": results}, args.out)


if __name__ == "__main__":
    main()
