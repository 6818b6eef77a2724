"""The sandbox's fixed credentials (never valid anywhere else)."""

from __future__ import annotations

CIOPULSE_PORTAL_CODE = "SANDBOX"
CIOPULSE_API_KEY = "sandbox000000000000000000000000000000000"
JTEL_CLIENTS_ID = "1000"
JTEL_TOKEN = "sandbox-jtel-token"
NUBITALK_TOKEN = "SANDBOXNUBITALKTOKEN00000000"
UCONTACT_USER = "sandbox"
UCONTACT_PASSWORD = "sandbox"


def banner(url: str) -> str:
    return f"""\
reconcile sandbox on {url}
  CIOPulse  {url}/ciopulse/api/v5         portal code {CIOPULSE_PORTAL_CODE}, API key {CIOPULSE_API_KEY}
  jtel      {url}/jtel/rest/v1.0/{JTEL_CLIENTS_ID}   ClientsID {JTEL_CLIENTS_ID}, token {JTEL_TOKEN}
  admin     {url}/_admin/faults, /_admin/stats, /_admin/reset, /_admin/<vendor>/...
(these credentials are the sandbox's own and valid nowhere else)"""
