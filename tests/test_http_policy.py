"""The retry policy's reading of Retry-After (seconds or an HTTP date, capped)."""

from __future__ import annotations

import email.utils
import time

from reconcile.http import MAX_RETRY_AFTER, retry_after_seconds


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    in_five = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.0 <= (retry_after_seconds(in_five) or 0) <= 5.0
    assert retry_after_seconds("100000") == MAX_RETRY_AFTER
    assert retry_after_seconds("-4") == 0.0
