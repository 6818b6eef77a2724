"""Every error a user can see, in one tree.

    ReconcileError                  shown without a traceback, exit 1
    +-- UsageError                  bad flags or arguments
    +-- ConfigError                 reconcile.yaml: bad value, missing ${VAR}
    +-- ManifestError               .problems: every manifest problem at once
    +-- PlanError                   a plan that cannot be made (conflicts, duplicates at the vendor)
    |   +-- UnsafePlanError         over a safety threshold; --force overrides
    |   +-- StalePlanError          saved plan no longer matches the state
    +-- ProviderError               .address, .status, .vendor_message
    |   +-- AuthError               401/403
    |   +-- NotFoundError           404 with a reason
    |   +-- ConflictError           409/422
    |   +-- RetryableError          429, 5xx, dropped connections: outcome may be unknown
    +-- StateError
    |   +-- StateLockedError        .holder: who holds the lock and since when
    +-- ApplyError                  some changes failed; .summary says which

Library errors (httpx, sqlite3, psycopg, yaml) are translated where they are
caught and re-raised `from` the original.
"""

from __future__ import annotations

from dataclasses import dataclass


class ReconcileError(Exception):
    """Base of every error shown to the user (exit code 1)."""

    exit_code = 1


class UsageError(ReconcileError):
    """Bad command-line usage."""


class ConfigError(ReconcileError):
    """reconcile.yaml is wrong; the message names file:line."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, and where."""

    where: str  # "file:line:col" or a resource address
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ManifestError(ReconcileError):
    """One or more problems in the manifests, all reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=_problem_sort_key)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found; nothing was sent to any vendor"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


def _problem_sort_key(p: Problem) -> tuple[str, int, int, str]:
    parts = p.where.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        return (parts[0], int(parts[1]), int(parts[2]), p.message)
    return (p.where, 0, 0, p.message)


class PlanError(ReconcileError):
    """The plan cannot be made as declared."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(["the plan has errors:", *(f"  {p}" for p in problems)]))


class UnsafePlanError(ReconcileError):
    """A safety rule stops the apply; `--force` overrides thresholds."""


class StalePlanError(ReconcileError):
    """The saved plan was made against another state."""


class ProviderError(ReconcileError):
    """A vendor call failed."""

    def __init__(
        self,
        message: str,
        *,
        address: str = "",
        status: int | None = None,
        vendor_message: str = "",
    ) -> None:
        self.address = address
        self.status = status
        self.vendor_message = vendor_message
        text = message
        if address:
            text = f"{address}: {text}"
        super().__init__(text)


class AuthError(ProviderError):
    """The vendor refused the credentials."""


class NotFoundError(ProviderError):
    """The vendor says the object does not exist."""


class ConflictError(ProviderError):
    """The vendor refused the write because of other data (409/422)."""


class RetryableError(ProviderError):
    """A transient fault; when it survives the retries, the write's outcome is unknown."""


class StateError(ReconcileError):
    """The state store cannot be used."""


class StateLockedError(StateError):
    """Another run holds the state lock."""


class ApplyError(ReconcileError):
    """Some changes failed; the others were applied and recorded."""
