"""Plans and drift reports as stable, versioned JSON (schemas in specs/)."""

from __future__ import annotations

import json
from typing import Any

from reconcile.errors import UsageError
from reconcile.masking import Masker
from reconcile.model import (
    FORMAT_VERSION,
    Action,
    Change,
    DriftReport,
    Estimate,
    FieldChange,
    Guard,
    Plan,
    Upcoming,
)


def plan_to_dict(plan: Plan, m: Masker | None = None) -> dict[str, Any]:
    """The plan as JSON; with masking on, for reading only (apply refuses it)."""
    m = m or Masker(plan.lineage, False)
    return {
        "format_version": FORMAT_VERSION,
        "masked": m.on,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "created_at": plan.created_at,
        "targets": list(plan.targets),
        "summary": plan.summary(),
        "changes": [
            {
                "address": m.addr(c.address),
                "action": c.action.value,
                "provider": c.provider,
                "kind": c.kind,
                "scope": c.scope,
                "key": m.addr(c.key),
                "remote_id": c.remote_id,
                "fields": [
                    {
                        "name": f.name,
                        "before": m.field(c.kind, f.name, f.before),
                        "after": m.field(c.kind, f.name, f.after),
                    }
                    for f in c.fields
                ],
                "after": m.fields(c.kind, dict(c.after)) if c.after is not None else None,
                "live_fingerprint": c.live_fingerprint,
                "origin": c.origin,
                "collection": c.collection,
                "moved_from": m.address(c.moved_from),
            }
            for c in plan.changes
        ],
        "warnings": [m.text(w) for w in plan.warnings],
        "errors": [m.text(e) for e in plan.errors],
        "unobservable": list(plan.unobservable),
        "safety": [{"collection": g.collection, "message": m.text(g.message)} for g in plan.guards],
        "source_digest": plan.source_digest,
        **(
            {"collection_serials": dict(plan.collection_serials)}
            if plan.collection_serials is not None
            else {}
        ),
        **({"shard": plan.shard} if plan.shard else {}),
        "upcoming": [
            {"address": u.address, "event": u.event, "when": u.when} for u in plan.upcoming
        ],
        "estimate": {
            "calls": plan.estimate.total,
            "calls_by_provider": dict(plan.estimate.calls),
            "seconds": plan.estimate.seconds,
            "latency_assumed": plan.estimate.latency,
        }
        if plan.estimate is not None
        else None,
    }


def plan_from_dict(d: dict[str, Any], source: str) -> Plan:
    if not isinstance(d, dict) or d.get("format_version") != FORMAT_VERSION:
        raise UsageError(f"{source}: not a reconcile plan file of format_version {FORMAT_VERSION}")
    if d.get("masked"):
        raise UsageError(
            f"{source}: a masked plan (JSON printed for reading) cannot be applied: "
            "save the plan with `reconcile plan --out PLANFILE`"
        )
    try:
        changes = tuple(
            Change(
                address=c["address"],
                action=Action(c["action"]),
                provider=c["provider"],
                kind=c["kind"],
                scope=c.get("scope", ""),
                key=c["key"],
                remote_id=c.get("remote_id"),
                fields=tuple(FieldChange(f["name"], f["before"], f["after"]) for f in c["fields"]),
                after=c.get("after"),
                live_fingerprint=c.get("live_fingerprint"),
                origin=c.get("origin", ""),
                collection=c.get("collection", ""),
                moved_from=c.get("moved_from"),
            )
            for c in d["changes"]
        )
        return Plan(
            lineage=d["lineage"],
            serial=int(d["serial"]),
            changes=changes,
            warnings=tuple(d.get("warnings", ())),
            errors=tuple(d.get("errors", ())),
            unobservable=tuple(d.get("unobservable", ())),
            targets=tuple(d.get("targets", ())),
            created_at=d.get("created_at", ""),
            guards=tuple(Guard(g["collection"], g["message"]) for g in d.get("safety", ())),
            source_digest=d.get("source_digest", ""),
            collection_serials=(
                {str(k): int(v) for k, v in d["collection_serials"].items()}
                if "collection_serials" in d
                else None
            ),
            shard=str(d.get("shard", "")),
            estimate=Estimate(
                dict(d["estimate"]["calls_by_provider"]),
                float(d["estimate"]["seconds"]),
                float(d["estimate"]["latency_assumed"]),
            )
            if d.get("estimate")
            else None,
            upcoming=tuple(
                Upcoming(u["address"], u["event"], u["when"]) for u in d.get("upcoming", ())
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{source}: malformed plan file ({type(exc).__name__}: {exc})") from exc


def plan_json(plan: Plan, m: Masker | None = None) -> str:
    return json.dumps(plan_to_dict(plan, m), indent=2, ensure_ascii=False)


def drift_to_dict(report: DriftReport, m: Masker | None = None) -> dict[str, Any]:
    m = m or Masker("", False)
    return {
        "format_version": FORMAT_VERSION,
        "masked": m.on,
        "summary": report.summary(),
        "drift": [
            {
                "address": m.addr(d.address),
                "class": d.drift_class.value,
                "kind": d.kind,
                "collection": d.collection,
                "fields": [
                    {
                        "name": f.name,
                        "before": m.field(d.kind, f.name, f.before),
                        "after": m.field(d.kind, f.name, f.after),
                    }
                    for f in d.fields
                ],
                "detail": d.detail,
            }
            for d in report.drift
        ],
        "unobservable": list(report.unobservable),
        "warnings": [m.text(w) for w in report.warnings],
    }


def drift_json(report: DriftReport, m: Masker | None = None) -> str:
    return json.dumps(drift_to_dict(report, m), indent=2, ensure_ascii=False)
