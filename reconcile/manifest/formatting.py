"""Manifest files in canonical form (`reconcile fmt`), comments and meaning kept.

A round-trip YAML library (ruamel.yaml) keeps scalars as written (quotes, number
spellings) and end-of-line comments attached to their values. Full-line comments
are another matter: ruamel stores each one with the value *before* it, so sorting
would carry a comment away from the line it describes. They are therefore lifted
out first, tied to the node that follows them, and put back above that node once
the document is in order.

Canonical form: kind, provider, description, the scope, prune, prevent_destroy,
the other options in name order, items_from, items last; items sorted by key with
the key field first; two-space indentation, `- ` items indented under their key.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.tokens import CommentToken

from reconcile import kinds

_HEAD = ("kind", "provider", "description")
_AFTER_SCOPE = ("prune", "prevent_destroy")
_TAIL = ("items_from", "items")


class FormatError(ValueError):
    """A file that is not YAML fmt can rewrite (a syntax error: `validate` says more)."""


def round_trip() -> YAML:
    """The YAML reader and writer of fmt and drift --adopt: one layout for both."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never fold a long value onto two lines
    # YAML 1.1 scalars (yes/no booleans, 0123 octal) as the manifest loader reads them.
    y.version = None
    return y


def load_all(text: str) -> list[Any]:
    try:
        return list(round_trip().load_all(text))
    except YAMLError as exc:
        raise FormatError(str(exc).splitlines()[0] if str(exc) else "not YAML") from exc


def format_text(text: str) -> str:
    """`text` (one manifest file) in canonical form. Idempotent."""
    docs = load_all(text)
    out = []
    for doc in docs:
        if doc is None:
            continue
        out.append(_format_document(doc))
    return "---\n".join(out)


def dump_document(doc: Any) -> str:
    buf = io.StringIO()
    round_trip().dump(doc, buf)
    return buf.getvalue()


def _format_document(doc: Any) -> str:
    if not isinstance(doc, CommentedMap):
        return dump_document(doc)  # not a manifest: validate reports it; fmt leaves it
    before, header, trailing = _lift_comments(doc)
    spec = kinds.get(doc.get("kind")) if isinstance(doc.get("kind"), str) else None
    _order_document(doc, spec)
    text = dump_document(doc)
    return _put_back(doc, text, before, header, trailing)


# -- comments ---------------------------------------------------------------------------


Node = tuple[Any, Any]  # (container, key or index): a map key or a sequence item


def _nodes(container: Any) -> Iterator[tuple[Node, int, int]]:
    """Every block map key and sequence item below `container`, in document order,
    with its source line and column (flow collections are one node: no comment fits inside)."""
    if isinstance(container, CommentedMap):
        for k in container:
            line, col = container.lc.key(k)
            yield (container, k), line, col
            v = container[k]
            if isinstance(v, CommentedMap | CommentedSeq) and not v.fa.flow_style():
                yield from _nodes(v)
    elif isinstance(container, CommentedSeq):
        for i, v in enumerate(container):
            line, col = container.lc.item(i)
            yield (container, i), line, max(col - 2, 0)  # the dash, two columns left of the value
            if isinstance(v, CommentedMap | CommentedSeq) and not v.fa.flow_style():
                yield from _nodes(v)


def _containers(root: Any) -> Iterator[Any]:
    yield root
    values = root.values() if isinstance(root, CommentedMap) else root
    for v in values:
        if isinstance(v, CommentedMap | CommentedSeq):
            yield from _containers(v)


def _split(token: CommentToken, eol: bool) -> tuple[str | None, list[str]]:
    """(the end-of-line comment kept in place, the full-line comments and blank lines after it)."""
    lines = token.value.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    keep = None
    if eol and lines and lines[0].lstrip().startswith("#"):
        keep = lines.pop(0)
    elif eol and lines and lines[0] == "":
        lines.pop(0)  # the line break ending the value's own line
    return keep, [ln.strip() for ln in lines]


def _lift_comments(doc: CommentedMap) -> tuple[dict[int, list[str]], list[str], list[str]]:
    """Take every full-line comment out of the tree; return them by the id of the node
    (container, key) they stand above, those above the first node (the document's
    header: it stays on top), and those after the last node."""
    nodes = list(_nodes(doc))
    lines_of = {(id(c), k): line for (c, k), line, _ in nodes}
    lifted: list[tuple[int, list[str]]] = []  # (the source line they follow, the lines)
    seen: set[int] = set()

    def take(token: Any, after_line: int, eol: bool) -> Any:
        if isinstance(token, list):
            kept = [take(t, after_line, False) for t in token]
            return [t for t in kept if t is not None] or None
        if not isinstance(token, CommentToken):
            return token
        keep, rest = _split(token, eol)
        if id(token) not in seen and any(rest):
            lifted.append((after_line, rest))
        seen.add(id(token))
        if keep is None:
            return None
        token.value = keep + "\n"
        return token

    for c in _containers(doc):
        start = -1
        if isinstance(c, CommentedMap) and c:
            start = c.lc.key(next(iter(c)))[0] - 1
        elif isinstance(c, CommentedSeq) and c:
            start = c.lc.item(0)[0] - 1
        if c.ca.comment:
            c.ca.comment = [take(c.ca.comment[0], start, True)] + [
                take(t, start, False) for t in c.ca.comment[1:]
            ]
        for k, slots in list(c.ca.items.items()):
            line = lines_of.get((id(c), k), start)
            eol_at = 2 if isinstance(c, CommentedMap) else 0
            c.ca.items[k] = [take(t, line, i == eol_at) for i, t in enumerate(slots)]

    before: dict[int, list[str]] = {}
    header: list[str] = []
    trailing: list[str] = []
    ordered = sorted(nodes, key=lambda n: n[1])
    for after_line, block in lifted:
        nxt = next((n for n in ordered if n[1] > after_line), None)
        if ordered and nxt is ordered[0]:
            header += block
        elif nxt is None:
            trailing += block
        else:
            (c, k), _, _ = nxt
            before.setdefault(_node_id(c, k), []).extend(block)
    return before, header, trailing


def _node_id(container: Any, key: Any) -> int:
    """A node's identity that survives reordering: its value object for sequence items
    (indexes move when items are sorted), the container and key for map keys."""
    if isinstance(container, CommentedSeq):
        return id(container[key])
    return hash((id(container), key))


def _put_back(
    doc: CommentedMap,
    text: str,
    before: dict[int, list[str]],
    header: list[str],
    trailing: list[str],
) -> str:
    if not before and not header and not trailing:
        return text
    # The dumped text has the same shape as `doc`: walk both side by side to learn
    # where each node landed.
    dumped = load_all(text)[0]
    where: dict[int, tuple[int, int]] = {}
    for ((c, k), _, _), (_, line, col) in zip(_nodes(doc), _nodes(dumped), strict=True):
        where[_node_id(c, k)] = (line, col)
    inserts: dict[int, list[str]] = {0: _indent(header, 0)} if header else {}
    for node, block in before.items():
        if node in where:
            line, col = where[node]
            inserts.setdefault(line, []).extend(_indent(block, col))
        else:
            trailing = trailing + block
    out: list[str] = []
    for i, ln in enumerate(text.splitlines()):
        out += inserts.get(i, [])
        out.append(ln)
    out += _indent(trailing, 0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def _indent(block: list[str], col: int) -> list[str]:
    return [(" " * col + ln) if ln else "" for ln in block]


# -- order ------------------------------------------------------------------------------


def _order_document(doc: CommentedMap, spec: kinds.KindSpec | None) -> None:
    scope = (spec.scope_field,) if spec and spec.scope_field else ()
    extra = (spec.scope_extra,) if spec and spec.scope_extra else ()
    first = [*_HEAD, *scope, *extra, *_AFTER_SCOPE]
    fixed = set(first) | set(_TAIL)
    order = [k for k in first if k in doc]
    order += sorted((k for k in doc if k not in fixed), key=str)
    order += [k for k in _TAIL if k in doc]
    for k in order:
        doc.move_to_end(k)
    items = doc.get("items")
    if spec is not None and isinstance(items, CommentedSeq):
        _sort_items(doc, items, spec)


def item_key(doc: Any, item: Any, spec: kinds.KindSpec) -> str | None:
    """The key of one item as the manifest loader reads it, or None."""
    if spec.plain_items and isinstance(item, str | int) and not isinstance(item, bool):
        return str(item)
    if not isinstance(item, dict):
        return None
    path = spec.key_path(doc) if spec.key_path else (spec.key_field,)
    value: Any = item
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if value is None and spec.key_default:
        value = item.get(spec.key_default)
    return None if value is None else str(value)


def _sort_items(doc: CommentedMap, items: CommentedSeq, spec: kinds.KindSpec) -> None:
    keyed = [(item_key(doc, item, spec), n, item) for n, item in enumerate(items)]
    # Items without a key (invalid: validate says so) keep their order at the end.
    keyed.sort(key=lambda t: (t[0] is None, t[0] or "", t[1]))
    eol = {id(items[i]): items.ca.items.get(i) for i in range(len(items))}
    values = [item for _, _, item in keyed]
    items.ca.items.clear()
    for i, v in enumerate(values):
        items[i] = v
        if eol.get(id(v)) is not None:
            items.ca.items[i] = eol[id(v)]
    key_field = spec.key_field
    for item in values:
        if isinstance(item, CommentedMap) and key_field in item:
            for k in [key_field, *(k for k in item if k != key_field)]:
                item.move_to_end(k)
