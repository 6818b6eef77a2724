"""drift --adopt: accept a vendor-side change by writing the live values into the manifests.

A drift job that finds records changed outside can then open a pull request that
keeps the change instead of reverting it. Each changed field is written where the
item was declared (a YAML manifest, through the same round trip as `fmt` so that
comments and layout stay; or a row of an items_from CSV file), and state records
the live value as last applied, so that afterwards drift and plan are both empty.
Only readable vendors can be adopted from: the others show no live value.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconcile.manifest.formatting import dump_document, load_all
from reconcile.manifest.loader import load_collections
from reconcile.model import DriftClass, DriftReport, StateEntry

if TYPE_CHECKING:
    from reconcile.engine import Engine

Edit = tuple[str, Any]  # (field name, the live value)


@dataclass
class Adoption:
    adopted: list[str] = field(default_factory=list)  # addresses written back
    files: list[str] = field(default_factory=list)  # files changed, relative to the project
    skipped: list[str] = field(default_factory=list)  # why an address was not adopted


def adopt(engine: Engine, report: DriftReport) -> Adoption:
    out = Adoption()
    origins = {
        c.address(d.key): d.origin for c in load_collections(engine.project) for d in c.items
    }
    by_file: dict[str, dict[tuple[int, int], tuple[str, list[Edit]]]] = {}
    for d in report.drift:
        if d.drift_class is not DriftClass.CHANGED_OUTSIDE:
            continue
        if not d.fields:
            out.skipped.append(
                f"{d.address}: {d.detail or 'gone at the vendor'}; not adopted (delete the item "
                "from its manifest to accept it, or apply to recreate it)"
            )
            continue
        origin = origins.get(d.address)
        if origin is None:
            out.skipped.append(f"{d.address}: no manifest declares it; not adopted")
            continue
        name, line, col = origin.rsplit(":", 2)
        by_file.setdefault(name, {})[(int(line), int(col))] = (
            d.address,
            [(f.name, f.after) for f in d.fields],
        )
    root = engine.project.root
    done: dict[str, list[Edit]] = {}
    for name, places in sorted(by_file.items()):
        path = root / name
        write = _adopt_csv if path.suffix == ".csv" else _adopt_yaml
        found = write(path, places)
        for place, (address, edits) in places.items():
            if place in found:
                done[address] = edits
            else:
                out.skipped.append(
                    f"{address}: cannot find its item at {name}:{place[0]}; not adopted"
                )
        if found:
            out.files.append(name)
    puts: list[StateEntry] = []
    for address, edits in done.items():
        entry = engine.store.get(address)
        if entry is None:
            continue
        puts.append(dataclasses.replace(entry, fields={**entry.fields, **dict(edits)}))
        out.adopted.append(address)
    engine.store.record_many(puts, [])
    return out


def _items(node: Any) -> Iterator[tuple[CommentedSeq, int]]:
    if isinstance(node, CommentedMap):
        for v in node.values():
            yield from _items(v)
    elif isinstance(node, CommentedSeq):
        for i, v in enumerate(node):
            yield node, i
            yield from _items(v)


def _adopt_yaml(
    path: Path, places: dict[tuple[int, int], tuple[str, list[Edit]]]
) -> set[tuple[int, int]]:
    docs = load_all(path.read_text(encoding="utf-8"))
    found: set[tuple[int, int]] = set()
    for doc in docs:
        for seq, i in _items(doc):
            line, col = seq.lc.item(i)
            place = (line + 1, col + 1)
            item = seq[i]
            if place not in places or not isinstance(item, CommentedMap):
                continue
            for name, value in places[place][1]:
                _set(item, name, value)
            found.add(place)
    if found:
        text = "---\n".join(dump_document(d) for d in docs if d is not None)
        path.write_text(text, encoding="utf-8")
    return found


def _set(item: CommentedMap, name: str, value: Any) -> None:
    """Set a field, keeping how the old value was quoted; `Metadata.Score` goes one level down."""
    head, dot, rest = name.partition(".")
    if dot and isinstance(item.get(head), CommentedMap) and rest:
        _set(item[head], rest, value)
        return
    old = item.get(name)
    if isinstance(old, str) and type(old) is not str and isinstance(value, str):
        value = type(old)(value)  # a quoted string stays quoted the same way
    item[name] = value


def _adopt_csv(
    path: Path, places: dict[tuple[int, int], tuple[str, list[Edit]]]
) -> set[tuple[int, int]]:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    for row in reader:
        rows.append((reader.line_num, row))
    if not rows:
        return set()
    header = [h.strip() for h in rows[0][1]]
    found: set[tuple[int, int]] = set()
    # A row's origin is the line it ends on as the loader counts them: csv's line_num.
    for line, row in rows[1:]:
        place = (line, 1)
        if place not in places:
            continue
        for name, value in places[place][1]:
            if name in header:
                row[header.index(name)] = _cell(value)
        found.add(place)
    if found:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n" if "\r\n" in text else "\n")
        writer.writerows(row for _, row in rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
    return found


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
