"""The write benchmarks of bench.py (not tests: run by hand, figures go in benchmarks/README.md).

Each compares reconcile's apply, its own process with its journal, with bare httpx
sending the same requests to the same kind of sandbox in the same run: the client
stack's own ceiling, with no planning, journal or process start.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench import KEY, SandboxProcess, config, contact, run, write_cio_manifest  # noqa: E402


def _timed(n: int, parallelism: int, send: Callable[[int], None]) -> float:
    """Seconds to send items 0..n-1 from `parallelism` threads."""
    started = time.perf_counter()
    with ThreadPoolExecutor(parallelism) as pool:
        list(pool.map(send, range(n)))
    return time.perf_counter() - started


def apply_bench(args: argparse.Namespace) -> dict[str, Any]:
    sb = SandboxProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            (project / "reconcile.yaml").write_text(config(sb.url))
            write_cio_manifest(project, args.records, "csv")
            sb.admin("PUT", "/faults", json={"latency_ms": args.latency_ms})
            wall, rss, rc, tail = run(
                project, "apply", "--auto-approve", "--parallelism", str(args.parallelism)
            )
            assert rc == 0, tail
            held = len(sb.admin("GET", "/ciopulse/contacts"))
            ceiling = args.parallelism * 1000.0 / args.latency_ms
            rate = args.records / wall
            bare = bare_httpx_rate(sb.url, args.records, args.parallelism)
            return {"benchmark": "apply", "records": args.records, "latency_ms": args.latency_ms, "parallelism": args.parallelism,
                    "wall_s": round(wall, 2), "writes_per_s": round(rate, 1), "ceiling_per_s": ceiling,
                    "share_of_ceiling": round(rate / ceiling, 3), "bare_httpx_per_s": round(bare, 1),
                    "share_of_bare_httpx": round(rate / bare, 3), "peak_rss_mb": round(rss, 1), "vendor_holds": held}  # fmt: skip
    finally:
        sb.stop()


def bare_httpx_rate(url: str, n: int, parallelism: int) -> float:
    """The client stack's own ceiling, measured in the same run against the same sandbox (same
    injected latency): `parallelism` threads sending n CIOPulse upserts through one httpx
    client, with no planning, journal or process start. Writes/s."""
    import base64
    from concurrent.futures import ThreadPoolExecutor

    auth = base64.b64encode(f"SANDBOX:{KEY}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json; charset=utf-8"}
    limits = httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism)
    with httpx.Client(
        base_url=f"{url}/ciopulse/api/v5", headers=headers, limits=limits, timeout=120
    ) as client:

        def put(i: int) -> None:
            c = contact(i)
            c["system_id"], c["email"] = (
                f"BARE-{i:06d}",
                f"bare{i}@example.com",
            )  # emails are unique
            body = json.dumps({k: v for k, v in c.items() if k != "system_id"}).encode()
            client.put(f"/contacts/{c['system_id']}", content=body).raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(parallelism) as pool:
            list(pool.map(put, range(n)))
        return n / (time.perf_counter() - started)


def nubitalk_apply(args: argparse.Namespace) -> dict[str, Any]:
    """Apply of n Nubitalk creates at injected latency, and bare httpx sending the same
    creates (same endpoint, same body shape) in the same run. Each starts on an empty
    sandbox of its own, so both write into a store of the same size (the duplicate check,
    checkrepeated, looks the Address up among every contact held)."""
    from concurrent.futures import ThreadPoolExecutor

    n, par = args.records, args.parallelism
    token = "SANDBOXNUBITALKTOKEN00000000"

    sb = SandboxProcess()
    try:
        base = f"{sb.url}/nubitalk/standard/api/v1"
        sb.admin("PUT", "/faults", json={"latency_ms": args.latency_ms})
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        limits = httpx.Limits(max_connections=par, max_keepalive_connections=par)
        with httpx.Client(base_url=base, headers=headers, limits=limits, timeout=120) as client:

            def post(i: int) -> None:
                body = {"Address": f"+49301{i:07d}", "Priority": "1", "AgentID": "7"}
                r = client.post("/service/486/contacts/true", content=json.dumps(body).encode())
                r.raise_for_status()

            started = time.perf_counter()
            with ThreadPoolExecutor(par) as pool:
                list(pool.map(post, range(n)))
            bare = n / (time.perf_counter() - started)
    finally:
        sb.stop()

    sb = SandboxProcess()
    try:
        base = f"{sb.url}/nubitalk/standard/api/v1"
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            extra = f"  onecontact:\n    type: nubitalk\n    url: {base}\n    token: ${{NUBITALK_TOKEN:-{token}}}\n    concurrency: {par}\n    timeout: 120\n"
            (project / "reconcile.yaml").write_text(config(sb.url, extra))
            (project / "manifests").mkdir()
            head = "kind: nubitalk/contacts\nprovider: onecontact\nservice: 486\nrequired: [Address, Priority, AgentID]\nitems:\n"
            (project / "manifests" / "contacts.yaml").write_text(
                head
                + "".join(
                    f'  - {{Address: "+49301{i:07d}", Priority: 1, AgentID: 7}}\n' for i in range(n)
                )
            )
            sb.admin("PUT", "/faults", json={"latency_ms": args.latency_ms})
            wall, rss, rc, tail = run(project, "apply", "--auto-approve", "--parallelism", str(par))
            assert rc == 0, tail
            held = len(sb.admin("GET", "/nubitalk/contacts"))
    finally:
        sb.stop()
    rate = n / wall
    return {"benchmark": "nubitalk-apply", "records": n, "latency_ms": args.latency_ms, "parallelism": par,
            "wall_s": round(wall, 2), "writes_per_s": round(rate, 1), "bare_httpx_per_s": round(bare, 1),
            "share_of_bare_httpx": round(rate / bare, 3), "peak_rss_mb": round(rss, 1), "vendor_holds": held}  # fmt: skip


UC = "/ucontact"
UC_LOGIN = "/Integra/resources/auth/getUserToken"
UC_END = "/Integra/resources/auth/EndSession"
UC_SCHEDULE = "/Integra/resources/SMS/ScheduleDialerSMS"
UC_BLACKLIST = "/IntegraChannels/resources/DialersResources/uploadMultiChannelBlacklist"
UC_FORM = "application/x-www-form-urlencoded; charset=UTF-8"
CALLDATE = "2099-12-01 09:00:00"


def _sms(i: int) -> dict[str, str]:
    return {"key": f"S{i:06d}", "calldate": CALLDATE, "destination": f"+4930{i:07d}", "text": f"Reminder {i}"}  # fmt: skip


def _number(i: int) -> str:
    return f"+4940{i:07d}"


def ucontact_apply(args: argparse.Namespace) -> dict[str, Any]:
    """uContact's two write paths, each applied by reconcile and sent by bare httpx (one
    login, the same form calls, then EndSession), each side on a sandbox of its own:

    - scheduled SMS (`ucontact/scheduled-sms`): one ScheduleDialerSMS call per record;
    - blacklist (`ucontact/blacklist`): uploads of `--batch-size` entries each (a CSV file,
      base64 in a form), so compared per request and per entry.

    The emulator is told not to process uploads during the run (it would do so inside
    later calls, under its lock); the entries are counted after processing them."""
    bare = _ucontact_bare(args)
    ours = _ucontact_reconcile(args)
    out: dict[str, Any] = {"benchmark": "ucontact-apply", "latency_ms": args.latency_ms,
                           "parallelism": args.parallelism}  # fmt: skip
    for path, n, requests in (
        ("scheduled_sms", args.records, args.records),
        ("blacklist", args.blacklist_records, -(-args.blacklist_records // args.batch_size)),
    ):
        ours_s, bare_s = ours[path]["wall_s"], bare[path]
        out[path] = {
            "entries": n, "requests": requests, "wall_s": ours_s, "bare_httpx_s": round(bare_s, 2),
            "requests_per_s": round(requests / ours_s, 1), "bare_requests_per_s": round(requests / bare_s, 1),
            "entries_per_s": round(n / ours_s, 1), "bare_entries_per_s": round(n / bare_s, 1),
            "share_of_bare_httpx": round(bare_s / ours_s, 3), "peak_rss_mb": ours[path]["peak_rss_mb"],
            "vendor_holds": ours[path]["held"], "bare_vendor_holds": bare[path + "_held"],
        }  # fmt: skip
    if args.blacklist_records:
        out["blacklist"]["batch_size"] = args.batch_size
    return out


def _uc_sandbox(latency_ms: float) -> SandboxProcess:
    sb = SandboxProcess()
    sb.admin("PUT", "/ucontact/settings", json={"processing_delay_seconds": 3600})
    sb.admin("PUT", "/faults", json={"latency_ms": latency_ms})
    return sb


def _uc_held(sb: SandboxProcess) -> tuple[int, int]:
    """(scheduled SMS, blacklist entries) the vendor holds once every upload is processed."""
    sb.admin("PUT", "/faults", json={})
    sb.admin("POST", "/ucontact/process")
    return len(sb.admin("GET", "/ucontact/scheduled-sms")), len(
        sb.admin("GET", "/ucontact/blacklist")
    )


def _ucontact_bare(args: argparse.Namespace) -> dict[str, float]:
    par, size = args.parallelism, args.batch_size
    sb = _uc_sandbox(args.latency_ms)
    try:
        limits = httpx.Limits(max_connections=par, max_keepalive_connections=par)
        with httpx.Client(base_url=sb.url + UC, limits=limits, timeout=120) as client:
            form = {"Content-Type": UC_FORM}
            login = urlencode({"user": "sandbox", "password": "sandbox"}).encode()
            token = client.post(UC_LOGIN, content=login, headers=form).json()[-1]
            headers = {**form, "Authorization": f"Basic {token}"}

            def schedule(i: int) -> None:
                s = _sms(i)
                sms = {"calldate": s["calldate"], "campaign": "Ventas->", "destination": s["destination"], "data": s["text"]}  # fmt: skip
                body = urlencode({"sms": json.dumps(sms, ensure_ascii=False)}).encode()
                r = client.post(UC_SCHEDULE, content=body, headers=headers)
                assert r.status_code == 200 and r.text.strip() == "1", r.text

            def upload(b: int) -> None:
                lines = [f"{_number(i)};phone;" for i in range(b * size, min(args.blacklist_records, (b + 1) * size))]  # fmt: skip
                csv = base64.b64encode("\n".join(lines).encode()).decode("ascii")
                body = urlencode({"filename": f"bare-blacklist-{b}.csv", "fileb64": csv}).encode()
                r = client.post(UC_BLACKLIST, content=body, headers=headers)
                assert r.status_code == 200 and r.text.strip() == "1", r.text

            sms_s = _timed(args.records, par, schedule)
            batches = -(-args.blacklist_records // size)
            blacklist_s = _timed(batches, par, upload)
            end = urlencode({"user": "sandbox", "token": token}).encode()
            client.post(UC_END, content=end, headers=headers).raise_for_status()
        sms_held, bl_held = _uc_held(sb)
    finally:
        sb.stop()
    return {"scheduled_sms": sms_s, "blacklist": blacklist_s,
            "scheduled_sms_held": sms_held, "blacklist_held": bl_held}  # fmt: skip


def _ucontact_reconcile(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    par = args.parallelism
    sb = _uc_sandbox(args.latency_ms)
    out: dict[str, dict[str, Any]] = {}
    try:
        uc = (f"  uc:\n    type: ucontact\n    url: {sb.url}{UC}\n    user: sandbox\n"
              f"    password: ${{UCONTACT_PASSWORD:-sandbox}}\n    batch_size: {args.batch_size}\n"
              f"    concurrency: {par}\n    timeout: 120\n")  # fmt: skip
        manifests = {
            "scheduled_sms": "kind: ucontact/scheduled-sms\nprovider: uc\ncampaign: Ventas->\nitems:\n"
            + "".join(f"  - {json.dumps(_sms(i))}\n" for i in range(args.records)),
            "blacklist": "kind: ucontact/blacklist\nprovider: uc\nchannel: phone\nitems_from: bl.csv\n",
        }
        for path, manifest in manifests.items():
            with tempfile.TemporaryDirectory() as tmp:
                project = Path(tmp)
                (project / "reconcile.yaml").write_text(config(sb.url, uc))
                (project / "manifests").mkdir()
                (project / "manifests" / "m.yaml").write_text(manifest)
                (project / "manifests" / "bl.csv").write_text(
                    "value\n" + "".join(f"{_number(i)}\n" for i in range(args.blacklist_records))
                )
                wall, rss, rc, tail = run(
                    project, "apply", "--auto-approve", "--parallelism", str(par)
                )
                assert rc == 0, tail
                out[path] = {"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1)}
        sms_held, bl_held = _uc_held(sb)
        out["scheduled_sms"]["held"], out["blacklist"]["held"] = sms_held, bl_held
    finally:
        sb.stop()
    return out
