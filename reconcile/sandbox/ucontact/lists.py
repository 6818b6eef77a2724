"""The lists behind the uploads: rows parsed at processing time, kept in SQL tables FormGet reads.

An upload is accepted whole and parsed later; a row that does not parse is
dropped then, with its reason kept for the admin view only (the vendor tells
the client nothing). The tables live in an in-memory SQLite database under
their logical names, renamed to whatever the settings call them.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from reconcile.sandbox.ucontact.settings import DSNS, UcontactSettings

CHANNELS = ("phone", "email", "customer_id")
SCHEMAS = {
    "blacklist": "value TEXT, channel TEXT, campaign TEXT, filename TEXT",
    "sms_base": "campaign TEXT, phone TEXT, message TEXT, priority INTEGER, filename TEXT",
    "email_base": (
        "dialer TEXT, campaign TEXT, email TEXT, body TEXT, subject TEXT, variables TEXT, "
        "priority INTEGER, filename TEXT"
    ),
    "sms_scheduler": "calldate TEXT, campaign TEXT, phone TEXT, data TEXT",
}
# SQLite authorizer actions a read-only single SELECT needs.
_READ_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}
_MAX_CALLS = 20_000  # progress-handler calls (1,000 VM steps each) before a query is cut off

Row = dict[str, Any]


class Refused(Exception):
    """A FormGet query the gateway will not run."""


@dataclass
class Upload:
    """An accepted upload waiting for processing."""

    kind: str  # blacklist | blacklist_removal | sms_base | email_base
    filename: str
    text: str  # the decoded CSV
    due: float  # monotonic time of processing
    form: dict[str, str]
    settings: UcontactSettings  # as they were when the upload was accepted
    rejected: list[Row] = field(default_factory=list)

    def lines(self) -> list[tuple[int, str]]:
        numbered = ((n, line.rstrip("\r")) for n, line in enumerate(self.text.split("\n"), 1))
        return [(n, line) for n, line in numbered if line.strip()]

    def reject(self, line_no: int, line: str, reason: str) -> None:
        self.rejected.append(
            {"kind": self.kind, "filename": self.filename, "line": line_no, "text": line,
             "reason": reason}
        )  # fmt: skip


def _priority(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.lstrip("-").isdigit() else None


def parse_sms(up: Upload) -> list[Row]:
    """`campaign;number;text;priority`, one per line."""
    rows = []
    for n, line in up.lines():
        f = line.split(";")
        if len(f) != 4:
            up.reject(n, line, f"{len(f)} fields, not 4")
            continue
        campaign = (
            up.form.get("campaign", "") if up.settings.sms_campaign_source == "form" else f[0]
        )
        priority = _priority(f[3])
        if not campaign or not f[1].strip() or priority is None:
            up.reject(n, line, "empty campaign or number, or a priority that is not a number")
            continue
        rows.append({"campaign": campaign, "phone": f[1].strip(), "message": f[2],
                     "priority": priority, "filename": up.filename})  # fmt: skip
    return rows


def parse_email(up: Upload) -> list[Row]:
    """`Campaign;email;body;<subject>;"Var1":"value","Var2":"value";priority`, one per line."""
    lines = up.lines()
    if up.settings.email_count_mismatch == "truncate":
        lines = lines[: int(up.form.get("cant", "0"))]
    rows = []
    for n, line in lines:
        f = line.split(";")
        if len(f) != 6:
            up.reject(n, line, f"{len(f)} fields, not 6")
            continue
        try:
            variables = json.loads("{" + f[4] + "}") if f[4].strip() else {}
        except ValueError:
            up.reject(n, line, 'variables are not comma-joined "name":"value" pairs')
            continue
        priority = _priority(f[5])
        if "@" not in f[1] or priority is None:
            up.reject(n, line, "no e-mail address, or a priority that is not a number")
            continue
        rows.append({"dialer": up.form.get("dialer", ""), "campaign": f[0], "email": f[1].strip(),
                     "body": f[2], "subject": f[3], "priority": priority,
                     "variables": json.dumps(variables, ensure_ascii=False),
                     "filename": up.filename})  # fmt: skip
    return rows


def parse_blacklist(up: Upload) -> list[Row]:
    """One entry per line in the layout of `blacklist_columns`; the form's `channel` and
    `campaign` fill in for a layout without those columns; an empty campaign is all campaigns."""
    cols = up.settings.blacklist_columns
    rows = []
    for n, line in up.lines():
        f = line.split(";")
        if len(f) != len(cols):
            up.reject(n, line, f"{len(f)} fields, not {len(cols)}")
            continue
        got = dict(zip(cols, (x.strip() for x in f), strict=True))
        row = {"value": got["value"], "channel": got.get("channel", up.form.get("channel", "")),
               "campaign": got.get("campaign", up.form.get("campaign", "")),
               "filename": up.filename}  # fmt: skip
        if not row["value"] or row["channel"] not in CHANNELS:
            up.reject(n, line, f"empty value, or a channel not in {', '.join(CHANNELS)}")
            continue
        rows.append(row)
    return rows


class Lists:
    """The processed rows, as SQL tables; one database per DSN, the lists in `lists_dsn`'s."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.others = {d: sqlite3.connect(":memory:", check_same_thread=False) for d in DSNS}
        self.names = {t: t for t in SCHEMAS}  # logical name -> current table name
        for table, cols in SCHEMAS.items():
            self.db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {cols})")

    def close(self) -> None:
        for conn in (self.db, *self.others.values()):
            conn.close()

    def follow(self, s: UcontactSettings) -> None:
        """Rename the tables to the names the settings give (through temporary names: swaps)."""
        want = {"blacklist": s.blacklist_table, "sms_base": s.sms_base_table,
                "email_base": s.email_base_table, "sms_scheduler": "sms_scheduler"}  # fmt: skip
        if want == self.names:
            return
        for logical, current in self.names.items():
            self.db.execute(f'ALTER TABLE "{current}" RENAME TO "_t_{logical}"')
        for logical, name in want.items():
            self.db.execute(f'ALTER TABLE "_t_{logical}" RENAME TO "{name}"')
        self.names = want

    def insert(self, logical: str, rows: list[Row]) -> None:
        if not rows:
            return
        cols = list(rows[0])
        self.db.executemany(
            f'INSERT INTO "{self.names[logical]}" ({", ".join(cols)}) '
            f"VALUES ({', '.join('?' for _ in cols)})",
            [tuple(r[c] for c in cols) for r in rows],
        )

    def rows(self, logical: str) -> list[Row]:
        cur = self.db.execute(f'SELECT * FROM "{self.names[logical]}" ORDER BY id')
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def contains(self, entry: Row) -> bool:
        cur = self.db.execute(
            f'SELECT 1 FROM "{self.names["blacklist"]}" WHERE value = ? AND channel = ? '
            "AND campaign = ?",
            (entry["value"], entry["channel"], entry["campaign"]),
        )
        return cur.fetchone() is not None

    def remove_blacklisted(self, entry: Row) -> int:
        """Delete the entries matching `entry`'s value and whichever of channel, campaign it gives."""
        where, args = ["value = ?"], [entry["value"]]
        for key in ("channel", "campaign"):
            if entry.get(key) is not None:
                where.append(f"{key} = ?")
                args.append(entry[key])
        cur = self.db.execute(
            f'DELETE FROM "{self.names["blacklist"]}" WHERE {" AND ".join(where)}', args
        )
        return cur.rowcount

    def query(self, sql: str, dsn: str, s: UcontactSettings) -> list[Row]:
        """Run one read-only SELECT on `dsn`'s database: anything else is refused."""
        if dsn not in DSNS:
            raise Refused(f"unknown dsn {dsn!r}")
        conn = self.db if dsn == s.lists_dsn else self.others[dsn]
        conn.set_authorizer(
            lambda action, *_: sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY
        )
        steps = [0]

        def runaway() -> int:
            steps[0] += 1
            return int(steps[0] > _MAX_CALLS)

        conn.set_progress_handler(runaway, 1000)
        try:
            cur = conn.execute(sql)
            if cur.description is None:
                raise Refused("not a SELECT statement")
            names = [d[0] for d in cur.description]
            found = cur.fetchall()
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise Refused(str(exc)) from exc
        finally:
            conn.set_authorizer(None)
            conn.set_progress_handler(None, 0)
        if s.formget_values == "strings":
            found = [tuple(None if v is None else str(v) for v in r) for r in found]
        return [dict(zip(names, r, strict=True)) for r in found]
