"""reconcile fmt: canonical order, comments kept, idempotent, meaning unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.config import load_project
from reconcile.manifest.formatting import format_text
from reconcile.manifest.loader import load_collections
from tests.conftest import Project

MESSY = """\
# The support team's contacts: this header stays on top.

items:
  # Grace leads the night shift
  - last_name: Hopper   # since 2024
    system_id: AGENT-18
    # her desk line, not her mobile
    mobile: "+61411112233"
  # Ada comes first once sorted
  - system_id: AGENT-17
    first_name: Ada
    job_title: Team Lead
# owned by the support team
provider: cio
prune: managed
kind: ciopulse/contacts   # the kind
---
kind: jtel/dialler-contacts
items:
  - {UserData: CRM-2, Name: B, PhoneNumber1: "+4930123002", reset_token: "2026-11-23"}
  - {UserData: CRM-1, Name: A, PhoneNumber1: "+4930123001", locked: yes}
campaign: {name: Outbound Sales}
provider: dialler
---
kind: ucontact/blacklist
provider: uc
channel: phone
items:
- "+4930123457"   # complaint 2026-03
- "+4930123456"
"""


def collections_of(project: Project) -> list[object]:
    colls = load_collections(load_project(project.root))
    # Item order and file positions are layout; everything else is meaning.
    return [
        (c.provider, c.kind, c.scope, c.scope_ref, c.prune, c.prevent_destroy, dict(c.options),
         sorted((d.key, sorted(d.fields.items())) for d in c.items))
        for c in colls
    ]  # fmt: skip


def test_fmt_orders_keys_and_items_and_keeps_every_comment(project: Project) -> None:
    path = project.manifest(MESSY)
    before = collections_of(project)
    r = project.run("fmt")
    assert r.code == 0, r.text
    assert "reformatted" in r.out
    text = path.read_text()
    # Every comment survives, and stays next to what it describes.
    for line in MESSY.splitlines():
        if "#" in line:
            assert line[line.index("#") :] in text, line
    doc1 = text.split("---\n")[0]
    assert doc1.startswith("# The support team's contacts")
    assert (
        doc1.index("kind:") < doc1.index("provider:") < doc1.index("prune:") < doc1.index("items:")
    )
    assert doc1.index("AGENT-17") < doc1.index("AGENT-18")
    assert doc1.index("# Ada comes first") < doc1.index("AGENT-17")
    assert doc1.index("# Grace leads") < doc1.index("AGENT-18") < doc1.index("# her desk line")
    assert doc1[doc1.index("last_name: Hopper") :].split("\n")[0].endswith("# since 2024")
    # The key field comes first in each item.
    assert "- system_id: AGENT-18\n" in doc1
    doc2 = text.split("---\n")[1]
    assert doc2.index("campaign:") < doc2.index("items:") and doc2.index("CRM-1") < doc2.index(
        "CRM-2"
    )
    assert "locked: yes" in doc2  # scalars stay as written
    doc3 = text.split("---\n")[2]
    assert doc3.index('"+4930123456"') < doc3.index('"+4930123457"')
    assert doc3[doc3.index('"+4930123457"') :].split("\n")[0].endswith("# complaint 2026-03")
    assert collections_of(project) == before  # the meaning never changes


def test_fmt_is_idempotent_and_check_names_what_would_change(project: Project) -> None:
    path = project.manifest(MESSY)
    check = project.run("fmt", "--check")
    assert check.code == 1
    assert "main.yaml" in check.out and "would reformat" in check.out
    assert path.read_text() == MESSY  # --check changes nothing
    assert project.run("fmt").code == 0
    once = path.read_text()
    assert format_text(once) == once
    again = project.run("fmt", "--check")
    assert again.code == 0, again.text
    assert path.read_text() == once


def test_fmt_of_broken_yaml_names_the_file_and_fails(project: Project) -> None:
    project.manifest("kind: ciopulse/contacts\nitems: [\n")
    r = project.run("fmt", str(project.root / "manifests"))
    assert r.code == 1
    assert "main.yaml" in r.err and "not valid YAML" in r.err


@pytest.mark.parametrize("example", ["ciopulse", "jtel", "nubitalk", "ucontact", "mixed"])
def test_shipped_examples_are_in_canonical_form(example: str) -> None:
    root = Path(__file__).parent.parent / "examples" / example
    for path in sorted((root / "manifests").rglob("*.yaml")):
        text = path.read_text()
        assert format_text(text) == text, f"{path.name}: run reconcile fmt"
