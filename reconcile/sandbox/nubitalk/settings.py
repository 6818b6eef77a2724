"""What Nubitalk's contact API page leaves open, one setting per unknown.

The defaults are the behaviour reconcile assumes; each alternative is another
vendor a provider must survive, one `PUT /_admin/nubitalk/settings` away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from reconcile.sandbox.core import Settings


@dataclass(frozen=True)
class NubitalkSettings(Settings):
    # HTTP status of a wrong or missing token; the body is `{"success": false}` either way.
    auth_status: int = 401
    # The page calls `Content-Type: application/json` mandatory on every call, DELETE included.
    require_content_type: bool = True
    # The page shows only the failure body, so a refusal may well come with a 200.
    failure_status: int = 200
    # Unknown service or contact (the body is the same `{"success": false}`).
    not_found_status: int = 404
    # The page documents no answer for DELETE.
    delete_answer: str = "success"
    # Priority and AgentID: the examples send strings ("1"); an int column may take both.
    numeric_form: str = "any"
    # Metadata Value: the examples send strings; a lenient backend converts numbers too.
    value_form: str = "any"
    # Metadata Type: the page allows a code or a name ("231" or "string").
    metadata_type_form: str = "both"
    # Metadata names not defined for the service ("extra fields added via OneContact").
    unknown_metadata: str = "accept"
    # Top-level fields other than Address, Priority, NextTry, AgentID, Metadata.
    unknown_fields: str = "ignore"
    # Address: the examples are phone numbers without "+"; a stricter vendor takes digits only.
    address_form: str = "any"
    # What checkrepeated=true answers when it finds the Address taken.
    duplicate_answer: str = "failure"
    # Where checkrepeated=true looks for the Address.
    duplicate_scope: str = "service"
    # PUT: keep absent fields (partial) or clear them and replace Metadata (full).
    update_mode: str = "partial"
    # PUT or DELETE naming a contact that lives in another service than the path's.
    service_mismatch: str = "not_found"

    choices: ClassVar[Mapping[str, tuple[Any, ...]]] = {
        "auth_status": (401, 403, 200),
        "failure_status": (200, 400, 422, 500),
        "not_found_status": (404, 200, 400, 500),
        "delete_answer": ("success", "success_with_id", "empty", "no_content"),
        "numeric_form": ("any", "string", "number"),
        "value_form": ("any", "string"),
        "metadata_type_form": ("both", "code", "name"),
        "unknown_metadata": ("accept", "refuse"),
        "unknown_fields": ("ignore", "refuse"),
        "address_form": ("any", "digits"),
        "duplicate_answer": ("failure", "existing_id"),
        "duplicate_scope": ("service", "account"),
        "update_mode": ("partial", "full"),
        "service_mismatch": ("not_found", "ignored"),
    }
