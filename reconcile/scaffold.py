"""The files `reconcile init` writes: a project for chosen provider types that runs
unchanged against the sandbox and, with the variables set, against the real vendor."""

from __future__ import annotations

from datetime import date, timedelta

PROVIDERS = {
    "ciopulse": """\
  cio:
    type: ciopulse
    url: ${CIOPULSE_URL:-http://127.0.0.1:8787/ciopulse/api/v5}
    portal_code: ${CIOPULSE_PORTAL_CODE:-SANDBOX}
    api_key: ${CIOPULSE_API_KEY:-sandbox000000000000000000000000000000000}
    concurrency: 8
""",
    "jtel": """\
  dialler:
    type: jtel
    url: ${JTEL_URL:-http://127.0.0.1:8787/jtel/rest/v1.0}
    client_id: ${JTEL_CLIENT_ID:-1000}
    token: ${JTEL_TOKEN:-sandbox-jtel-token}
    concurrency: 8
""",
    "nubitalk": """\
  onecontact:
    type: nubitalk
    url: ${NUBITALK_URL:-http://127.0.0.1:8787/nubitalk/standard/api/v1}
    token: ${NUBITALK_TOKEN:-SANDBOXNUBITALKTOKEN00000000}
""",
    "ucontact": """\
  uc:
    type: ucontact
    url: ${UCONTACT_URL:-http://127.0.0.1:8787/ucontact}
    user: ${UCONTACT_USER:-sandbox}
    password: ${UCONTACT_PASSWORD:-sandbox}
""",
}

SCHEMA_LINE = "# yaml-language-server: $schema={}\n"

# One manifest per kind: (file name, provider type, text). Sample items are the sandbox's.
# `{calldate}` is filled in by `manifests()`: a fixed date would be in the past one day,
# and validate refuses a scheduled SMS that would go out at once.
_MANIFESTS = [
    ("ciopulse-contacts.yaml", "ciopulse", """\
kind: ciopulse/contacts
provider: cio
prune: managed
items:
  - system_id: AGENT-17
    first_name: Ada
    last_name: Lovelace
    email: ada@example.com
"""),
    ("jtel-dialler-contacts.yaml", "jtel", """\
kind: jtel/dialler-contacts
provider: dialler
campaign: {name: Outbound Sales}
prune: managed
items:
  - UserData: CRM-1001
    Name: Mustermann
    PhoneNumber1: "+4930123456"
"""),
    ("nubitalk-contacts.yaml", "nubitalk", """\
kind: nubitalk/contacts
provider: onecontact
service: 484
prune: managed
items:
  - {Address: "+4930123456", Priority: 1}
"""),
    ("ucontact-blacklist.yaml", "ucontact", """\
kind: ucontact/blacklist
provider: uc
channel: phone
prune: managed
items: ["+4930123499"]
"""),
    ("ucontact-sms-base.yaml", "ucontact", """\
kind: ucontact/sms-base
provider: uc
campaign: Ventas->
prune: managed
items:
  - {destination: "+4930123456", text: "See you tomorrow", priority: 9999}
"""),
    ("ucontact-email-base.yaml", "ucontact", """\
kind: ucontact/email-base
provider: uc
dialer: Newsletter
prune: managed
items:
  - {email: ann@example.com, subject: Hello, body: "Hi {{Name}}", variables: {Name: Ann}, priority: 9999}
"""),
    ("ucontact-scheduled-sms.yaml", "ucontact", """\
kind: ucontact/scheduled-sms
provider: uc
campaign: Ventas->
prune: managed
items:
  - {key: reminder-1, calldate: "{calldate}", destination: "+4930123456", text: "See you at 10"}
"""),
]  # fmt: skip


def manifests(today: date) -> list[tuple[str, str, str]]:
    """The sample manifests, the scheduled SMS set 30 days after `today` at 09:00."""
    when = f"{today + timedelta(days=30):%Y-%m-%d} 09:00:00"
    return [(name, ptype, text.replace("{calldate}", when)) for name, ptype, text in _MANIFESTS]


GITIGNORE = """\
# reconcile's local state and lock (teams keep state in PostgreSQL: see CI.md)
.reconcile/
# saved plans hold the values apply needs: keep them out of git, as private CI artifacts
*.plan.json
plan.json
"""

CI = """\
# Running reconcile from CI

Complete pipelines (pull request: validate, plan as an upserted comment, plan JSON as
an artifact; merge: apply exactly the reviewed plan; nightly: drift into one issue) are
in the reconcile repository under `examples/ci/` (GitHub Actions and GitLab CI). Copy
the one for your forge next to this file and set the provider variables
(`CIOPULSE_URL`, `JTEL_TOKEN`, ...) as CI secrets; keep state in PostgreSQL
(`state: {backend: postgres, dsn: ${RECONCILE_PG_DSN}}`): a runner's disk is thrown
away after each job, and state on it would forget what reconcile created.

Before committing: `reconcile validate` and `reconcile fmt --check` (both offered as
pre-commit hooks by the repository's `.pre-commit-hooks.yaml`).
"""


def config(types: list[str], schema_ref: str) -> str:
    return (
        SCHEMA_LINE.format(schema_ref)
        + "version: 1\n"
        + "state: {backend: sqlite, path: .reconcile/state.db}\n"
        + 'manifests: ["manifests/**/*.yaml"]\n'
        + "timezone: UTC                 # item lifetimes (valid_from, expires) are read in this zone\n"
        + "policy: {max_delete_percent: 10}\n"
        + "providers:\n"
        + "".join(PROVIDERS[t] for t in types)
    )
