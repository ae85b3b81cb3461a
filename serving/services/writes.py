"""Idempotent, all-or-nothing writes shared by every write RPC."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf.message import Message
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from serving.convert.common import check_idempotency_key
from serving.store.db import Database
from serving.store.idempotency import find_response, remember_response

__all__ = ["idempotent_write"]

M = TypeVar("M", bound=Message)


def _write_once(
    db: Database,
    method: str,
    key: str,
    digest: str,
    response_type: type[M],
    write: Callable[[Connection], M],
) -> M:
    with db.write() as conn:
        if key:
            stored = find_response(conn, key, method, digest)
            if stored is not None:
                replay = response_type.FromString(stored)
                if replay.DESCRIPTOR.fields_by_name.get("summary") is not None:
                    replay.summary.replayed = True  # type: ignore[attr-defined]
                return replay
        response = write(conn)
        if key:
            remember_response(conn, key, method, digest, response.SerializeToString())
        return response


async def idempotent_write(
    db: Database,
    method: str,
    key: str,
    request: Message | bytes,
    response_type: type[M],
    write: Callable[[Connection], M],
) -> M:
    """Run ``write`` in one transaction on the database's threads. With an idempotency key, a
    repeat of the same request returns the stored response; a concurrent twin that lost
    the race on the key is answered from the winner's stored response."""
    check_idempotency_key(key)
    body = request if isinstance(request, bytes) else request.SerializeToString(deterministic=True)
    digest = hashlib.sha256(body).hexdigest()
    args: tuple[Any, ...] = (db, method, key, digest, response_type, write)
    try:
        return await db.run(_write_once, *args)
    except IntegrityError:
        if not key:
            raise
        return await db.run(_write_once, *args)
