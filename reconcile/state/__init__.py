"""State stores: what reconcile has applied, with a write journal and a lock."""

from __future__ import annotations

from reconcile.config import Project, StateConfig
from reconcile.state.base import StateStore


def open_store(config: StateConfig) -> StateStore:
    if config.backend == "postgres":
        from reconcile.state.postgres import PostgresStore

        assert config.dsn is not None
        store: StateStore = PostgresStore(config.dsn)
        return store
    from reconcile.state.sqlite import SqliteStore

    assert config.path is not None
    return SqliteStore(config.path)


def open_project_store(project: Project) -> StateStore:
    return open_store(project.state)
