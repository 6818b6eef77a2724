"""A YAML loader that remembers where every mapping and value was written.

Mappings load as `LocatedDict`, which knows its own file:line:column and that
of each value, so every later check can point at the exact spot. Duplicate
keys and runaway alias expansion ("billion laughs") are reported instead of
being silently accepted.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from reconcile import collector
from reconcile.errors import Problem

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# An alias expands to a copy of its anchor wherever it is used; past this many
# expanded nodes a document is refused rather than walked.
MAX_EXPANDED_NODES = 5_000_000
MAX_DEPTH = 64  # manifests nest a few levels; thousands are an attack or a broken generator


def _pack(line: int, col: int) -> int:
    return (line << 20) | min(col, 0xFFFFF)


def _unpack(packed: int) -> tuple[int, int]:
    return packed >> 20, packed & 0xFFFFF


class LocatedDict(dict[str, Any]):
    """A dict with the source position of itself and of each of its values.

    Value positions are packed into one array aligned with the key order,
    about a sixth of the memory of a dict of tuples: a 100,000-item manifest
    keeps a position for every field.
    """

    __slots__ = ("file", "line", "col", "marks")

    file: str
    line: int
    col: int
    marks: array[int]

    @classmethod
    def at(cls, file: str, line: int, col: int) -> LocatedDict:
        d = cls()
        d.file, d.line, d.col, d.marks = file, line, col, array("q")
        return d

    def put(self, key: str, value: Any, line: int, col: int) -> None:
        """Set `key`, remembering where its value was written (the last write wins)."""
        if key in self:
            self.marks[list(self).index(key)] = _pack(line, col)
        else:
            self.marks.append(_pack(line, col))
        self[key] = value

    def mark(self, key: str) -> tuple[int, int] | None:
        if key not in self:
            return None
        i = list(self).index(key)
        return _unpack(self.marks[i]) if i < len(self.marks) else None

    def subset(self, keys: Iterable[str]) -> LocatedDict:
        out = LocatedDict.at(self.file, self.line, self.col)
        for k in keys:
            m = self.mark(k) or (self.line, self.col)
            out.put(k, self[k], *m)
        return out

    def where(self, key: str | None = None) -> str:
        m = self.mark(key) if key is not None else None
        line, col = m if m is not None else (self.line, self.col)
        return f"{self.file}:{line}:{col}"


class LocatedList(list[Any]):
    __slots__ = ("file", "line", "col", "marks")

    file: str
    line: int
    col: int
    marks: array[int]

    @classmethod
    def at(cls, file: str, line: int, col: int) -> LocatedList:
        lst = cls()
        lst.file, lst.line, lst.col, lst.marks = file, line, col, array("q")
        return lst

    def add(self, value: Any, line: int, col: int) -> None:
        self.append(value)
        self.marks.append(_pack(line, col))

    def where(self, index: int | None = None) -> str:
        if index is not None and 0 <= index < len(self.marks):
            line, col = _unpack(self.marks[index])
            return f"{self.file}:{line}:{col}"
        return f"{self.file}:{self.line}:{self.col}"


def where_of(value: Any, path: tuple[Any, ...] | list[Any], fallback: str) -> str:
    """file:line:col of the deepest located container along `path`."""
    best = value.where() if isinstance(value, LocatedDict | LocatedList) else fallback
    node = value
    for part in path:
        if isinstance(node, LocatedDict) and isinstance(part, str) and part in node:
            best = node.where(part)
            node = node[part]
        elif isinstance(node, LocatedList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.where(part)
            node = node[part]
        else:
            break
        if isinstance(node, LocatedDict | LocatedList):
            best = node.where()
    return best


_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_BOOLS = {
    "yes": True, "Yes": True, "YES": True, "true": True, "True": True, "TRUE": True,
    "on": True, "On": True, "ON": True, "no": False, "No": False, "NO": False,
    "false": False, "False": False, "FALSE": False, "off": False, "Off": False, "OFF": False,
}  # fmt: skip
_constructor = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"


def _resolve_plain(value: str) -> str:
    """The implicit tag PyYAML's SafeLoader would give a plain scalar."""
    for tag, regexp in _RESOLVERS.get(value[:1] if value else "", ()):
        if regexp.match(value):
            return str(tag)
    return _STR


class _UnsupportedTag(Exception):
    pass


class _AliasBomb(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


def _scalar(tag: str, value: str) -> Any:
    if tag == _STR or tag.endswith(":timestamp"):
        return value  # timestamps stay strings: vendors want them back as written
    if tag.endswith(":null"):
        return None
    if tag.endswith(":merge"):
        return value
    if tag.endswith(":bool"):
        return _BOOLS.get(value, bool(value))
    node = yaml.ScalarNode(tag, value)
    if tag.endswith(":int"):
        return _constructor.construct_yaml_int(node)
    if tag.endswith(":float"):
        return _constructor.construct_yaml_float(node)
    raise _UnsupportedTag(tag)


class _Builder:
    """Builds located values straight from the C parser's events.

    Going from events, not from a composed node graph, keeps a 100,000-item
    manifest at a few seconds and a fraction of the memory of `yaml.load`.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[Problem] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.expanded = 0
        self.depth = 0

    def where(self, mark: Any) -> str:
        return f"{self.name}:{mark.line + 1}:{mark.column + 1}"

    def node(self, ev: Any, events: Iterator[Any]) -> tuple[Any, int]:
        """Build the value that starts with `ev`; return it with its expanded size."""
        if type(ev) is yaml.ScalarEvent:
            value: Any = ev.value
            if ev.tag and ev.tag != "!":
                tag = (
                    ev.tag
                    if ev.tag.startswith("tag:")
                    else ev.tag.replace("!!", "tag:yaml.org,2002:", 1)
                )
            elif not ev.style and ev.implicit[0]:
                tag = _resolve_plain(value)
            else:
                tag = _STR
            if tag != _STR:
                try:
                    value = _scalar(tag, value)
                except _UnsupportedTag:
                    self.problems.append(
                        Problem(self.where(ev.start_mark), f"unsupported YAML tag {ev.tag or tag}")
                    )
                except (ValueError, yaml.YAMLError):
                    kind = tag.rsplit(":", 1)[-1]
                    self.problems.append(
                        Problem(self.where(ev.start_mark), f"{value!r} is not a valid {kind}")
                    )
            if ev.anchor:
                self.anchors[ev.anchor] = (value, 1)
            return value, 1
        if type(ev) is yaml.MappingStartEvent or type(ev) is yaml.SequenceStartEvent:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _TooDeep(ev.start_mark)
            try:
                if type(ev) is yaml.MappingStartEvent:
                    return self.mapping(ev, events)
                return self.sequence(ev, events)
            finally:
                self.depth -= 1
        if type(ev) is yaml.AliasEvent:
            if ev.anchor not in self.anchors:
                mark: Any = ev.start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {ev.anchor!r}", mark
                )
            value, size = self.anchors[ev.anchor]
            self.expanded += size
            if self.expanded > MAX_EXPANDED_NODES:
                raise _AliasBomb(ev.start_mark)
            return value, size
        raise yaml.composer.ComposerError(
            None, None, f"unexpected {type(ev).__name__}", ev.start_mark
        )

    def sequence(self, start: Any, events: Iterator[Any]) -> tuple[LocatedList, int]:
        out = LocatedList.at(self.name, start.start_mark.line + 1, start.start_mark.column + 1)
        append, marks = out.append, out.marks.append
        size = 1
        for ev in events:
            if type(ev) is yaml.SequenceEndEvent:
                break
            value, n = self.node(ev, events)
            append(value)
            mark = ev.start_mark
            marks(((mark.line + 1) << 20) | (mark.column + 1))
            size += n
        if start.anchor:
            self.anchors[start.anchor] = (out, size)
        return out, size

    def mapping(self, start: Any, events: Iterator[Any]) -> tuple[LocatedDict, int]:
        out = LocatedDict.at(self.name, start.start_mark.line + 1, start.start_mark.column + 1)
        marks = out.marks
        size = 1
        merges: list[Any] = []
        for kev in events:
            if type(kev) is yaml.MappingEndEvent:
                break
            key, _ = self.node(kev, events)
            vev = next(events)
            value, n = self.node(vev, events)
            size += n + 1
            if key == "<<" and type(kev) is yaml.ScalarEvent and not kev.style:
                merges.extend(value if isinstance(value, list) else [value])
                continue
            if type(key) is not str:
                key = str(key)
            mark = vev.start_mark
            if key in out:
                first = out.mark(key)
                self.problems.append(
                    Problem(
                        self.where(kev.start_mark),
                        f"duplicate key {key!r} (first written on line {first[0] if first else '?'}); YAML would silently keep only the last one",
                    )
                )
                out.put(key, value, mark.line + 1, mark.column + 1)
                continue
            out[key] = value
            marks.append(((mark.line + 1) << 20) | (mark.column + 1))
        for merged in merges:  # `<<: *defaults`: keys written here win
            if not isinstance(merged, LocatedDict):
                self.problems.append(Problem(out.where(), "a merge key (<<) needs a mapping"))
                continue
            for k, v in merged.items():
                if k not in out:
                    out.put(k, v, *(merged.mark(k) or (merged.line, merged.col)))
        if start.anchor:
            self.anchors[start.anchor] = (out, size)
        return out, size


def load_documents(text: str, name: str) -> Iterator[tuple[Any, list[Problem]]]:
    """Yield each document of `text` with the problems found while loading it.

    A syntax error yields one `(None, [problem])` and stops.
    """
    builder = _Builder(name)
    events = iter(yaml.parse(text, Loader=_Base))
    # Building creates a million small containers and no cycles.
    with collector.paused():
        yield from _documents(builder, events, text, name)


def _documents(
    builder: _Builder, events: Iterator[Any], text: str, name: str
) -> Iterator[tuple[Any, list[Problem]]]:
    try:
        for ev in events:
            if type(ev) is yaml.DocumentStartEvent:
                builder.problems = []
                builder.anchors = {}
                builder.expanded = 0
                value, _ = builder.node(next(events), events)
                yield value, list(builder.problems)
    except (_TooDeep, RecursionError) as deep:
        mark = getattr(deep, "mark", None)
        where = builder.where(mark) if mark is not None else name
        yield (
            None,
            [
                Problem(
                    where,
                    f"values nest more than {MAX_DEPTH} levels deep; refusing to load this document",
                )
            ],
        )
    except _AliasBomb as bomb:
        yield (
            None,
            [
                Problem(
                    builder.where(bomb.mark),
                    f"aliases here expand to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?); refusing to load this document",
                )
            ],
        )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        lines = text.splitlines()
        if mark is not None and mark.line < len(lines) and "${" in lines[mark.line]:
            what += ' (a ${VAR} reference inside {...} or [...] must be quoted: "${VAR}")'
        yield None, [Problem(where, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        yield None, [Problem(name, f"YAML error: {exc}")]
