"""reconcile.yaml: providers, state backend, manifest globs and policies.

Strings may hold `${VAR}` and `${VAR:-default}` references to the environment;
credentials must be written that way. A missing variable is an error that
names the variable and the line, never a value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from reconcile import lifetimes, redact
from reconcile.errors import ConfigError, Problem
from reconcile.manifest.located import LocatedDict, LocatedList, load_documents
from reconcile.manifest.schemas import config_problems
from reconcile.provider_types import TYPES

CONFIG_NAME = "reconcile.yaml"
SECRET_SETTINGS = frozenset({"api_key", "token", "password"})
_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class ProviderConfig:
    """One configured vendor account."""

    name: str
    type: str
    url: str
    settings: Mapping[str, Any]  # every setting, references resolved
    concurrency: int = 8
    rate_limit: float | None = None  # requests per second; None = unlimited
    timeout: float = 30.0
    connect_timeout: float = 10.0
    ca_bundle: str | None = None
    retries: int = 5
    endpoints: Mapping[str, str] = field(default_factory=dict)
    origin: str = ""


@dataclass(frozen=True)
class StateConfig:
    backend: str  # "sqlite" | "postgres"
    path: Path | None = None
    dsn: str | None = None


@dataclass(frozen=True)
class Policy:
    max_delete_percent: float = 10.0
    max_blacklist_removals: int = 0
    threshold_min_records: int = 10  # collections smaller than this have no percentage threshold
    allow_csv_formulas: bool = False  # CSV cells starting like a spreadsheet formula are refused


@dataclass(frozen=True)
class Limits:
    max_file_mb: float = 64.0  # a manifest or items file larger than this is refused unread

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 2**20)


@dataclass(frozen=True)
class Project:
    root: Path
    config_file: Path
    state: StateConfig
    manifests: tuple[str, ...]
    policy: Policy
    providers: Mapping[str, ProviderConfig]
    limits: Limits = field(default_factory=Limits)
    timezone: str = "UTC"  # item lifetimes (valid_from, expires) are read in this zone

    def rel(self, path: Path) -> str:
        """A path as shown to users: relative to the project when inside it."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


def _interpolate(value: Any, where: str, env: Mapping[str, str], problems: list[Problem]) -> Any:
    if isinstance(value, LocatedDict):
        out = {k: _interpolate(v, value.where(k), env, problems) for k, v in value.items()}
        return out
    if isinstance(value, LocatedList):
        return [_interpolate(v, value.where(i), env, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, default = m.group(1), m.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        problems.append(
            Problem(
                where,
                f"environment variable {name} is not set (write ${{{name}:-default}} to give a default)",
            )
        )
        return ""

    return _REF.sub(sub, value)


_LOOPBACK = ("localhost", "127.", "[::1]", "::1")


def _transport_problems(pc: ProviderConfig, where: LocatedDict, root: Path) -> list[Problem]:
    """Plain http:// only to this machine unless `insecure: true`: personal data and
    credentials would cross the network readable by anyone on the way."""
    out = []
    parts = urlsplit(pc.url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        out.append(
            Problem(
                where.where("url") if "url" in where else pc.origin,
                f"providers.{pc.name}.url must start with https:// (or http:// for this machine)",
            )
        )
    elif (
        parts.scheme == "http"
        and not host.startswith(_LOOPBACK)
        and not pc.settings.get("insecure")
    ):
        out.append(
            Problem(
                where.where("url") if "url" in where else pc.origin,
                f"providers.{pc.name}.url uses plain http:// to {host}: credentials and personal data would travel "
                "unencrypted; use https://, or set insecure: true on the provider if the network is trusted",
            )
        )
    if pc.ca_bundle and not Path(pc.ca_bundle).is_file():
        out.append(
            Problem(
                where.where("ca_bundle"),
                f"providers.{pc.name}.ca_bundle: no such file {pc.ca_bundle}",
            )
        )
    return out


def _type_checks(raw: LocatedDict, resolved: Mapping[str, Any]) -> list[Problem]:
    """Each provider type's own checks of its resolved settings (a 40-character key)."""
    out: list[Problem] = []
    for pname, p in (resolved.get("providers") or {}).items():
        ptype = TYPES.get(p.get("type", ""))
        doc = raw["providers"][pname]
        for setting, message in ptype.check(p) if ptype else []:
            out.append(Problem(doc.where(setting), f"providers.{pname}.{setting}: {message}"))
    return out


def find_config(directory: Path, config: Path | None) -> Path:
    path = config if config is not None else directory / CONFIG_NAME
    if not path.is_absolute():
        path = (directory / path) if config is not None and not path.exists() else path
    if not path.exists():
        raise ConfigError(
            f"{path}: no such file; run reconcile in a project folder (one with {CONFIG_NAME}) or pass -C DIR / --config FILE"
        )
    return path


def load_project(
    directory: Path, config: Path | None = None, env: Mapping[str, str] | None = None
) -> Project:
    """Read and check reconcile.yaml; every problem is reported at once."""
    env = os.environ if env is None else env
    path = find_config(directory, config)
    root = path.parent
    name = os.path.relpath(path, directory) if path.is_relative_to(directory) else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read: {exc}") from exc
    docs = list(load_documents(text, name))
    problems: list[Problem] = [p for _, ps in docs for p in ps]
    if problems:
        raise ConfigError("\n".join(str(p) for p in problems))
    if len(docs) != 1 or not isinstance(docs[0][0], LocatedDict):
        raise ConfigError(
            f"{name}:1:1: {CONFIG_NAME} must hold one mapping (version, state, manifests, providers)"
        )
    raw: LocatedDict = docs[0][0]
    problems += config_problems(raw, name)
    for pname, pdoc in (raw.get("providers") or {}).items():
        if isinstance(pdoc, LocatedDict):
            for key in SECRET_SETTINGS & set(pdoc):
                if isinstance(pdoc[key], str) and "${" not in pdoc[key]:
                    problems.append(
                        Problem(
                            pdoc.where(key),
                            f"providers.{pname}.{key} is a credential: write it as a ${{ENV_VAR}} reference, never a literal in git",
                        )
                    )
    if problems:
        raise ConfigError("\n".join(str(p) for p in sorted(problems, key=lambda p: p.where)))
    resolved = _interpolate(raw, raw.where(), env, problems)
    problems = problems or _type_checks(raw, resolved)
    if problems:
        raise ConfigError("\n".join(str(p) for p in problems))

    providers: dict[str, ProviderConfig] = {}
    for pname, p in (resolved.get("providers") or {}).items():
        for key in SECRET_SETTINGS:
            if isinstance(p.get(key), str):
                redact.register(p[key])
        providers[pname] = ProviderConfig(
            name=pname,
            type=p["type"],
            url=str(p.get("url", "")).rstrip("/"),
            settings=p,
            concurrency=int(p.get("concurrency", 8)),
            rate_limit=float(p["rate_limit"]) if p.get("rate_limit") else None,
            timeout=float(p.get("timeout", 30)),
            connect_timeout=float(p.get("connect_timeout", 10)),
            ca_bundle=str(root / p["ca_bundle"]) if p.get("ca_bundle") else None,
            retries=int(p.get("retries", 5)),
            endpoints=dict(p.get("endpoints") or {}),
            origin=raw["providers"].where(pname),
        )
    for pname, pc in providers.items():
        problems += _transport_problems(pc, raw["providers"][pname], root)
    if problems:
        raise ConfigError("\n".join(str(p) for p in problems))
    st = resolved.get("state") or {"backend": "sqlite"}
    state = StateConfig(
        backend=st.get("backend", "sqlite"),
        path=(root / st.get("path", ".reconcile/state.db"))
        if st.get("backend", "sqlite") == "sqlite"
        else None,
        dsn=st.get("dsn"),
    )
    if state.dsn:
        redact.register(state.dsn)
    pol = resolved.get("policy") or {}
    tz = str(resolved.get("timezone") or "UTC")
    try:
        lifetimes.zone(tz)
    except ValueError as exc:
        raise ConfigError(f"{raw.where('timezone')}: timezone: {exc}") from exc
    return Project(
        root=root,
        config_file=path,
        state=state,
        manifests=tuple(resolved.get("manifests") or ["manifests/**/*.yaml"]),
        policy=Policy(
            max_delete_percent=float(pol.get("max_delete_percent", 10)),
            max_blacklist_removals=int(pol.get("max_blacklist_removals", 0)),
            threshold_min_records=int(pol.get("threshold_min_records", 10)),
            allow_csv_formulas=bool(pol.get("allow_csv_formulas", False)),
        ),
        limits=Limits(max_file_mb=float((resolved.get("limits") or {}).get("max_file_mb", 64))),
        providers=providers,
        timezone=tz,
    )
