"""What each provider type accepts in reconcile.yaml: its settings and its call names.

Data only, below the config layer, so that `validate` and editors check a provider
block (typos included) without importing the providers. Each provider's
`endpoint_defaults` must name exactly the calls listed here (a test holds them
together). A new vendor setting is one line here, with its JSON Schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Settings every provider takes.
COMMON: Mapping[str, Mapping[str, Any]] = {
    "type": {"type": "string"},
    "url": {"type": "string", "description": "the vendor's base URL"},
    "concurrency": {
        "type": "integer",
        "minimum": 1,
        "maximum": 256,
        "description": "writes in flight",
    },
    "rate_limit": {"type": ["number", "null"], "minimum": 0, "description": "requests per second"},
    "timeout": {"type": "number", "exclusiveMinimum": 0, "description": "seconds per request"},
    "retries": {"type": "integer", "minimum": 0, "maximum": 20},
    "connect_timeout": {
        "type": "number",
        "exclusiveMinimum": 0,
        "description": "seconds to connect (default 10)",
    },
    "insecure": {
        "type": "boolean",
        "description": "allow plain http:// to a host other than this machine",
    },
    "ca_bundle": {
        "type": "string",
        "description": "a PEM file of certificate authorities to trust (a company proxy's)",
    },
}

_STRING = {"type": "string"}

# A check of resolved settings (environment references filled in): (setting, message)
# pairs; the message never holds the value, which may be a credential.
SettingsCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]


def _no_check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    return []


def _ciopulse_check(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    key = settings.get("api_key")
    if isinstance(key, str) and len(key) != 40:
        return [("api_key", f"a CIOPulse API key has 40 characters; this one has {len(key)}")]
    return []


def _enum(*values: str, default: str, description: str) -> dict[str, Any]:
    return {"enum": list(values), "default": default, "description": description}


CIOPULSE_SETTINGS: Mapping[str, Mapping[str, Any]] = {
    "portal_code": _STRING,
    "api_key": _STRING,
    "read_shape": _enum(
        "auto", "wrapped", "flat", "list", "data", default="auto",
        description='GET body: {"contacts":[{"contact":{}}]}, {"contacts":[{}]}, [..] or {"data":[..]}',
    ),
    "read_fields": {
        "type": "object",
        "description": "our field name -> the vendor's key in GET bodies (e.g. system_id: Contact_System_ID)",
        "propertyNames": {"enum": ["system_id", "first_name", "last_name", "email", "job_title", "mobile"]},
        "additionalProperties": {"type": "string", "minLength": 1},
    },
}  # fmt: skip

JTEL_SETTINGS: Mapping[str, Mapping[str, Any]] = {
    "client_id": {"type": ["string", "integer"]},
    "token": _STRING,
    "id_field": _enum(
        "auto", "ID", "DiallerContactsID", default="auto",
        description="the key a contact's id is read from (auto: whichever the record carries)",
    ),
    "duplicates_scope": _enum(
        "campaign", "account", default="campaign",
        description="where overwriteDuplicates matches UserData: one campaign or the whole account",
    ),
    "clear_with": {
        "enum": ["null", None, "empty"], "default": "null",  # YAML reads a bare null as None
        "description": "how an update clears a field: JSON null or an empty string",
    },
    "lock_field": {
        "type": "string", "minLength": 1, "default": "bLocked",
        "description": "the key a contact's lock shows under in reads",
    },
    "release": _enum(
        "current", "legacy", default="current",
        description="legacy: releases before 3.19 (32-character limits, no Region field)",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ProviderType:
    name: str
    required: tuple[str, ...]
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    endpoints: tuple[str, ...] = ()
    check: SettingsCheck = _no_check

    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {**COMMON, **self.settings}
        props["type"] = {"const": self.name}
        if self.endpoints:
            props["endpoints"] = {
                "type": "object",
                "description": 'override any call: "METHOD /path/{param}"',
                "propertyNames": {"enum": list(self.endpoints)},
                "additionalProperties": {
                    "type": "string",
                    "pattern": "^(GET|POST|PUT|PATCH|DELETE) /",
                },
            }
        return props


TYPES: dict[str, ProviderType] = {
    t.name: t
    for t in (
        ProviderType(
            "ciopulse",
            ("url", "portal_code", "api_key"),
            CIOPULSE_SETTINGS,
            ("list", "get", "upsert", "delete", "support_groups"),
            _ciopulse_check,
        ),
        ProviderType(
            "jtel",
            ("url", "client_id", "token"),
            JTEL_SETTINGS,
            (
                "campaigns",
                "list",
                "get",
                "import",
                "update",
                "delete",
                "lock",
                "unlock",
                "reset",
                "history",
            ),
        ),
        ProviderType(
            "nubitalk",
            ("url", "token"),
            {
                "token": _STRING,
                # What the vendor's page leaves open (README, vendor assumptions).
                "update": {
                    "enum": ["partial", "full"],
                    "default": "partial",
                    "description": "PUT only the changed fields, or every managed field",
                },
                "numeric_form": {
                    "enum": ["string", "number"],
                    "default": "string",
                    "description": "Priority and AgentID as digit strings or JSON numbers",
                },
                "metadata_type_form": {
                    "enum": ["code", "name"],
                    "default": "code",
                    "description": 'metadata Type as the code ("231") or the name ("string")',
                },
                "metadata_value_form": {
                    "enum": ["string", "native"],
                    "default": "string",
                    "description": "metadata Value always a string, or JSON numbers and booleans",
                },
                "address_form": {
                    "enum": ["as_written", "digits"],
                    "default": "as_written",
                    "description": 'Address as written, or digits only (no "+")',
                },
                "delete_answer": {
                    "enum": ["envelope_or_empty", "envelope"],
                    "default": "envelope_or_empty",
                    "description": "whether an empty 2xx answer to DELETE counts as success",
                },
            },
            ("create", "update", "delete"),
        ),
        ProviderType(
            "ucontact",
            ("url", "user", "password"),
            {
                "user": _STRING,
                "password": _STRING,
                "batch_size": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 100_000,
                    "description": "entries per uploaded CSV",
                },
                "auth_scheme": {
                    "enum": ["Basic", "Bearer"],
                    "description": "scheme the session token is sent with",
                },
                "expired_status": {
                    "type": "integer",
                    "minimum": 200,
                    "maximum": 599,
                    "description": "status of a call whose session expired (body 0): log in again once",
                },
                "blacklist_columns": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"enum": ["value", "channel", "campaign", "ignore"]},
                    "description": "columns of the uploaded blacklist CSV, in order",
                },
                "upload_encoding": {
                    "enum": ["utf-8", "latin-1"],
                    "description": "text encoding of uploaded CSVs",
                },
                "timezone": {
                    "type": "string",
                    "description": "the vendor's local time zone (calldates)",
                },
                "default_region": {
                    "type": "string",
                    "pattern": "^[A-Z]{2}$",
                    "description": "region of national phone numbers",
                },
            },
            (
                "login",
                "end_session",
                "blacklist_upload",
                "blacklist_remove",
                "sms_upload",
                "email_upload",
                "schedule_sms",
                "form_get",
            ),
        ),
    )
}
