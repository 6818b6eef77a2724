"""Nubitalk OneContact's contact API, emulated from its one public page.

`emulator` serves the routes and the admin API, `contact` checks bodies,
`settings` lists what the page leaves open.
"""

from __future__ import annotations

from reconcile.sandbox.nubitalk.emulator import NubitalkEmulator
from reconcile.sandbox.nubitalk.settings import NubitalkSettings

__all__ = ["NubitalkEmulator", "NubitalkSettings"]
