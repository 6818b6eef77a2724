"""Safety rules over a plan: prevent_destroy, delete thresholds, blacklist removals.

Pure functions: they look at changes and counts and say what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconcile.config import Policy
from reconcile.errors import Problem
from reconcile.model import Action, Change, Collection


def prevent_destroy(
    coll: Collection, changes: Iterable[Change]
) -> tuple[list[Change], list[Problem]]:
    """Drop deletes from a `prevent_destroy: true` collection, with one problem each."""
    if not coll.prevent_destroy:
        return list(changes), []
    kept, problems = [], []
    for c in changes:
        if c.action is Action.DELETE:
            problems.append(
                Problem(
                    c.address,
                    f"would be deleted, but its collection ({coll.origin}) sets prevent_destroy: true",
                )
            )
        else:
            kept.append(c)
    return kept, problems


def over_threshold(
    coll: Collection, changes: Iterable[Change], in_scope: int, policy: Policy
) -> str | None:
    """A message when the collection's deletes pass the policy, else None.

    `in_scope` is what the deletes are counted against: the records state manages,
    or for `prune: all` every live record of the scope. Below `threshold_min_records`
    records the percentage does not apply (as octoDNS does: one of three is not a
    mass deletion); blacklist removals have their own absolute limit."""
    deletes = [c for c in changes if c.action is Action.DELETE]
    if not deletes:
        return None
    n = len(deletes)
    which = ", ".join(c.key for c in deletes[:5]) + (f" and {n - 5} more" if n > 5 else "")
    if coll.kind.endswith("/blacklist"):
        if n > policy.max_blacklist_removals:
            return (
                f"{coll.prefix}: {n} blacklist entr{'ies' if n != 1 else 'y'} would be removed ({which}); "
                f"removing a blacklist entry makes numbers callable again (policy allows {policy.max_blacklist_removals})"
            )
        return None
    if in_scope < policy.threshold_min_records:
        return None
    share = 100.0 * n / max(in_scope, 1)
    if share > policy.max_delete_percent:
        counted = "in its scope" if coll.prune.value == "all" else "managed"
        return (
            f"{coll.prefix}: {n} of {in_scope} record{'s' if in_scope != 1 else ''} {counted} would be deleted "
            f"({share:.0f}% > max_delete_percent {policy.max_delete_percent:g}%): {which}"
        )
    return None
