"""reconcile: contact-centre data as code.

Declare contacts, dialler entries and blacklists in YAML; `reconcile plan`
shows what would change at each vendor, `reconcile apply` makes it so and
`reconcile drift` reports what changed behind the tool's back.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
