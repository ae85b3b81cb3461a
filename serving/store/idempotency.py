"""Idempotency keys: a write request repeated with the same key gets the first response.

Both functions run inside the write's own transaction, so the stored response and the
write commit or roll back together.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select

from serving.store import tables as t
from turnwise.errors import AlreadyExists

__all__ = ["find_response", "remember_response"]


def find_response(conn: Connection, key: str, method: str, request_sha256: str) -> bytes | None:
    """The stored response for ``key``, or None. A key reused for another method or a
    different request body raises AlreadyExists."""
    row = conn.execute(
        select(
            t.idempotency_keys.c.method,
            t.idempotency_keys.c.request_sha256,
            t.idempotency_keys.c.response,
        ).where(t.idempotency_keys.c.key == key)
    ).first()
    if row is None:
        return None
    if row.method != method or row.request_sha256 != request_sha256:
        raise AlreadyExists(
            "idempotency_key",
            f"{key!r} was already used for a different request ({row.method}); "
            "use a new key for a new request",
        )
    return bytes(row.response)


def remember_response(
    conn: Connection, key: str, method: str, request_sha256: str, response: bytes
) -> None:
    conn.execute(
        insert(t.idempotency_keys),
        [
            {
                "key": key,
                "method": method,
                "request_sha256": request_sha256,
                "response": response,
                "created_at": datetime.now(UTC),
            }
        ],
    )
