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
    coll: Collection, changes: Iterable[Change], managed: int, policy: Policy
) -> str | None:
    """A message when the collection's deletes exceed the policy, else None."""
    deletes = sum(1 for c in changes if c.action is Action.DELETE)
    if not deletes:
        return None
    if coll.kind.endswith("/blacklist"):
        if deletes > policy.max_blacklist_removals:
            return (
                f"{coll.prefix}: {deletes} blacklist entr{'ies' if deletes != 1 else 'y'} would be removed; removing a blacklist "
                f"entry makes numbers callable again (policy allows {policy.max_blacklist_removals}); pass --force to apply"
            )
        return None
    base = max(managed, 1)
    share = 100.0 * deletes / base
    if share > policy.max_delete_percent:
        return (
            f"{coll.prefix}: {deletes} of {managed} managed record{'s' if managed != 1 else ''} would be deleted "
            f"({share:.0f}% > max_delete_percent {policy.max_delete_percent:g}%); pass --force to apply"
        )
    return None
