"""The CIOPulse v5 emulator: routes in `emulator`, settings and read shapes in `wire`."""

from __future__ import annotations

from reconcile.sandbox.ciopulse.emulator import CiopulseEmulator

__all__ = ["CiopulseEmulator"]
