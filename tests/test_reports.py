"""Reports for people: every format from real sandbox plans, masking everywhere by default,
the PR-comment size limit, `show PLANFILE`, and the HTML report in a real headless browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from reconcile.manifest.schemas import drift_schema, plan_schema
from reconcile.masking import Masker
from reconcile.model import Action, Change, FieldChange, Plan
from reconcile.render.markdown import COMMENT_LIMIT, plan_markdown
from tests.conftest import Project, Sandbox, cio_manifest

FORMATS = ("text", "json", "markdown", "html")
# Known personal data: names, e-mail addresses, numbers (in fields and as blacklist keys).
SECRETS = ["First1", "Last2", "agent0@example.com", "+61411112233", "+4930123457", "Hopper"]


def _setup(project: Project, sandbox: Sandbox) -> None:
    project.manifest(
        cio_manifest(3).replace(
            "job_title: Agent\n", "job_title: Agent\n    mobile: '+61411112233'\n", 1
        )
    )
    project.manifest(
        "kind: ucontact/blacklist\nprovider: uc\nchannel: phone\nitems:\n  - {value: '+4930123457'}\n",
        "manifests/blacklist.yaml",
    )


def test_no_output_of_any_command_shows_personal_data_without_show_values(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    _setup(project, sandbox)
    planfile = tmp_path / "plan.json"
    outs = [project.run("plan", "--format", f, masked=True) for f in FORMATS]
    outs.append(project.run("plan", "--out", str(planfile), masked=True))
    outs += [project.run("show", str(planfile), "--format", f, masked=True) for f in FORMATS]
    outs.append(project.run("apply", str(planfile), masked=True))
    c = sandbox.cio_contacts()["AGENT-00001"]
    sandbox.admin("PUT", "/ciopulse/contacts/AGENT-00001", json={**c, "last_name": "Hopper"})
    outs += [project.run("drift", "--format", f, masked=True) for f in FORMATS]
    outs += [project.run("apply", "--auto-approve", masked=True)]  # repairs AGENT-00001
    outs += [
        project.run("state", "list", masked=True),
        project.run("state", "show", "cio/contacts/AGENT-00000", masked=True),
        project.run("state", "journal", masked=True),
        project.run("export", "--provider", "cio", "--kind", "ciopulse/contacts", masked=True),
        project.run("export", "--provider", "cio", "--kind", "ciopulse/contacts", "--out",
                    str(tmp_path / "x.yaml"), masked=True),
    ]  # fmt: skip
    for r in outs:
        for s in SECRETS:
            assert s not in r.out and s not in r.err, (s, r.out, r.err)
    assert outs[0].code == 0 and "+61 41 *** **33" in outs[0].out  # masked, not dropped
    assert outs[-2].code == 1 and "--out FILE" in outs[-2].err  # export refuses a CI log
    # The files keep the values their readers need, readable by their owner only.
    assert "+61411112233" in planfile.read_text() and "First1" in (tmp_path / "x.yaml").read_text()
    for f in (planfile, tmp_path / "x.yaml"):
        assert f.stat().st_mode & 0o077 == 0
    assert sandbox.cio_contacts()["AGENT-00001"]["last_name"] == "Last1"


def test_show_values_reveals_and_says_so(project: Project, sandbox: Sandbox) -> None:
    _setup(project, sandbox)
    for f in FORMATS:
        r = project.run("plan", "--format", f, "--show-values", masked=True)
        assert "agent0@example.com" in r.out and "+4930123457" in r.out
        assert "unmasked" in r.err
    md = project.run("plan", "--format", "markdown", "--show-values", masked=True).out
    assert "shown unmasked" in md


def test_a_field_is_masked_in_every_output_or_in_none(project: Project, sandbox: Sandbox) -> None:
    # job_title is not personal: clear in plans and in drift alike; last_name masked in both.
    project.manifest(cio_manifest(2))
    assert project.run("apply", "--auto-approve").code == 0
    c = sandbox.cio_contacts()["AGENT-00001"]
    sandbox.admin(
        "PUT",
        "/ciopulse/contacts/AGENT-00001",
        json={**c, "job_title": "Intern", "last_name": "Hopper"},
    )
    for f in FORMATS:
        for cmd in ("plan", "drift"):
            out = project.run(cmd, "--format", f, masked=True).out
            assert "Intern" in out and "Hopper" not in out and "Last1" not in out, (cmd, f, out)


def test_json_reports_match_their_schemas_and_a_masked_plan_cannot_be_applied(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    _setup(project, sandbox)
    plan = json.loads(project.run("plan", "--format", "json", masked=True).out)
    jsonschema.validate(plan, plan_schema())
    assert plan["masked"] is True
    printed = tmp_path / "printed.json"
    printed.write_text(json.dumps(plan))
    r = project.run("apply", str(printed))
    assert r.code == 1 and "masked plan" in r.err and sandbox.cio_contacts() == {}
    saved = tmp_path / "plan.json"
    project.run("plan", "--out", str(saved))
    assert json.loads(saved.read_text())["masked"] is False
    assert project.run("apply", str(saved)).code == 0
    drift = json.loads(project.run("drift", "--format", "json", masked=True).out)
    jsonschema.validate(drift, drift_schema())


def _big_plan(n: int) -> Plan:
    changes = tuple(
        Change(
            f"cio/contacts/AGENT-{i:06d}", Action.CREATE, "cio", "ciopulse/contacts", "",
            f"AGENT-{i:06d}", None,
            (FieldChange("first_name", None, f"Name{i}"), FieldChange("job_title", None, "Agent")),
        )
        for i in range(n)
    )  # fmt: skip
    return Plan("lineage-x", 1, changes)


def test_a_plan_of_50000_changes_fits_a_pr_comment_and_says_what_was_cut() -> None:
    md = plan_markdown(_big_plan(50_000), Masker("k", True), full="the plan artifact of run 7")
    assert len(md) <= COMMENT_LIMIT
    assert md.index("**50000 to create**") < md.index("<details>")  # counts first
    assert "| `cio/contacts` | 50000 |" in md
    assert "**Cut:**" in md and "of 100000 rows" in md and "the plan artifact of run 7" in md
    assert "Name1" not in md
    small = plan_markdown(_big_plan(10), Masker("k", True))
    assert "**Cut:**" not in small and small.count("| create | `cio") == 20


def test_markdown_has_one_collapsible_section_per_collection(
    project: Project, sandbox: Sandbox
) -> None:
    _setup(project, sandbox)
    md = project.run("plan", "--format", "markdown", masked=True).out
    assert md.startswith("<!-- reconcile:plan -->")
    assert md.count("<details>") == 2
    assert "<code>cio/contacts</code>: 3 to create" in md
    assert "<code>uc/blacklist/phone</code>: 1 to create" in md


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_html_report_renders_its_table_and_chart_in_a_browser(
    project: Project, sandbox: Sandbox, tmp_path: Path
) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("RECONCILE_REQUIRE_BROWSER") == "1":
            pytest.fail("RECONCILE_REQUIRE_BROWSER=1 but no chromium on PATH")
        pytest.skip(
            "no chromium on PATH (apt-get install chromium); RECONCILE_REQUIRE_BROWSER=1 fails instead"
        )
    _setup(project, sandbox)
    page = tmp_path / "plan.html"
    page.write_text(project.run("plan", "--format", "html", masked=True).out)
    assert "http://" not in page.read_text().replace('xmlns="http://www.w3.org/2000/svg"', "")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--user-data-dir=" + str(tmp_path / "p"),
    ]
    dom = subprocess.run(
        [browser, *flags, "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert 'data-ready="1"' in dom  # the filter script ran
    assert dom.count('<rect class="bar"') == 2 and '<span id="shown">' in dom
    assert dom.count('<tr data-label="create"') >= 4 and "agent0@example.com" not in dom
    shot = tmp_path / "plan.png"
    subprocess.run(
        [browser, *flags, "--window-size=1200,900", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.exists() and shot.stat().st_size > 5_000
