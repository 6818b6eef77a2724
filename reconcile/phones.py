"""Phone numbers in one form, E.164, so that numbers written differently compare equal.

The blacklist compliance rule and every dialled-number field use this; a national
number needs a default region (a provider's or collection's `default_region`).
"""

from __future__ import annotations


def to_e164(value: str, default_region: str | None = None) -> str | None:
    """The number in E.164 (`+4930123456`), or None when it is not a possible number."""
    import phonenumbers  # imported on the first number, not on every run's start

    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
