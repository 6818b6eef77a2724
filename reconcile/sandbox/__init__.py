"""The sandbox: local emulators of the vendor APIs, real HTTP servers with fault injection.

It never imports `reconcile.providers`: an emulator written from the vendor's
documentation, not from our client, is what makes the tests worth running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconcile.sandbox.core import Emulator


def registry() -> list[type[Emulator]]:
    """Every vendor emulator the sandbox serves: a new vendor is one more line here."""
    from reconcile.sandbox.ciopulse import CiopulseEmulator
    from reconcile.sandbox.jtel import JtelEmulator
    from reconcile.sandbox.nubitalk import NubitalkEmulator
    from reconcile.sandbox.ucontact import UcontactEmulator

    return [CiopulseEmulator, JtelEmulator, NubitalkEmulator, UcontactEmulator]
