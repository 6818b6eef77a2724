"""uContact (Integra API) emulator: sessions, asynchronous uploads, SMS, e-mail and FormGet.

`emulator.py` holds the routes and admin views, `sessions.py` the tokens,
`lists.py` the parsing of uploads and the SQL tables behind FormGet,
`settings.py` every behaviour the vendor's documentation leaves open.
"""

from reconcile.sandbox.ucontact.emulator import UcontactEmulator

__all__ = ["UcontactEmulator"]
