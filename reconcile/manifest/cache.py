"""A cache of checked manifests: what each manifest file loaded to, so that a run over
unchanged files skips parsing and checking them.

An entry is keyed by a digest of the file's bytes, its path, the settings the checks
read (provider types and non-secret settings, policy, limits, time zone) and the code
that checked it (reconcile's version and the size and modification time of each of its
modules): any change to one of them is a miss, never a stale hit. Files its documents
take items from (`items_from`) are re-read and compared by digest on every hit. Only
files that loaded without a problem and hold no item lifetimes (`valid_from`, `expires`:
what they declare depends on the hour) are kept.

Entries are JSON, never pickle: the cache sits inside a checkout, and a file someone
commits there must not be able to run code. An entry's first line is a digest of the
rest: items keep their fields as JSON text decoded only when used, so a damaged entry
must be refused when read, not half way through a plan. The folder (`cache/` beside the SQLite
state; none with PostgreSQL state) is safe to delete at any time; a cache that cannot
be written (a read-only checkout) is simply not kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import msgspec

import reconcile
from reconcile.config import SECRET_SETTINGS, Project
from reconcile.model import Collection, Desired, Prune, decode_fields

FORMAT = 2  # raise when the entry layout changes (2: items' fields as compact JSON text)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


@cache
def code_fingerprint() -> str:
    """reconcile's version and every module's size and modification time: a checkout whose
    code changed (an upgrade, or a developer's edit) trusts no entry written before."""
    package = Path(reconcile.__file__).parent
    h = hashlib.blake2b(f"{FORMAT} {reconcile.__version__}".encode(), digest_size=20)
    for p in sorted(package.rglob("*")):
        if p.suffix in (".py", ".json") and "sandbox" not in p.parts:
            st = p.stat()
            h.update(f"{p.relative_to(package)} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def context_digest(project: Project) -> str:
    """What the checks read besides the file: credentials left out (they check nothing, and
    not even a digest of them belongs on disk)."""
    providers = {
        name: [pc.type, {k: v for k, v in pc.settings.items() if k not in SECRET_SETTINGS}]
        for name, pc in sorted(project.providers.items())
    }
    context = [code_fingerprint(), providers, repr(project.policy), repr(project.limits),
               project.timezone]  # fmt: skip
    return digest(json.dumps(context, sort_keys=True, default=str).encode())


class ManifestCache:
    def __init__(self, project: Project) -> None:
        self.project = project
        # Beside a SQLite state only: a project on PostgreSQL state writes nothing into the
        # checkout (its CI runners start from clean checkouts, where a cache would not live on).
        state_path = project.state.path if project.state.backend == "sqlite" else None
        self.folder = state_path.parent / "cache" if state_path is not None else None
        self.context = context_digest(project) if self.folder is not None else ""

    def _files(self, rel: str, data: bytes) -> tuple[str, Path]:
        assert self.folder is not None
        prefix = digest(rel.encode())[:16]
        key = digest(b"\0".join([self.context.encode(), rel.encode(), data]))
        return prefix, self.folder / f"{prefix}-{key}.json"

    def get(self, path: Path, rel: str, data: bytes) -> list[Collection] | None:
        """The collections `path` (whose bytes are `data`) loaded to, when nothing they came
        from changed since; None on any doubt."""
        if self.folder is None:
            return None
        _, entry = self._files(rel, data)
        try:
            check, _, blob = entry.read_bytes().partition(b"\n")
            if check.decode() != digest(blob):
                return None  # damaged: items' texts are decoded later, so nothing may be off
            doc = msgspec.json.decode(blob)
            if doc.get("format") != FORMAT or doc.get("file") != rel:
                return None
            for ref, shown, want in doc["sources"]:
                if not self._source_unchanged(path, ref, shown, want):
                    return None
            return [_collection(c) for c in doc["collections"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError, msgspec.MsgspecError):
            return None  # no entry, or one that is not ours: load the file

    def _source_unchanged(self, path: Path, ref: str, shown: str, want: str) -> bool:
        target = (path.parent / ref).resolve()
        if not target.is_relative_to(self.project.root.resolve()):
            return False
        if self.project.rel(target) != shown:
            return False
        if target.stat().st_size > self.project.limits.max_file_bytes:
            return False
        return digest(target.read_bytes()) == want

    def put(
        self,
        rel: str,
        data: bytes,
        collections: list[Collection],
        sources: Iterable[tuple[str, str, str]],
    ) -> None:
        """Keep what `rel` loaded to (replacing the entry of its earlier content)."""
        if self.folder is None:
            return
        doc = {
            "format": FORMAT,
            "file": rel,
            "sources": [list(s) for s in sources],
            "collections": [_plain(c) for c in collections],
        }
        try:
            blob = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
            if json.loads(blob) != doc or not all(
                decode_fields(d.text) == d.fields for c in collections for d in c.items
            ):
                return  # JSON would not give it back as it was (a number key, NaN): not kept
        except (TypeError, ValueError, msgspec.MsgspecError):
            return
        prefix, entry = self._files(rel, data)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(digest(blob).encode() + b"\n" + blob)
            os.replace(tmp, entry)
            for old in self.folder.glob(f"{prefix}-*.json"):
                if old != entry:
                    with contextlib.suppress(OSError):
                        old.unlink()
        except OSError:
            return  # a read-only checkout: no cache, same results


def _plain(c: Collection) -> dict[str, Any]:
    return {
        "provider": c.provider, "kind": c.kind, "scope": c.scope, "scope_ref": c.scope_ref,
        "prune": str(c.prune), "prevent_destroy": c.prevent_destroy, "origin": c.origin,
        "options": c.options, "scope_origin": c.scope_origin, "sources": list(c.sources),
        "upcoming": [list(u) for u in c.upcoming],
        "keys": [d.key for d in c.items], "texts": [d.text for d in c.items],
        "origins": [d.origin for d in c.items],
    }  # fmt: skip


def _collection(d: dict[str, Any]) -> Collection:
    # Items keep their fields as compact JSON text (see `Desired`): decoded when used.
    keys, texts, origins = d["keys"], d["texts"], d["origins"]
    if not len(keys) == len(texts) == len(origins) or not all(map(_is_object_text, texts)):
        raise ValueError("a damaged entry")
    return Collection(
        provider=d["provider"], kind=d["kind"], scope=d["scope"], scope_ref=d["scope_ref"],
        prune=Prune(d["prune"]), prevent_destroy=bool(d["prevent_destroy"]),
        items=tuple(map(Desired, map(sys.intern, keys), texts, origins)), origin=d["origin"],
        options=d["options"], scope_origin=d["scope_origin"], sources=tuple(d["sources"]),
        upcoming=tuple((a, b, c) for a, b, c in d["upcoming"]),
    )  # fmt: skip


def _is_object_text(text: object) -> bool:
    return type(text) is str and text[:1] == "{" and text[-1:] == "}"
