"""The jtel Dialler REST emulator: routes in `emulator`, fields, settings and wire form in `schema`."""

from __future__ import annotations

from reconcile.sandbox.jtel.emulator import JtelEmulator
from reconcile.sandbox.jtel.schema import JtelSettings

__all__ = ["JtelEmulator", "JtelSettings"]
