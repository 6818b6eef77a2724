"""Layers never import upward, and the sandbox shares no code with the providers it tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "reconcile"

# module (or package) -> what it must never import
FORBIDDEN = {
    "sandbox": (
        "reconcile.providers",
        "reconcile.kinds",
        "reconcile.engine",
        "reconcile.diff",
        "reconcile.cli",
        "reconcile.state",
    ),
    "model.py": (
        "reconcile.diff",
        "reconcile.engine",
        "reconcile.cli",
        "reconcile.providers",
        "reconcile.state",
        "reconcile.render",
    ),
    "diff.py": (
        "reconcile.engine",
        "reconcile.cli",
        "reconcile.providers",
        "reconcile.state",
        "reconcile.render",
        "httpx",
    ),
    "safety.py": (
        "reconcile.engine",
        "reconcile.cli",
        "reconcile.providers",
        "reconcile.state",
        "httpx",
    ),
    "kinds": (
        "reconcile.engine",
        "reconcile.cli",
        "reconcile.providers",
        "reconcile.state",
        "httpx",
    ),
    "engine.py": ("reconcile.cli", "reconcile.render", "reconcile.sandbox"),
    "providers": ("reconcile.engine", "reconcile.cli", "reconcile.sandbox", "reconcile.state"),
    "state": ("reconcile.engine", "reconcile.cli", "reconcile.providers", "reconcile.sandbox"),
}


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("where", sorted(FORBIDDEN))
def test_no_upward_imports(where: str) -> None:
    target = PKG / where
    files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
    for f in files:
        bad = sorted(i for i in _imports(f) if i.startswith(FORBIDDEN[where]))
        assert not bad, f"{f.relative_to(PKG.parent)} imports {bad}"
