"""What uContact's documentation leaves open, one setting each; the defaults are reconcile's guesses."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reconcile.sandbox.core import Settings

BLACKLIST_COLUMNS = ("value", "channel", "campaign", "ignore")
DSNS = ("ccdata", "ccrepo", "cccustom", "Repo")
_TABLE_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


@dataclass(frozen=True)
class UcontactSettings(Settings):
    # Sessions. The doc says "use the token in the Authorization header", no scheme.
    auth_scheme: str = "Basic"  # Basic | Bearer | any (either scheme, or the bare token)
    session_idle_seconds: float = 600.0  # a token unused this long is dead (lifetime unknown)
    expired_status: int = 401  # 401 | 403 | 200 (a 200 with body `0`: errors as text)
    max_sessions_per_user: int | None = None  # None: no cap
    session_cap_policy: str = "refuse"  # at the cap: refuse the login (`0`) | evict_oldest
    # Answers to a bad call (missing parameter, bad base64, bad JSON in a form field).
    bad_request_status: int = 200
    bad_request_body: str = "0"
    require_form_content_type: bool = True  # a JAX-RS form resource answers 415 otherwise
    # Uploads: accepted with `1` at once, rows parsed this much later.
    processing_delay_seconds: float = 0.2
    upload_encoding: str = "utf-8"  # how the server reads the decoded CSV bytes
    email_count_mismatch: str = "accept"  # `cant` != rows: accept | refuse (`0`) | truncate
    sms_campaign_source: str = "row"  # uploadbase: row's campaign | the form's `campaign` wins
    # Blacklist: neither the route nor the CSV layout is documented.
    blacklist_upload_path: str = (
        "IntegraChannels/resources/DialersResources/uploadMultiChannelBlacklist"
    )
    blacklist_columns: list[str] = field(default_factory=lambda: ["value", "channel", "campaign"])
    blacklist_dedupe: bool = False  # True: a re-uploaded (value, channel, campaign) is ignored
    blacklist_removal_route: bool = False  # True: .../removeMultiChannelBlacklist exists
    # FormGet: where the lists live and what their tables are called.
    lists_dsn: str = "ccdata"
    blacklist_table: str = "blacklist"
    sms_base_table: str = "sms_base"
    email_base_table: str = "email_base"
    formget_values: str = "typed"  # typed (numbers as numbers) | strings (every value a string)

    choices: ClassVar[Mapping[str, tuple[Any, ...]]] = {
        "auth_scheme": ("Basic", "Bearer", "any"),
        "expired_status": (401, 403, 200),
        "session_cap_policy": ("refuse", "evict_oldest"),
        "bad_request_status": (200, 400, 500),
        "upload_encoding": ("utf-8", "latin-1"),
        "email_count_mismatch": ("accept", "refuse", "truncate"),
        "sms_campaign_source": ("row", "form"),
        "lists_dsn": DSNS,
        "formget_values": ("typed", "strings"),
    }

    def __post_init__(self) -> None:
        cols = self.blacklist_columns
        if not isinstance(cols, list | tuple) or not all(
            isinstance(c, str) and c in BLACKLIST_COLUMNS for c in cols
        ):
            raise ValueError(
                f"blacklist_columns is a list of {', '.join(BLACKLIST_COLUMNS)}, not {cols!r}"
            )
        if "value" not in cols or len(set(cols) - {"ignore"}) != len(
            [c for c in cols if c != "ignore"]
        ):
            raise ValueError("blacklist_columns needs `value` once and no column twice")
        names = (self.blacklist_table, self.sms_base_table, self.email_base_table)
        if not all(isinstance(n, str) and re.match(_TABLE_NAME, n) for n in names):
            raise ValueError("table names are plain SQL identifiers")
        if len({*names, "sms_scheduler"}) != 4:
            raise ValueError("the list tables need four different names")
        if self.max_sessions_per_user is not None and (
            not isinstance(self.max_sessions_per_user, int) or self.max_sessions_per_user < 1
        ):
            raise ValueError("max_sessions_per_user is null or a whole number of at least 1")
        if self.session_idle_seconds < 0 or self.processing_delay_seconds < 0:
            raise ValueError("durations are at least 0 seconds")
        if not self.blacklist_upload_path.startswith(("Integra/", "IntegraChannels/")):
            raise ValueError("blacklist_upload_path starts with Integra/ or IntegraChannels/")
