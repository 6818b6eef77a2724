"""reconcile.yaml: ${VAR} references, defaults, escapes, and items from YAML files."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconcile.config import load_project
from reconcile.errors import ConfigError
from tests.conftest import Project, Sandbox

CONFIG = """\
version: 1
manifests: ["m/*.yaml"]
providers:
  cio:
    type: ciopulse
    url: "${CIO_URL:-https://fallback/api/v5}"
    portal_code: "P$$1"
    api_key: "${CIO_KEY}"
"""


def test_references_defaults_and_dollar_escapes(tmp_path: Path) -> None:
    (tmp_path / "reconcile.yaml").write_text(CONFIG)
    p = load_project(tmp_path, env={"CIO_KEY": "k" * 40})
    cio = p.providers["cio"]
    assert cio.url == "https://fallback/api/v5"
    assert cio.settings["portal_code"] == "P$1"
    assert cio.settings["api_key"] == "k" * 40
    p = load_project(tmp_path, env={"CIO_KEY": "k" * 40, "CIO_URL": "https://real/api/v5"})
    assert p.providers["cio"].url == "https://real/api/v5"
    # An empty variable counts as unset, so the default applies.
    assert (
        load_project(tmp_path, env={"CIO_KEY": "k" * 40, "CIO_URL": ""}).providers["cio"].url
        == "https://fallback/api/v5"
    )


def test_a_missing_variable_names_the_variable_and_line_never_a_value(tmp_path: Path) -> None:
    (tmp_path / "reconcile.yaml").write_text(CONFIG)
    with pytest.raises(ConfigError) as err:
        load_project(tmp_path, env={"UNRELATED_SECRET": "hunter2"})
    assert "reconcile.yaml:8:14" in str(err.value) and "CIO_KEY is not set" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_items_from_a_yaml_file(project: Project, sandbox: Sandbox) -> None:
    project.write(
        "manifests/people.yaml",
        "- {system_id: Y1, first_name: A, last_name: B, email: y1@example.com}\n",
    )
    project.manifest(
        "kind: ciopulse/contacts\nprovider: cio\nitems_from: people.yaml\n",
        name="manifests/main.yml",
    )
    project.write_config()
    cfg = project.root / "reconcile.yaml"
    cfg.write_text(
        cfg.read_text().replace(
            'manifests: ["manifests/**/*.yaml"]', 'manifests: ["manifests/*.yml"]'
        )
    )
    assert project.run("apply", "--auto-approve").code == 0
    assert sandbox.cio_contacts()["Y1"]["email"] == "y1@example.com"
