"""The write benchmarks of bench.py (not tests: run by hand, figures go in benchmarks/README.md).

Each compares reconcile's apply, its own process with its journal, with bare httpx
sending the same requests to the same kind of sandbox in the same run: the client
stack's own ceiling, with no planning, journal or process start.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
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


def write_window(sb: SandboxProcess, path: str = "") -> tuple[int, float]:
    """(calls, seconds from the first to the last arrival) of the write route the sandbox saw
    most (or the one ending in `path`): the write phase as the vendor sees it, measured the
    same way for reconcile and for bare httpx."""
    stats = sb.admin("GET", "/stats")["requests"]
    writes = {r: n for r, n in stats["by_route"].items()
              if r.split(" ")[1] != "GET" and r.endswith(path)}  # fmt: skip
    route = max(writes, key=lambda r: writes[r])
    first, last = stats["spans"][route]
    return writes[route], last - first


def pairs_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over interleaved (reconcile, bare httpx) pairs. `share_of_bare_httpx` is the
    whole apply (process start, plan, journal, read-back) against bare httpx's sends;
    `writes_share_of_bare_httpx` is the write phase alone, first to last write as the
    vendor saw them, journal included."""

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in runs), 3)

    return {"pairs": len(runs), "wall_s": median("wall_s"), "bare_httpx_s": median("bare_httpx_s"),
            "share_of_bare_httpx": median("share_of_bare_httpx"),
            "writes_share_of_bare_httpx": median("writes_share_of_bare_httpx"),
            "shares": [r["share_of_bare_httpx"] for r in runs],
            "writes_shares": [r["writes_share_of_bare_httpx"] for r in runs], "runs": runs}  # fmt: skip


def _pair(ours: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    """One pair's figures; each side's window is (calls, seconds) from `write_window`."""
    (n_ours, w_ours), (n_bare, w_bare) = ours.pop("window"), bare.pop("window")
    ours_rate, bare_rate = (n_ours - 1) / w_ours, (n_bare - 1) / w_bare
    return {**ours, "bare_httpx_s": round(bare["wall_s"], 2),
            "share_of_bare_httpx": round(bare["wall_s"] / ours["wall_s"], 3),
            "write_window_s": round(w_ours, 2), "bare_write_window_s": round(w_bare, 2),
            "writes_share_of_bare_httpx": round(ours_rate / bare_rate, 3)}  # fmt: skip


def apply_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Apply of n CIOPulse creates at injected latency against bare httpx sending the same
    upserts, in `--pairs` interleaved pairs, each side on a fresh sandbox of its own (this
    VM's speed moves by more than the gap between the two within minutes)."""
    runs = [_pair(_cio_reconcile(args), _cio_bare(args)) for _ in range(args.pairs)]
    return {"benchmark": "apply", "records": args.records, "latency_ms": args.latency_ms,
            "parallelism": args.parallelism, "ceiling_per_s": args.parallelism * 1000.0 / args.latency_ms,
            **pairs_summary(runs)}  # fmt: skip


def _cio_reconcile(args: argparse.Namespace) -> dict[str, Any]:
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
            window = write_window(sb)
            held = len(sb.admin("GET", "/ciopulse/contacts"))
            assert held == args.records, held
        return {"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1), "window": window}
    finally:
        sb.stop()


def _cio_bare(args: argparse.Namespace) -> dict[str, Any]:
    sb = SandboxProcess()
    try:
        sb.admin("PUT", "/faults", json={"latency_ms": args.latency_ms})
        wall = bare_httpx_seconds(sb.url, args.records, args.parallelism)
        return {"wall_s": wall, "window": write_window(sb)}
    finally:
        sb.stop()


def bare_httpx_seconds(url: str, n: int, parallelism: int) -> float:
    """The client stack's own ceiling, measured in the same run against the same kind of
    sandbox (same injected latency): `parallelism` threads sending n CIOPulse upserts through
    one httpx client, with no planning, journal or process start. Seconds."""
    auth = base64.b64encode(f"SANDBOX:{KEY}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Content-Type": "application/json; charset=utf-8"}
    limits = httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism)
    with httpx.Client(
        base_url=f"{url}/ciopulse/api/v5", headers=headers, limits=limits, timeout=120
    ) as client:

        def put(i: int) -> None:
            c = contact(i)
            body = json.dumps({k: v for k, v in c.items() if k != "system_id"}).encode()
            client.put(f"/contacts/{c['system_id']}", content=body).raise_for_status()

        return _timed(n, parallelism, put)


def nubitalk_apply(args: argparse.Namespace) -> dict[str, Any]:
    """Apply of n Nubitalk creates at injected latency, and bare httpx sending the same
    creates (same endpoint, same body shape), in `--pairs` interleaved pairs. Each side
    starts on an empty sandbox of its own, so both write into a store of the same size
    (the duplicate check, checkrepeated, looks the Address up among every contact held)."""
    runs = [_pair(_nubitalk_reconcile(args), _nubitalk_bare(args)) for _ in range(args.pairs)]
    return {"benchmark": "nubitalk-apply", "records": args.records, "latency_ms": args.latency_ms,
            "parallelism": args.parallelism, **pairs_summary(runs)}  # fmt: skip


NUBITALK_TOKEN = "SANDBOXNUBITALKTOKEN00000000"


def _nubitalk_bare(args: argparse.Namespace) -> dict[str, Any]:
    n, par = args.records, args.parallelism
    sb = SandboxProcess()
    try:
        base = f"{sb.url}/nubitalk/standard/api/v1"
        sb.admin("PUT", "/faults", json={"latency_ms": args.latency_ms})
        headers = {"Authorization": f"Bearer {NUBITALK_TOKEN}", "Content-Type": "application/json"}
        limits = httpx.Limits(max_connections=par, max_keepalive_connections=par)
        with httpx.Client(base_url=base, headers=headers, limits=limits, timeout=120) as client:

            def post(i: int) -> None:
                body = {"Address": f"+49301{i:07d}", "Priority": "1", "AgentID": "7"}
                r = client.post("/service/486/contacts/true", content=json.dumps(body).encode())
                r.raise_for_status()

            wall = _timed(n, par, post)
        return {"wall_s": wall, "window": write_window(sb)}
    finally:
        sb.stop()


def _nubitalk_reconcile(args: argparse.Namespace) -> dict[str, Any]:
    n, par = args.records, args.parallelism
    sb = SandboxProcess()
    try:
        base = f"{sb.url}/nubitalk/standard/api/v1"
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp)
            extra = f"  onecontact:\n    type: nubitalk\n    url: {base}\n    token: ${{NUBITALK_TOKEN:-{NUBITALK_TOKEN}}}\n    concurrency: {par}\n    timeout: 120\n"
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
            window = write_window(sb)
            held = len(sb.admin("GET", "/nubitalk/contacts"))
            assert held == n, held
        return {"wall_s": round(wall, 2), "peak_rss_mb": round(rss, 1), "window": window}
    finally:
        sb.stop()


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
    login, the same form calls, then EndSession), each side on a sandbox of its own, in
    `--pairs` interleaved pairs:

    - scheduled SMS (`ucontact/scheduled-sms`): one ScheduleDialerSMS call per record;
    - blacklist (`ucontact/blacklist`): uploads of `--batch-size` entries each (a CSV file,
      base64 in a form), so compared per request and per entry.

    The emulator is told not to process uploads during the run (it would do so inside
    later calls, under its lock); the entries are counted after processing them."""
    out: dict[str, Any] = {"benchmark": "ucontact-apply", "latency_ms": args.latency_ms,
                           "parallelism": args.parallelism}  # fmt: skip
    runs: dict[str, list[dict[str, Any]]] = {"scheduled_sms": [], "blacklist": []}
    for _ in range(args.pairs):
        bare = _ucontact_bare(args)
        ours = _ucontact_reconcile(args)
        for path in runs:
            runs[path].append(_pair(ours[path], bare[path]))
    for path, n, requests in (
        ("scheduled_sms", args.records, args.records),
        ("blacklist", args.blacklist_records, -(-args.blacklist_records // args.batch_size)),
    ):
        summary = pairs_summary(runs[path])
        ours_s, bare_s = summary["wall_s"], summary["bare_httpx_s"]
        out[path] = {
            "entries": n, "requests": requests,
            "requests_per_s": round(requests / ours_s, 1), "bare_requests_per_s": round(requests / bare_s, 1),
            "entries_per_s": round(n / ours_s, 1), "bare_entries_per_s": round(n / bare_s, 1),
            **summary,
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
        windows = write_window(sb, UC_SCHEDULE), write_window(sb, UC_BLACKLIST)
        sms_held, bl_held = _uc_held(sb)
    finally:
        sb.stop()
    assert (sms_held, bl_held) == (args.records, args.blacklist_records), (sms_held, bl_held)
    return {"scheduled_sms": {"wall_s": sms_s, "window": windows[0]},
            "blacklist": {"wall_s": blacklist_s, "window": windows[1]}}  # fmt: skip


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
        out["scheduled_sms"]["window"] = write_window(sb, UC_SCHEDULE)
        out["blacklist"]["window"] = write_window(sb, UC_BLACKLIST)
        sms_held, bl_held = _uc_held(sb)
        assert (sms_held, bl_held) == (args.records, args.blacklist_records), (sms_held, bl_held)
    finally:
        sb.stop()
    return out
