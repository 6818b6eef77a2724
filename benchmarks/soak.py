"""Soak: plan/apply/drift cycles with random faults and random manifest edits against all
four emulators, for a fixed time, in one process.

After every cycle the faults are lifted and apply runs until the plan is empty; then each
vendor must hold exactly what is declared, no remote record may have two owners in state,
and the process's resident memory is sampled (it must not grow from cycle to cycle).

    python benchmarks/soak.py --minutes 30          # the documented run
    python benchmarks/soak.py --minutes 3 --seed 7  # a quick one

Prints one JSON line per cycle and a summary; exits 1 on the first broken invariant.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from reconcile.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent
N_KEYS = 60


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 2**20


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconcile", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("reconcile sandbox on "):
            return proc, line.split()[-1].strip()
    raise SystemExit("the sandbox did not start")


CONFIG = """\
version: 1
state: {{backend: sqlite, path: .reconcile/state.db}}
manifests: ["manifests/*.yaml"]
policy: {{max_delete_percent: 100}}
providers:
  cio: {{type: ciopulse, url: "{u}/ciopulse/api/v5", portal_code: SANDBOX, api_key: "${{K:-sandbox000000000000000000000000000000000}}", timeout: 5}}
  dialler: {{type: jtel, url: "{u}/jtel/rest/v1.0", client_id: "1000", token: "${{T:-sandbox-jtel-token}}", timeout: 5}}
  onecontact: {{type: nubitalk, url: "{u}/nubitalk/standard/api/v1", token: "${{N:-SANDBOXNUBITALKTOKEN00000000}}", timeout: 5}}
  uc: {{type: ucontact, url: "{u}/ucontact", user: sandbox, password: "${{P:-sandbox}}", batch_size: 7, timeout: 5}}
"""


def manifests(keys: dict[str, set[int]]) -> str:
    docs = [
        "kind: ciopulse/contacts\nprovider: cio\nitems:\n"
        + "".join(
            f"  - {{system_id: S{i}, first_name: F{i}, last_name: L, email: s{i}@example.com}}\n"
            for i in sorted(keys["cio"])
        ),
        "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {id: 539}\nitems:\n"
        + "".join(
            f'  - {{UserData: U{i}, Name: N{i}, PhoneNumber1: "+49301{i:07d}"}}\n'
            for i in sorted(keys["jtel"])
        ),
        "kind: nubitalk/contacts\nprovider: onecontact\nservice: 484\nitems:\n"
        + "".join(f'  - {{Address: "+49302{i:07d}"}}\n' for i in sorted(keys["nubi"])),
        "kind: ucontact/blacklist\nprovider: uc\nchannel: phone\nitems:\n"
        + "".join(f'  - "+49303{i:07d}"\n' for i in sorted(keys["uc"])),
    ]
    return "---\n".join(
        d if not d.endswith("items:\n") else d.replace("items:\n", "items: []\n") for d in docs
    )


def run(root: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = run_cli(["-C", str(root), "--no-color", *args])
    return code, out.getvalue()


def held(admin: httpx.Client) -> dict[str, list[str]]:
    admin.post("/_admin/ucontact/process")
    return {
        "cio": list(admin.get("/_admin/ciopulse/contacts").json()),
        "jtel": [c["UserData"] for c in admin.get("/_admin/jtel/contacts").json() if c["DiallerCampaignsID"] == 539],
        "nubi": [c["Address"] for c in admin.get("/_admin/nubitalk/contacts").json()],
        "uc": sorted({r["value"] for r in admin.get("/_admin/ucontact/blacklist").json()}),
    }  # fmt: skip


def expected(keys: dict[str, set[int]]) -> dict[str, list[str]]:
    return {
        "cio": [f"S{i}" for i in keys["cio"]],
        "jtel": [f"U{i}" for i in keys["jtel"]],
        "nubi": [f"+49302{i:07d}" for i in keys["nubi"]],
        "uc": [f"+49303{i:07d}" for i in keys["uc"]],
    }


def settle(root: Path, admin: httpx.Client, text: str) -> None:
    """A person's step for Nubitalk creates whose answers were lost (see the README)."""
    ids = {c["Address"]: c["id"] for c in admin.get("/_admin/nubitalk/contacts").json()}
    for line in text.splitlines():
        if "reconcile import '" in line:
            address = line.split("reconcile import '", 1)[1].split("'", 1)[0]
            run(root, "import", address, str(ids[address.rsplit("/", 1)[1]]))


def check(root: Path, admin: httpx.Client, keys: dict[str, set[int]]) -> str | None:
    now, want = held(admin), expected(keys)
    for vendor in want:
        if sorted(now[vendor]) != sorted(want[vendor]):
            return f"{vendor} holds {len(now[vendor])} records, {len(want[vendor])} declared"
    db = sqlite3.connect(root / ".reconcile" / "state.db")
    try:
        twice = db.execute(
            "SELECT provider, remote_id, count(*) FROM resources WHERE remote_id IS NOT NULL "
            "GROUP BY provider, kind, remote_id HAVING count(*) > 1"
        ).fetchall()
        uncertain = db.execute("SELECT count(*) FROM resources WHERE status != 'ok'").fetchone()[0]
    finally:
        db.close()
    if twice:
        return f"owned twice in state: {twice[:3]}"
    if uncertain:
        return f"{uncertain} uncertain entries after convergence"
    return None


def main() -> None:
    os.environ["RECONCILE_SHOW_VALUES"] = "1"  # the harness reads addresses from the output
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    sandbox, url = start_sandbox()
    admin = httpx.Client(base_url=url, timeout=30)
    admin.put("/_admin/ucontact/settings", json={"processing_delay_seconds": 3600})
    summary: dict[str, Any] = {"cycles": 0, "faulty_applies": 0, "exit_codes": {}, "rss_mb": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "manifests").mkdir()
            (root / "reconcile.yaml").write_text(CONFIG.format(u=url))
            keys: dict[str, set[int]] = {
                k: set(rng.sample(range(N_KEYS), 20)) for k in ("cio", "jtel", "nubi", "uc")
            }
            removed_blacklist: set[int] = set()
            end = time.monotonic() + args.minutes * 60
            while time.monotonic() < end:
                for name, ks in keys.items():  # random edits; blacklist entries only ever added
                    for _ in range(rng.randrange(0, 6)):
                        ks.add(rng.randrange(N_KEYS))
                    if name != "uc":
                        for k in rng.sample(sorted(ks), min(len(ks), rng.randrange(0, 4))):
                            ks.discard(k)
                (root / "manifests" / "all.yaml").write_text(manifests(keys))
                faults = {
                    "error_rate": rng.choice([0, 0.05, 0.1]),
                    "throttle_rate": rng.choice([0, 0.05]),
                    "retry_after": 0,
                    "drop_rate": rng.choice([0, 0.03]),
                    "lost_reply_rate": rng.choice([0, 0.03]),
                    "latency_ms": rng.choice([0, 5]),
                }
                admin.put("/_admin/faults", json=faults)
                code, text = run(root, "apply", "--auto-approve")
                summary["faulty_applies"] += 1
                summary["exit_codes"][str(code)] = summary["exit_codes"].get(str(code), 0) + 1
                admin.put("/_admin/faults", json={})
                for _ in range(4):
                    code, text = run(root, "apply", "--auto-approve")
                    if code == 0:
                        break
                    settle(root, admin, text)
                drift_code, _ = run(root, "drift")
                problem = check(root, admin, keys)
                summary["cycles"] += 1
                summary["rss_mb"].append(round(rss_mb(), 1))
                print(json.dumps({"cycle": summary["cycles"], "faults": faults, "converged": code == 0,
                                  "drift_exit": drift_code, "rss_mb": summary["rss_mb"][-1]}), flush=True)  # fmt: skip
                if code != 0 or problem:
                    print(json.dumps({"broken": problem or text[-2000:]}), flush=True)
                    raise SystemExit(1)
            del removed_blacklist
    finally:
        sandbox.terminate()
    rss = summary["rss_mb"]
    summary["rss_first_last_max"] = [rss[0], rss[-1], max(rss)] if rss else []
    del summary["rss_mb"]
    print(json.dumps({"summary": summary}))


if __name__ == "__main__":
    main()
