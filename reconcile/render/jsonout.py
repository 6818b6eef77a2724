"""Plans and drift reports as stable, versioned JSON (schemas in specs/)."""

from __future__ import annotations

import json
from typing import Any

from reconcile.errors import UsageError
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


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "created_at": plan.created_at,
        "targets": list(plan.targets),
        "summary": plan.summary(),
        "changes": [
            {
                "address": c.address,
                "action": c.action.value,
                "provider": c.provider,
                "kind": c.kind,
                "scope": c.scope,
                "key": c.key,
                "remote_id": c.remote_id,
                "fields": [
                    {"name": f.name, "before": f.before, "after": f.after} for f in c.fields
                ],
                "after": dict(c.after) if c.after is not None else None,
                "live_fingerprint": c.live_fingerprint,
                "origin": c.origin,
                "collection": c.collection,
                "moved_from": c.moved_from,
            }
            for c in plan.changes
        ],
        "warnings": list(plan.warnings),
        "errors": list(plan.errors),
        "unobservable": list(plan.unobservable),
        "safety": [{"collection": g.collection, "message": g.message} for g in plan.guards],
        "source_digest": plan.source_digest,
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


def plan_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False)


def drift_to_dict(report: DriftReport) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "summary": report.summary(),
        "drift": [
            {
                "address": d.address,
                "class": d.drift_class.value,
                "fields": [
                    {"name": f.name, "before": f.before, "after": f.after} for f in d.fields
                ],
                "detail": d.detail,
            }
            for d in report.drift
        ],
        "unobservable": list(report.unobservable),
        "warnings": list(report.warnings),
    }


def drift_json(report: DriftReport) -> str:
    return json.dumps(drift_to_dict(report), indent=2, ensure_ascii=False)
