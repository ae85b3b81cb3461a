"""Generic upsert by primary key, counting what was inserted, updated or unchanged.

Works the same on SQLite and PostgreSQL: existing rows are read by key in chunks, then
new rows are inserted and changed rows updated with executemany, all inside the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, insert, select, tuple_, update

__all__ = ["WriteCounts", "chunked", "upsert_rows"]

_CHUNK = 500
_BULK = 2000


@dataclass(frozen=True)
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: WriteCounts) -> WriteCounts:
        return WriteCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def chunked(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _key_filter(table: Table, keys: Iterable[tuple[Any, ...]]) -> Any:
    cols = list(table.primary_key.columns)
    keys = list(keys)
    if len(cols) == 1:
        return cols[0].in_([k[0] for k in keys])
    return tuple_(*cols).in_(keys)


def existing_rows(
    conn: Connection, table: Table, keys: Sequence[tuple[Any, ...]]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Stored rows of ``table`` whose primary key is in ``keys``, by key tuple.

    Small batches look keys up directly; large batches of a composite key (a bulk sales
    load) read by the key's leading column and filter here, which is far cheaper than
    thousands of row-value IN lookups.
    """
    names = [c.name for c in table.primary_key.columns]
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    if conn.execute(select(table).limit(1)).first() is None:
        return found  # empty table: a bulk load, nothing to look up
    if len(names) > 1 and len(keys) > _BULK:
        wanted = set(keys)
        lead = table.c[names[0]]
        for chunk in chunked(sorted({k[0] for k in keys})):
            for row in conn.execute(select(table).where(lead.in_(chunk))).mappings():
                key = tuple(row[n] for n in names)
                if key in wanted:
                    found[key] = dict(row)
        return found
    size = _CHUNK if len(names) == 1 else 200
    for chunk in chunked(keys, size):
        for row in conn.execute(select(table).where(_key_filter(table, chunk))).mappings():
            found[tuple(row[n] for n in names)] = dict(row)
    return found


def upsert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> WriteCounts:
    """Insert or update ``rows`` (full rows, one per key; later duplicates win)."""
    names = [c.name for c in table.primary_key.columns]
    by_key = {tuple(r[n] for n in names): r for r in rows}
    stored = existing_rows(conn, table, list(by_key))
    inserts = [r for k, r in by_key.items() if k not in stored]
    changed = [r for k, r in by_key.items() if k in stored and _differs(stored[k], r)]
    if inserts:
        conn.execute(insert(table), inserts)
    if changed:
        stmt = (
            update(table)
            .where(and_(*(table.c[n] == bindparam(f"key_{n}") for n in names)))
            .values({c: bindparam(f"val_{c}") for c in changed[0] if c not in names})
        )
        params = [
            {**{f"key_{n}": r[n] for n in names}, **{f"val_{c}": v for c, v in r.items()}}
            for r in changed
        ]
        conn.execute(stmt, params)
    return WriteCounts(len(inserts), len(changed), len(by_key) - len(inserts) - len(changed))


def _differs(stored: dict[str, Any], new: dict[str, Any]) -> bool:
    return any(stored.get(col) != value for col, value in new.items())
