"""JSON Schemas of what reconcile writes for other programs: plans and drift reports.

Every field is described here, so specs/plan.schema.json and specs/drift.schema.json
document the format. `format_version` changes only when a field is removed or changes
meaning; fields may be added within a version (readers must ignore what they do not know).
"""

from __future__ import annotations

from typing import Any

from reconcile.model import FORMAT_VERSION, Action, DriftClass

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE = "https://reconcile.dev/schemas/"

_MASKED = {
    "type": "boolean",
    "description": "true when personal fields, personal keys and numbers or e-mail addresses in "
    "messages are masked (`A*** #1a2b3c`: the hash tells entries apart within a project); "
    "printed output is masked unless --show-values, a saved plan file (--out) never is. "
    "A masked plan cannot be applied.",
}


def _field_change(before: str, after: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "one field that differs",
        "required": ["name", "before", "after"],
        "properties": {
            "name": {
                "type": "string",
                "description": "the field's name as in the manifest (a dotted path inside maps)",
            },
            "before": {"description": before},
            "after": {"description": after},
        },
    }


def _messages(what: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": what}


def plan_schema() -> dict[str, Any]:
    counts = {
        "type": "object",
        "description": "how many changes of each action the plan holds",
        "properties": {a.value: {"type": "integer", "minimum": 0} for a in Action},
        "required": [a.value for a in Action],
    }
    change = {
        "type": "object",
        "description": "one step of the plan: one record at one vendor",
        "required": ["address", "action", "provider", "kind", "fields"],
        "properties": {
            "address": {
                "type": "string",
                "description": "PROVIDER/RESOURCE[/SCOPE]/KEY: the record's address (as --target takes it)",
            },
            "action": {
                "enum": [a.value for a in Action],
                "description": "create, update, delete (sent to the vendor); adopt (a live record "
                "taken into state, updated where it differs); forget (dropped from state only); "
                "lock, unlock, reset (vendor operations); move (a state address renamed, nothing sent)",
            },
            "provider": {"type": "string", "description": "provider name from reconcile.yaml"},
            "kind": {"type": "string", "description": "the manifest kind, e.g. ciopulse/contacts"},
            "scope": {
                "type": "string",
                "description": "the scope as shown in addresses ('' for kinds without one)",
            },
            "key": {"type": "string", "description": "the record's key within its scope"},
            "remote_id": {
                "type": ["string", "null"],
                "description": "the vendor's id of the record, null until it exists",
            },
            "fields": {
                "type": "array",
                "description": "the fields this change sets or clears",
                "items": _field_change(
                    "the live value (null on create)", "the declared value (null on delete)"
                ),
            },
            "after": {
                "type": ["object", "null"],
                "description": "every managed field once applied (what state records); null for delete",
            },
            "live_fingerprint": {
                "type": ["string", "null"],
                "description": "digest of the live record the change was planned against: apply "
                "of a saved plan refuses a record that changed since",
            },
            "origin": {
                "type": "string",
                "description": "file:line:col of the declaring item (or of its manifest document)",
            },
            "collection": {
                "type": "string",
                "description": "identity of the owning collection: PROVIDER/KIND/VENDOR-SCOPE-ID",
            },
            "moved_from": {
                "type": ["string", "null"],
                "description": "move: the address state knew the record by",
            },
        },
    }
    return {
        "$schema": DIALECT,
        "$id": BASE + "plan.schema.json",
        "title": "reconcile plan (plan --format json, show --format json and saved plan files)",
        "type": "object",
        "required": [
            "format_version",
            "lineage",
            "serial",
            "summary",
            "changes",
            "warnings",
            "errors",
        ],
        "properties": {
            "format_version": {
                "const": FORMAT_VERSION,
                "description": "changes only when a field is removed or changes meaning",
            },
            "masked": _MASKED,
            "lineage": {
                "type": "string",
                "description": "the state's lineage: a saved plan applies only to the state it was made from",
            },
            "serial": {
                "type": "integer",
                "description": "the state's serial when planned: a newer state makes a saved plan stale",
            },
            "created_at": {"type": "string", "description": "UTC time of planning, ISO 8601"},
            "targets": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the --target addresses the plan was narrowed to (empty: everything)",
            },
            "collection_serials": {
                "description": "the state serial of each collection the plan changes, when it was read",
                "type": "object",
                "additionalProperties": {"type": "integer"},
            },
            "shard": {
                "type": "string",
                "pattern": "^[0-9]+/[0-9]+$",
                "description": "the --shard I/N share of the collections the plan covers",
            },
            "summary": counts,
            "changes": {
                "type": "array",
                "items": change,
                "description": "in apply order",
            },
            "warnings": _messages("things to know that do not stop apply"),
            "errors": _messages(
                "records held out of the plan; apply refuses a plan with errors (use --target)"
            ),
            "unobservable": _messages(
                "collections whose vendor cannot be read: planned against the state only"
            ),
            "estimate": {
                "type": ["object", "null"],
                "description": "what apply will cost: vendor write calls (a batch counts once; reads are one per "
                "collection and not counted) and about how long, from each provider's concurrency and rate_limit",
                "required": ["calls", "calls_by_provider", "seconds", "latency_assumed"],
                "properties": {
                    "calls": {"type": "integer"},
                    "calls_by_provider": {
                        "type": "object",
                        "additionalProperties": {"type": "integer"},
                    },
                    "seconds": {"type": "number"},
                    "latency_assumed": {
                        "type": "number",
                        "description": "seconds per call assumed",
                    },
                },
            },
            "upcoming": {
                "type": "array",
                "description": "items whose lifetime ends (expires) or begins (valid_from) within 7 days: "
                "a plan made after that moment deletes (or creates) them",
                "items": {
                    "type": "object",
                    "required": ["address", "event", "when"],
                    "properties": {
                        "address": {"type": "string"},
                        "event": {"enum": ["expires", "valid_from"]},
                        "when": {"type": "string", "description": "in the project's timezone"},
                    },
                },
            },
            "source_digest": {
                "type": "string",
                "description": "digest of reconcile.yaml, the manifests and item files the plan was made from",
            },
            "safety": {
                "type": "array",
                "description": "collections whose deletes pass a safety threshold: apply refuses them unless allowed",
                "items": {
                    "type": "object",
                    "required": ["collection", "message"],
                    "properties": {
                        "collection": {
                            "type": "string",
                            "description": "address prefix, as --allow-delete takes it",
                        },
                        "message": {
                            "type": "string",
                            "description": "which threshold, by how much",
                        },
                    },
                },
            },
        },
    }


def drift_schema() -> dict[str, Any]:
    return {
        "$schema": DIALECT,
        "$id": BASE + "drift.schema.json",
        "title": "reconcile drift --format json",
        "type": "object",
        "required": ["format_version", "summary", "drift", "unobservable"],
        "properties": {
            "format_version": {
                "const": FORMAT_VERSION,
                "description": "changes only when a field is removed or changes meaning",
            },
            "masked": _MASKED,
            "summary": {
                "type": "object",
                "description": "how many entries of each class",
                "required": [c.value for c in DriftClass],
                "properties": {c.value: {"type": "integer", "minimum": 0} for c in DriftClass},
            },
            "drift": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["address", "class", "fields"],
                    "properties": {
                        "address": {"type": "string", "description": "the record's address"},
                        "class": {
                            "enum": [c.value for c in DriftClass],
                            "description": "changed_outside: live differs from what was last "
                            "applied (someone edited the vendor); pending: declared but not yet "
                            "applied; unmanaged: a live record in a prune: all scope that no "
                            "manifest declares",
                        },
                        "kind": {"type": "string", "description": "the collection's kind"},
                        "collection": {
                            "type": "string",
                            "description": "the collection's address prefix",
                        },
                        "fields": {
                            "type": "array",
                            "items": _field_change(
                                "changed_outside: the value last applied; pending: the live value",
                                "changed_outside: the live value; pending: the declared value",
                            ),
                        },
                        "detail": {
                            "type": "string",
                            "description": "why an entry without fields is listed (e.g. deleted at the vendor)",
                        },
                    },
                },
            },
            "unobservable": _messages("collections whose vendor cannot be read: drift unknown"),
            "warnings": _messages("things to know (duplicates at the vendor, fields not taken)"),
        },
    }
