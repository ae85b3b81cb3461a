"""Conversions shared by every service: dates, timestamps, enums, write summaries, and
building records with the request's field path in errors."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from serving.store.upsert import WriteCounts
from turnwise.errors import InvalidArgument
from turnwise.v1 import common_pb2

__all__ = [
    "build_each",
    "check_idempotency_key",
    "date_from_pb",
    "date_to_pb",
    "enum_from_pb",
    "summary_to_pb",
    "timestamp_from_pb",
    "timestamp_to_pb",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


def build_each(collection: str, items: Sequence[Any], make: Callable[[Any], T]) -> list[T]:
    """``make`` each message; an InvalidArgument gets the path ``collection[i].field``."""
    out: list[T] = []
    for i, item in enumerate(items):
        try:
            out.append(make(item))
        except InvalidArgument as err:
            field = f"{collection}[{i}].{err.field}" if err.field else f"{collection}[{i}]"
            raise InvalidArgument(field, err.hint) from None
    return out


def date_from_pb(field: str, value: common_pb2.Date) -> date:
    if value.year == 0 and value.month == 0 and value.day == 0:
        raise InvalidArgument(field, "is required (a date: year, month, day)")
    try:
        return date(value.year, value.month, value.day)
    except ValueError as err:
        raise InvalidArgument(
            field, f"{value.year:04d}-{value.month:02d}-{value.day:02d} is not a date ({err})"
        ) from None


def date_to_pb(value: date | None) -> common_pb2.Date:
    if value is None:
        return common_pb2.Date()
    return common_pb2.Date(year=value.year, month=value.month, day=value.day)


def timestamp_from_pb(field: str, value: Timestamp, has: bool) -> datetime:
    if not has:
        raise InvalidArgument(field, "is required (a google.protobuf.Timestamp)")
    return value.ToDatetime(tzinfo=UTC)


def timestamp_to_pb(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(UTC))
    return ts


def enum_from_pb(field: str, number: int, pb_enum: Any, domain: type[E], prefix: str) -> E:
    """Map a protobuf enum value (e.g. STORE_TYPE_4S) to the domain enum member whose
    value is the name without ``prefix`` ("4S"). UNSPECIFIED is an error."""
    name = pb_enum.Name(number) if number in pb_enum.values() else ""
    choices = ", ".join(m.value for m in domain)
    if not name or name.endswith("_UNSPECIFIED"):
        raise InvalidArgument(field, f"is required: one of {choices}")
    try:
        return domain(name.removeprefix(prefix))
    except ValueError:
        raise InvalidArgument(field, f"{name} is not supported; use one of {choices}") from None


def summary_to_pb(counts: WriteCounts, replayed: bool = False) -> common_pb2.WriteSummary:
    return common_pb2.WriteSummary(
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        replayed=replayed,
    )


def check_idempotency_key(key: str) -> None:
    if len(key) > 200:
        raise InvalidArgument("idempotency_key", f"is {len(key)} characters; at most 200 allowed")


def check_not_empty(field: str, items: Iterable[Any]) -> None:
    if not any(True for _ in items):
        raise InvalidArgument(field, "is empty; send at least one record")
