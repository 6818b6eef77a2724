"""What each provider type accepts in reconcile.yaml: its settings and its call names.

Data only, below the config layer, so that `validate` and editors check a provider
block (typos included) without importing the providers. Each provider's
`endpoint_defaults` must name exactly the calls listed here (a test holds them
together). A new vendor setting is one line here, with its JSON Schema.
"""

from __future__ import annotations

from collections.abc import Mapping
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


@dataclass(frozen=True)
class ProviderType:
    name: str
    required: tuple[str, ...]
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    endpoints: tuple[str, ...] = ()

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
            {"portal_code": _STRING, "api_key": _STRING},
            ("list", "get", "upsert", "delete"),
        ),
        ProviderType(
            "jtel",
            ("url", "client_id", "token"),
            {"client_id": {"type": ["string", "integer"]}, "token": _STRING},
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
