"""Phone numbers in one form, E.164, so that numbers written differently compare equal.

The blacklist compliance rule and every dialled-number field use this; a national
number needs a default region (a provider's or collection's `default_region`).
"""

from __future__ import annotations

# A run parses a blacklist's number when it checks the manifest, again when it plans and
# again when it writes the upload (~20 µs each in the library): the answers are kept for
# the run. Bounded: past this many numbers the memory is given back and parsing starts over.
_KEEP = 1 << 20
_known: dict[str | tuple[str, str], str | None] = {}


def to_e164(value: str, default_region: str | None = None) -> str | None:
    """The number in E.164 (`+4930123456`), or None when it is not a possible number."""
    if value.startswith("+"):
        default_region = None  # a number with its country code is read the same in any region
    key = value if default_region is None else (value, default_region)
    try:
        return _known[key]
    except KeyError:
        pass
    import phonenumbers  # imported on the first number, not on every run's start

    try:
        parsed = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        e164 = None
    else:
        e164 = (
            str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
            if phonenumbers.is_possible_number(parsed)
            else None
        )
    if len(_known) >= _KEEP:
        _known.clear()
    _known[key] = e164
    return e164
