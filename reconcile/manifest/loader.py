"""Manifest files -> checked `Collection` values, or every problem at once.

Nothing here touches the network: `validate` runs exactly this, and `plan`
runs it before its first request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema

from reconcile import kinds
from reconcile.config import Project
from reconcile.errors import ManifestError, Problem
from reconcile.manifest.located import LocatedDict, LocatedList, load_documents
from reconcile.manifest.schemas import envelope_schema, schema_problems, suggest
from reconcile.model import Collection, Desired, Prune

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


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
    for path in files:
        collections += _load_file(project, path, problems)
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


def _load_file(project: Project, path: Path, problems: list[Problem]) -> list[Collection]:
    name = project.rel(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(name, f"cannot read: {exc}"))
        return []
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
        coll = _load_document(project, path, doc, problems)
        if coll is not None:
            out.append(coll)
    return out


def _load_document(
    project: Project, path: Path, doc: LocatedDict, problems: list[Problem]
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
    problems += schema_problems(envelope_schema(spec, with_items=False), envelope, doc.where())
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
        items = _items_from(project, path, doc, spec, problems)
        if items is None:
            return None
    else:
        items = doc["items"]
        if not isinstance(items, LocatedList):
            problems.append(Problem(doc.where("items"), "items: must be a list"))
            return None

    check = _fast_item_check(spec.name)
    desired: list[Desired] = []
    plain_items: list[Mapping[str, Any]] = []
    keys: dict[str, str] = {}
    for i, item in enumerate(items):
        where = items.where(i)
        try:
            check(item)
        except fastjsonschema.JsonSchemaException:
            problems.extend(schema_problems(spec.item_schema, item, where, prefix=(f"items[{i}]",)))
            continue
        located = item if isinstance(item, LocatedDict) else None
        settings = project.providers[str(provider)].settings
        for fld, message in [*spec.check_item(item), *spec.check_with_settings(item, settings)]:
            problems.append(
                Problem(
                    located.where(fld) if located and fld in item else where,
                    f"items[{i}].{fld}: {message}",
                )
            )
        key = item[spec.key_field]
        if key in keys:
            problems.append(
                Problem(
                    where,
                    f"items[{i}]: {spec.key_field} {key!r} is declared twice in this collection (first at {keys[key]})",
                )
            )
            continue
        keys[key] = where
        fields = {k: v for k, v in item.items() if k != spec.key_field}
        desired.append(Desired(key=key, fields=fields, origin=where))
        plain_items.append(item)
    for i, fld, message in spec.check_collection(plain_items):
        d = desired[i]
        problems.append(Problem(d.origin, f"{spec.key_field} {d.key!r}: {fld}: {message}"))

    scope_raw = doc.get(spec.scope_field) if spec.scope_field else None
    scope_ref = (
        dict(scope_raw)
        if isinstance(scope_raw, Mapping)
        else ({"value": scope_raw} if scope_raw is not None else {})
    )
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
    return Collection(
        provider=str(provider),
        kind=spec.name,
        scope=spec.scope_display(scope_raw),
        scope_ref=scope_ref,
        prune=Prune(doc.get("prune", "managed")),
        prevent_destroy=bool(doc.get("prevent_destroy", False)),
        items=tuple(desired),
        origin=doc.where(),
        options=options,
        scope_origin=doc.where(spec.scope_field) if spec.scope_field else doc.where(),
    )


def _items_from(
    project: Project, path: Path, doc: LocatedDict, spec: kinds.KindSpec, problems: list[Problem]
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
    name = project.rel(target)
    try:
        text = target.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(where, f"items_from: cannot read {name}: {exc}"))
        return None
    if target.suffix == ".csv":
        return _csv_items(text, name, spec, problems)
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
    text: str, name: str, spec: kinds.KindSpec, problems: list[Problem]
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
        if h not in props:
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
