"""The sandbox: local emulators of the vendor APIs, real HTTP servers with fault injection.

It never imports `reconcile.providers`: an emulator written from the vendor's
documentation, not from our client, is what makes the tests worth running.
"""
