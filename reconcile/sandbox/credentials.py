"""The sandbox's fixed credentials, valid nowhere else, and the banner that shows them."""

from __future__ import annotations

CIOPULSE_PORTAL_CODE = "SANDBOX"
CIOPULSE_API_KEY = "sandbox000000000000000000000000000000000"  # 40 characters, like a real key
JTEL_CLIENTS_ID = "1000"
JTEL_TOKEN = "sandbox-jtel-token"
NUBITALK_TOKEN = "SANDBOXNUBITALKTOKEN00000000"
UCONTACT_USER = "sandbox"
UCONTACT_PASSWORD = "sandbox"


# Printed in the README and by `sandbox serve`: not secrets, so output never masks them
# (masking the word "sandbox" everywhere would garble every message that names it).
PUBLISHED = frozenset(
    {CIOPULSE_API_KEY, JTEL_TOKEN, NUBITALK_TOKEN, UCONTACT_USER, UCONTACT_PASSWORD}
)


def banner(url: str) -> str:
    """What `serve` prints: for each vendor, exactly what goes into reconcile.yaml
    (its `url:` and its credential settings)."""
    return f"""\
reconcile sandbox on {url}
  CIOPulse  {url}/ciopulse/api/v5
            portal_code {CIOPULSE_PORTAL_CODE}, api_key {CIOPULSE_API_KEY}
  jtel      {url}/jtel/rest/v1.0
            client_id {JTEL_CLIENTS_ID}, token {JTEL_TOKEN}
  Nubitalk  {url}/nubitalk/standard/api/v1
            token {NUBITALK_TOKEN}
  uContact  {url}/ucontact
            user {UCONTACT_USER}, password {UCONTACT_PASSWORD}
  admin     {url}/_admin/faults, /_admin/stats, /_admin/reset, /_admin/<vendor>/...
These credentials are the sandbox's own and valid nowhere else."""
