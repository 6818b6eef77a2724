"""Manifest files -> checked `Collection` values, or every problem at once.

Nothing here touches the network: `validate` runs exactly this, and `plan`
runs it before its first request.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema

from reconcile import kinds, lifetimes
from reconcile.config import Project
from reconcile.errors import ManifestError, Problem
from reconcile.manifest.cache import ManifestCache, digest
from reconcile.manifest.located import LocatedDict, LocatedList, load_documents, where_of
from reconcile.manifest.schemas import envelope_problems, schema_problems, suggest
from reconcile.model import Collection, Desired, Prune

# A cell a spreadsheet would run: =SUM(...), @x, +cmd, -cmd (but +4930... and -12 are data).
_FORMULA = re.compile(r"^\s*(=|@|[+-][^0-9])")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


# JSON numbers beyond 2**53 lose digits in most vendors' parsers; NaN and infinities are
# not JSON at all. Caught here, so that nothing is sent that cannot arrive as written.
_SAFE_INT = 2**53 - 1


def _unsendable(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for fld, v in item.items():
        if type(v) is float and not math.isfinite(v):
            out.append(
                (fld, f"{v} is not a number a vendor can receive (NaN and infinities are not JSON)")
            )
        elif type(v) is int and abs(v) > _SAFE_INT or type(v) is float and abs(v) > _SAFE_INT:
            shown = f"{v:.3g}" if abs(v) < 10**300 else "a number of over 300 digits"
            out.append((fld, f"{shown} is too large to be sent exactly (the limit is {_SAFE_INT})"))
    return out


@cache
def _fast_item_check(kind: str) -> Any:
    spec = kinds.get(kind)
    assert spec is not None
    return fastjsonschema.compile(dict(spec.item_schema))


def manifest_files(project: Project) -> tuple[list[Path], list[Problem]]:
    files: dict[Path, None] = {}
    problems: list[Problem] = []
    for pattern in project.manifests:
        matched = sorted(p for p in project.root.glob(pattern) if p.is_file())
        if not matched:
            problems.append(
                Problem(
                    project.rel(project.config_file),
                    f"manifests: pattern {pattern!r} matches no file (a typo here would make every managed record look undeclared)",
                )
            )
        for p in matched:
            files[p] = None
    return list(files), problems


def load_collections(project: Project) -> list[Collection]:
    """Every collection of the project; raises ManifestError listing all problems."""
    files, problems = manifest_files(project)
    collections: list[Collection] = []
    cache = ManifestCache(project)
    for path in files:
        collections += _load_file(project, path, problems, cache)
    by_provider: dict[tuple[str, str], list[Collection]] = {}
    for c in collections:
        by_provider.setdefault((c.provider, c.kind), []).append(c)
    for (provider, kind), colls in by_provider.items():
        spec = kinds.get(kind)
        assert spec is not None
        settings = project.providers[provider].settings
        problems += [Problem(w, m) for w, m in spec.check_across(colls, settings)]
    seen: dict[tuple[str, str, str], str] = {}
    for c in collections:
        ident = (c.provider, c.kind, c.scope)
        if ident in seen:
            problems.append(
                Problem(
                    c.origin,
                    f"{c.prefix} is already declared at {seen[ident]}; declare each scope once",
                )
            )
        else:
            seen[ident] = c.origin
    if problems:
        raise ManifestError(problems)
    return collections


def _readable(project: Project, path: Path, where: str, problems: list[Problem]) -> bool:
    """A file reconcile may read: inside the project (links included) and not over the size limit."""
    resolved = path.resolve()
    if not resolved.is_relative_to(project.root.resolve()):
        problems.append(
            Problem(
                where,
                f"{project.rel(path)} leads outside the project folder (a link?); keep manifests and item files inside it",
            )
        )
        return False
    try:
        size = resolved.stat().st_size
    except OSError as exc:
        problems.append(Problem(where, f"cannot read: {exc}"))
        return False
    if size > project.limits.max_file_bytes:
        problems.append(
            Problem(
                where,
                f"{project.rel(path)} is {size / 2**20:.2f} MiB, over the limit of {project.limits.max_file_mb:g} MiB "
                "(raise limits.max_file_mb in reconcile.yaml, or split the file)",
            )
        )
        return False
    return True


class _Trace:
    """What loading one file read besides it, and whether its result depends on the hour."""

    def __init__(self) -> None:
        self.sources: list[tuple[str, str, str]] = []  # (items_from as written, as shown, digest)
        self.timed = False


def _load_file(
    project: Project, path: Path, problems: list[Problem], cache: ManifestCache | None = None
) -> list[Collection]:
    name = project.rel(path)
    if not _readable(project, path, name, problems):
        return []
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(name, f"cannot read: {exc}"))
        return []
    if cache is not None and (hit := cache.get(path, name, data)) is not None:
        for kept in hit:  # checks in context may read the clock (a calldate in the past)
            spec = kinds.get(kept.kind)
            if spec is not None and spec.check_in_context is not None:
                problems += spec.check_in_context(kept, project.providers[kept.provider].settings)
        return hit
    before = len(problems)
    trace = _Trace()
    out = []
    for doc, doc_problems in load_documents(text, name):
        problems += doc_problems
        if doc is None:
            continue
        if not isinstance(doc, LocatedDict):
            problems.append(
                Problem(
                    f"{name}:1:1",
                    "a manifest document must be a mapping with kind:, provider: and items:",
                )
            )
            continue
        coll = _load_document(project, path, doc, problems, trace)
        if coll is not None:
            out.append(coll)
    if cache is not None and len(problems) == before and not trace.timed:
        cache.put(name, data, out, trace.sources)
    return out


def _load_document(
    project: Project, path: Path, doc: LocatedDict, problems: list[Problem], trace: _Trace
) -> Collection | None:
    kind = doc.get("kind")
    spec = kinds.get(kind) if isinstance(kind, str) else None
    if spec is None:
        problems.append(
            Problem(
                doc.where("kind") if "kind" in doc else doc.where(),
                f"kind: {kind!r} is not a known kind{suggest(str(kind), kinds.all_kinds())}",
            )
        )
        return None
    before = len(problems)
    envelope = doc.subset(k for k in doc if k != "items")
    if "items" in doc:
        envelope.put(
            "items",
            [] if isinstance(doc["items"], list) else doc["items"],
            *(doc.mark("items") or (doc.line, doc.col)),
        )
    problems += envelope_problems(spec, envelope, doc.where())
    provider = doc.get("provider")
    if isinstance(provider, str):
        pc = project.providers.get(provider)
        if pc is None:
            problems.append(
                Problem(
                    doc.where("provider"),
                    f"provider {provider!r} is not configured in reconcile.yaml (configured: {', '.join(project.providers) or 'none'})",
                )
            )
        elif pc.type != spec.provider_type:
            problems.append(
                Problem(
                    doc.where("provider"),
                    f"provider {provider!r} is of type {pc.type}, but kind {spec.name} needs a {spec.provider_type} provider",
                )
            )
    if len(problems) > before:
        return None

    items: Any
    if "items_from" in doc:
        items = _items_from(project, path, doc, spec, problems, trace)
        if items is None:
            return None
    else:
        items = doc["items"]
        if not isinstance(items, LocatedList):
            problems.append(Problem(doc.where("items"), "items: must be a list"))
            return None

    check = _fast_item_check(spec.name)
    tz = lifetimes.zone(project.timezone)
    moment = lifetimes.now()
    upcoming: list[tuple[str, str, str]] = []
    desired: list[Desired] = []
    plain_items: list[Mapping[str, Any]] = []
    item_places: list[tuple[int, Any]] = []  # (index in items, the item), as plain_items
    keys: dict[str, str] = {}
    key_at = spec.key_path(doc) if spec.key_path else (spec.key_field,)
    for i, item in enumerate(items):
        where = items.where(i)
        if spec.plain_items and isinstance(item, str | int) and not isinstance(item, bool):
            item = {spec.key_field: str(item)}
        window = None
        if isinstance(item, Mapping) and any(f in item for f in lifetimes.FIELDS):
            trace.timed = True
            window, bad = lifetimes.window_of(item, tz)
            for fld, message in bad:
                at_fld = item.where(fld) if isinstance(item, LocatedDict) else where
                problems.append(Problem(at_fld, f"items[{i}].{fld}: {message}"))
            if isinstance(item, LocatedDict):
                item = item.subset(k for k in item if k not in lifetimes.FIELDS)
            else:
                item = {k: v for k, v in item.items() if k not in lifetimes.FIELDS}
        try:
            check(item)
        except fastjsonschema.JsonSchemaException:
            problems.extend(schema_problems(spec.item_schema, item, where, prefix=(f"items[{i}]",)))
            continue
        located = item if isinstance(item, LocatedDict) else None
        settings = project.providers[str(provider)].settings
        checks = [
            *_unsendable(item),
            *spec.check_item(item),
            *spec.check_with_settings(item, settings),
        ]
        for fld, message in checks:
            problems.append(
                Problem(
                    located.where(fld) if located and fld in item else where,
                    f"items[{i}].{fld}: {message}",
                )
            )
        key = _dig(item, key_at)
        if key is None and spec.key_default:  # `destination` keys an SMS when no `key` is written
            key = item.get(spec.key_default)
        if key is None or key == "":
            problems.append(
                Problem(
                    where, f"items[{i}]: {'.'.join(key_at)} is missing: it is this collection's key"
                )
            )
            continue
        if not isinstance(key, str):
            key = str(key)
        if not key.isprintable():
            problems.append(
                Problem(
                    located.where(spec.key_field) if located and spec.key_field in item else where,
                    f"items[{i}].{'.'.join(key_at)}: {key!r} holds a line break or control character; "
                    "keys are single-line printable text (they end up in addresses, plans and logs)",
                )
            )
            continue
        if key in keys:
            problems.append(
                Problem(
                    where,
                    f"items[{i}]: {'.'.join(key_at)} {key!r} is declared twice in this collection (first at {keys[key]})",
                )
            )
            continue
        keys[key] = where
        if window is not None:
            if window.expires_soon(moment) and window.expires is not None:
                upcoming.append((key, "expires", lifetimes.shown(window.expires, tz)))
            if (
                window.valid_from is not None
                and moment < window.valid_from <= moment + lifetimes.SOON
            ):
                upcoming.append((key, "valid_from", lifetimes.shown(window.valid_from, tz)))
            if not window.holds(moment):
                continue  # outside its window the item is not declared
        if spec.key_in_fields:
            fields = dict(item)
        else:
            fields = {k: v for k, v in item.items() if k != spec.key_field}
        desired.append(Desired(key=key, fields=fields, origin=where))
        plain_items.append(item)
        item_places.append((i, item))
    for i, fld, message in spec.check_collection(plain_items):
        d = desired[i]
        problems.append(Problem(d.origin, f"{spec.key_field} {d.key!r}: {fld}: {message}"))
    for i, at, message in spec.check_document(doc, plain_items):
        if i < 0:
            problems.append(Problem(where_of(doc, at, doc.where()), message))
            continue
        n, item = item_places[i]
        dotted = ".".join((f"items[{n}]", *at))
        problems.append(Problem(where_of(item, at, items.where(n)), f"{dotted}: {message}"))

    scope, scope_ref = spec.scope_of(doc)
    options = {
        k: v
        for k, v in doc.items()
        if k
        not in {
            "kind",
            "provider",
            "items",
            "items_from",
            "prune",
            "prevent_destroy",
            "description",
            spec.scope_field,
        }
    }
    coll = Collection(
        provider=str(provider),
        kind=spec.name,
        scope=scope,
        scope_ref=scope_ref,
        prune=Prune(doc.get("prune", "managed")),
        prevent_destroy=bool(doc.get("prevent_destroy", False)),
        items=tuple(desired),
        origin=doc.where(),
        options=options,
        scope_origin=doc.where(spec.scope_field) if spec.scope_field else doc.where(),
        sources=(project.rel(path),)
        + (
            (project.rel((path.parent / doc["items_from"]).resolve()),)
            if "items_from" in doc
            else ()
        ),
        upcoming=tuple(upcoming),
    )
    if spec.check_in_context is not None:
        problems += spec.check_in_context(coll, project.providers[coll.provider].settings)
    return coll


def _items_from(
    project: Project,
    path: Path,
    doc: LocatedDict,
    spec: kinds.KindSpec,
    problems: list[Problem],
    trace: _Trace,
) -> LocatedList | None:
    where = doc.where("items_from")
    ref = doc["items_from"]
    target = (path.parent / ref).resolve()
    if not target.is_relative_to(project.root.resolve()):
        problems.append(
            Problem(
                where,
                f"items_from: {ref!r} points outside the project folder; keep item files inside the project",
            )
        )
        return None
    if not target.is_file():
        problems.append(Problem(where, f"items_from: {ref!r}: no such file"))
        return None
    if not _readable(project, target, where, problems):
        return None
    name = project.rel(target)
    try:
        data = target.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(where, f"items_from: cannot read {name}: {exc}"))
        return None
    trace.sources.append((str(ref), name, digest(data)))
    if target.suffix == ".csv":
        return _csv_items(text, name, spec, problems, project.policy.allow_csv_formulas)
    docs = list(load_documents(text, name))
    for _, ps in docs:
        problems.extend(ps)
    if len(docs) != 1 or docs[0][0] is None:
        if not any(ps for _, ps in docs):
            problems.append(
                Problem(f"{name}:1:1", "an items file holds one YAML document: a list of items")
            )
        return None
    value = docs[0][0]
    if isinstance(value, LocatedDict) and isinstance(value.get("items"), LocatedList):
        value = value["items"]
    if not isinstance(value, LocatedList):
        problems.append(
            Problem(f"{name}:1:1", "an items file holds a list of items (or a mapping with items:)")
        )
        return None
    return value


def _csv_items(
    text: str,
    name: str,
    spec: kinds.KindSpec,
    problems: list[Problem],
    allow_formulas: bool = False,
) -> LocatedList | None:
    """CSV rows as items: the header names the fields, an empty cell is null."""
    props: Mapping[str, Any] = spec.item_schema.get("properties", {})
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        problems.append(
            Problem(f"{name}:1:1", "empty CSV file: the first row must name the fields")
        )
        return None
    except csv.Error as exc:
        problems.append(Problem(f"{name}:1:1", f"CSV error: {exc}"))
        return None
    header = [h.strip() for h in header]
    for col, h in enumerate(header, 1):
        if h not in props and h not in lifetimes.FIELDS:
            problems.append(
                Problem(
                    f"{name}:1:{col}",
                    f"unknown column {h!r} for kind {spec.name} (known: {', '.join(props)})",
                )
            )
    if len(set(header)) != len(header):
        problems.append(Problem(f"{name}:1:1", "a column name is repeated in the header"))
    if any(p.where.startswith(f"{name}:1:") for p in problems):
        return None
    types = [_types_of(props.get(h, {})) for h in header]
    out = LocatedList.at(name, 1, 1)
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                problems.append(
                    Problem(
                        f"{name}:{line}:1",
                        f"row has {len(row)} cells, the header has {len(header)}",
                    )
                )
                continue
            item = LocatedDict.at(name, line, 1)
            if not allow_formulas:
                for col, cell in enumerate(row, 1):
                    if _FORMULA.match(cell):
                        problems.append(
                            Problem(
                                f"{name}:{line}:{col}",
                                f"{header[col - 1]}: {cell[:20]!r} starts like a spreadsheet formula (=, @, or +/- before a "
                                "non-digit), which runs when the list is opened in a spreadsheet; "
                                "set policy.allow_csv_formulas: true if it is meant",
                            )
                        )
            for col, (h, cell, ts) in enumerate(zip(header, row, types, strict=True), 1):
                item.put(h, _cell(cell, ts), line, col)
            out.add(item, line, 1)
    except csv.Error as exc:
        problems.append(Problem(f"{name}:{reader.line_num}:1", f"CSV error: {exc}"))
        return None
    return out


def _types_of(schema: Mapping[str, Any]) -> tuple[str, ...]:
    t = schema.get("type", "string")
    return tuple(t) if isinstance(t, list) else (t,)


def _cell(cell: str, types: tuple[str, ...]) -> Any:
    if cell == "":
        return None
    s = cell.strip()
    if "boolean" in types and s.lower() in _TRUE | _FALSE:
        return s.lower() in _TRUE
    if "integer" in types:
        try:
            return int(s)
        except ValueError:
            pass
    if "number" in types:
        try:
            return float(s) if any(c in s for c in ".eE") else int(s)
        except ValueError:
            pass
    return cell


def _dig(item: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = item
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
