"""Bad input: exit 1, a message naming file:line, and not one request to any vendor."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Project, Sandbox

CIO = "kind: ciopulse/contacts\nprovider: cio\nitems:\n"
GOOD = "  - {system_id: A1, first_name: Ann, last_name: Lee, email: ann@example.com}\n"
JTEL = "kind: jtel/dialler-contacts\nprovider: dialler\ncampaign: {name: Outbound Sales}\nitems:\n"
JGOOD = '  - {UserData: CRM-1, Name: Muster, PhoneNumber1: "+4930123456"}\n'

BOMB = (
    'kind: ciopulse/contacts\nprovider: cio\nitems:\n  - system_id: X\n    job_title: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"    x{i}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9)
    )
)

# (id, manifest text, expected location, expected words in the message)
CASES = [
    (
        "broken-yaml",
        CIO + "  - {system_id: A1, first_name: [Ann\n",
        "main.yaml:5",
        "YAML syntax error",
    ),
    ("not-a-mapping", "- just\n- a list\n", "main.yaml:1", "must be a mapping"),
    (
        "unknown-kind",
        "kind: ciopulse/agents\nprovider: cio\nitems: []\n",
        "main.yaml:1",
        "not a known kind",
    ),
    (
        "no-provider",
        "kind: ciopulse/contacts\nitems: []\n",
        "main.yaml:1",
        "'provider' is required",
    ),
    (
        "provider-not-configured",
        "kind: ciopulse/contacts\nprovider: nope\nitems: []\n",
        "main.yaml:2",
        "not configured",
    ),
    (
        "provider-wrong-type",
        "kind: ciopulse/contacts\nprovider: dialler\nitems: []\n",
        "main.yaml:2",
        "is of type jtel",
    ),
    (
        "unknown-field",
        CIO
        + "  - {system_id: A1, first_name: Ann, last_name: Lee, email: ann@example.com, phone: '1'}\n",
        "main.yaml:4",
        "unknown field",
    ),
    (
        "missing-key",
        CIO + "  - {first_name: Ann, last_name: Lee, email: ann@example.com}\n",
        "main.yaml:4",
        "'system_id' is required",
    ),
    (
        "duplicate-key-in-collection",
        CIO + GOOD + GOOD.replace("ann@", "bob@"),
        "main.yaml:5",
        "declared twice",
    ),
    (
        "duplicate-yaml-key",
        CIO + "  - system_id: A1\n    first_name: Ann\n    first_name: Bob\n",
        "main.yaml:6",
        "duplicate key 'first_name'",
    ),
    (
        "bad-email",
        CIO + "  - {system_id: A1, first_name: Ann, last_name: Lee, email: ann.example.com}\n",
        "main.yaml:4",
        "not a valid e-mail",
    ),
    (
        "bad-mobile",
        CIO
        + "  - {system_id: A1, first_name: Ann, last_name: Lee, email: a@example.com, mobile: '0411 112 233'}\n",
        "main.yaml:4",
        "E.164",
    ),
    (
        "backslash",
        CIO + "  - {system_id: A1, first_name: 'Ann\\Lee', last_name: Lee, email: a@example.com}\n",
        "main.yaml:4",
        "backslash",
    ),
    (
        "double-quote",
        CIO
        + "  - {system_id: A1, first_name: 'Ann \"A\"', last_name: Lee, email: a@example.com}\n",
        "main.yaml:4",
        "double quote",
    ),
    (
        "control-char",
        CIO
        + '  - {system_id: A1, first_name: "Ann\\nLee", last_name: Lee, email: a@example.com}\n',
        "main.yaml:4",
        "control character",
    ),
    (
        "duplicate-email",
        CIO + GOOD + GOOD.replace("A1", "A2").replace("ann@", "ANN@"),
        "main.yaml:5",
        "must be unique",
    ),
    (
        "null-required",
        CIO + "  - {system_id: A1, first_name: Ann, last_name: Lee, email: null}\n",
        "main.yaml:4",
        "cannot be cleared",
    ),
    (
        "wrong-type",
        CIO + "  - {system_id: A1, first_name: 5, last_name: Lee, email: a@example.com}\n",
        "main.yaml:4",
        "is not of type",
    ),
    ("items-and-items-from", CIO + GOOD + "items_from: x.csv\n", "main.yaml:1", "items_from"),
    (
        "items-from-outside",
        "kind: ciopulse/contacts\nprovider: cio\nitems_from: ../../outside.csv\n",
        "main.yaml:3",
        "outside the project",
    ),
    (
        "items-from-missing",
        "kind: ciopulse/contacts\nprovider: cio\nitems_from: nope.csv\n",
        "main.yaml:3",
        "no such file",
    ),
    ("bad-prune", CIO.replace("items:", "prune: sometimes\nitems:") + GOOD, "main.yaml:3", "prune"),
    ("alias-bomb", BOMB, "main.yaml:", "alias bomb"),
    (
        "same-scope-twice",
        CIO + GOOD + "---\n" + CIO + GOOD.replace("A1", "A2").replace("ann@", "x@"),
        "main.yaml:6",
        "already declared",
    ),
    (
        "jtel-no-phone",
        JTEL + "  - {UserData: CRM-1, Name: Muster}\n",
        "main.yaml:5",
        "at least one of PhoneNumber1",
    ),
    (
        "jtel-phone-not-e164",
        JTEL + "  - {UserData: CRM-1, Name: Muster, PhoneNumber1: '030 123456'}\n",
        "main.yaml:5",
        "E.164",
    ),
    (
        "jtel-missing-name",
        JTEL + '  - {UserData: CRM-1, PhoneNumber1: "+4930123456"}\n',
        "main.yaml:5",
        "'Name' is required",
    ),
    (
        "jtel-too-long",
        JTEL
        + '  - {UserData: CRM-1, Name: Muster, PhoneNumber1: "+4930123456", PostalCode: "12345678901"}\n',
        "main.yaml:5",
        "is too long",
    ),
    (
        "jtel-bad-datetime",
        JTEL
        + '  - {UserData: CRM-1, Name: Muster, PhoneNumber1: "+4930123456", FollowUpDateTime: "2024-13-01 10:00"}\n',
        "main.yaml:5",
        "YYYY-MM-DDThh:mm:ss",
    ),
    (
        "jtel-date-not-in-the-calendar",
        JTEL
        + '  - {UserData: CRM-1, Name: Muster, PhoneNumber1: "+4930123456", FollowUpDateTime: "2026-02-31T10:00:00"}\n',
        "main.yaml:5",
        "'2026-02-31T10:00:00' is not a real date and time",
    ),
    (
        "jtel-amount-string",
        JTEL + '  - {UserData: CRM-1, Name: Muster, PhoneNumber1: "+4930123456", Amount: "ten"}\n',
        "main.yaml:5",
        "is not of type",
    ),
    (
        "jtel-locked-not-bool",
        JTEL
        + '  - {UserData: CRM-1, Name: Muster, PhoneNumber1: "+4930123456", locked: "maybe"}\n',
        "main.yaml:5",
        "is not of type 'boolean'",
    ),
    (
        "jtel-campaign-both",
        JTEL.replace("{name: Outbound Sales}", "{name: Outbound Sales, id: 538}") + JGOOD,
        "main.yaml:3",
        "campaign",
    ),
    (
        "jtel-server-field",
        JTEL
        + '  - {UserData: CRM-1, Name: Muster, PhoneNumber1: "+4930123456", nTriesPhoneNumber1: 0}\n',
        "main.yaml:5",
        "unknown field",
    ),
    (
        "yaml-boolean-name",
        JTEL + '  - {UserData: CRM-1, Name: no, PhoneNumber1: "+4930123456"}\n',
        "main.yaml:5",
        "quote the value",
    ),
    (
        "yaml-octal-postcode",
        JTEL + '  - {UserData: CRM-1, Name: N, PhoneNumber1: "+4930123456", PostalCode: 01234}\n',
        "main.yaml:5",
        "octal",
    ),
]


@pytest.mark.parametrize(("case", "text", "where", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_manifest_is_reported_with_its_location_before_any_request(
    project: Project, sandbox: Sandbox, case: str, text: str, where: str, words: str
) -> None:
    project.manifest(text)
    before = sandbox.requests()
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        r = project.run(*command)
        assert r.code == 1, (command, r.text)
        assert where in r.err, r.err
        assert words in r.err, r.err
        assert re.search(r"main\.yaml:\d+:\d+", r.err), r.err
    assert sandbox.requests() == before
    assert (
        not (project.root / ".reconcile" / "state.db").exists()
        or project.run("state", "list").out == ""
    )


def test_every_problem_is_reported_in_one_run(project: Project, sandbox: Sandbox) -> None:
    project.manifest(
        CIO
        + "  - {system_id: A1, first_name: Ann, last_name: Lee, email: bad}\n"
        + "  - {system_id: A2, first_name: Bob, last_name: Lee, email: b@example.com, mobile: '12'}\n"
        + "  - {system_id: A3, first_name: 'C\\D', last_name: Lee, email: c@example.com}\n"
    )
    r = project.run("validate")
    assert r.code == 1
    assert "3 problems found" in r.err
    assert all(f"main.yaml:{line}:" in r.err for line in (4, 5, 6))


def test_csv_items_errors_name_the_csv_line(project: Project, sandbox: Sandbox) -> None:
    project.write(
        "manifests/contacts.csv",
        "system_id,first_name,last_name,email\nA1,Ann,Lee,ann@example.com\nA2,Bob,Lee,not-an-email\n",
    )
    project.manifest("kind: ciopulse/contacts\nprovider: cio\nitems_from: contacts.csv\n")
    r = project.run("validate")
    assert r.code == 1
    assert "manifests/contacts.csv:3:4" in r.err


def test_csv_unknown_column_and_short_row(project: Project, sandbox: Sandbox) -> None:
    project.write(
        "manifests/contacts.csv",
        "system_id,first_name,last_name,email,pager\nA1,Ann,Lee,a@example.com,1\nA2,Bob\n",
    )
    project.manifest("kind: ciopulse/contacts\nprovider: cio\nitems_from: contacts.csv\n")
    r = project.run("validate")
    assert r.code == 1 and "contacts.csv:1:5" in r.err and "unknown column 'pager'" in r.err


CONFIG_CASES = [
    (
        "missing-var",
        "api_key: ${CIOPULSE_API_KEY:-sandbox000000000000000000000000000000000}",
        "api_key: ${NO_SUCH_VARIABLE_X}",
        "NO_SUCH_VARIABLE_X is not set",
    ),
    (
        "literal-secret",
        "api_key: ${CIOPULSE_API_KEY:-sandbox000000000000000000000000000000000}",
        "api_key: s3cr3t-literal-key",
        "is a credential",
    ),
    ("unknown-setting", "version: 1", "version: 1\nfrobnicate: true", "unknown field"),
    ("bad-provider-type", "type: ciopulse", "type: ciopluse", "did you mean 'ciopulse'"),
    (
        "bad-state-backend",
        "backend: sqlite",
        "backend: mysql",
        "'mysql' is not allowed (known: sqlite, postgres)",
    ),
    (
        "glob-matches-nothing",
        'manifests: ["manifests/**/*.yaml"]',
        'manifests: ["manifest/*.yml"]',
        "matches no file",
    ),
]


@pytest.mark.parametrize(
    ("case", "old", "new", "words"), CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES]
)
def test_bad_config_is_reported_with_its_location(
    project: Project, sandbox: Sandbox, case: str, old: str, new: str, words: str
) -> None:
    project.manifest(CIO + GOOD)
    cfg = project.root / "reconcile.yaml"
    text = cfg.read_text()
    assert old in text
    cfg.write_text(text.replace(old, new, 1))
    before = sandbox.requests()
    r = project.run("plan")
    assert r.code == 1, r.text
    assert words in r.err, r.err
    assert re.search(r"reconcile\.yaml(:\d+:\d+)?", r.err), r.err
    assert sandbox.requests() == before
    assert "s3cr3t-literal-key" not in r.text
