"""Customer One-ID: which earlier customer a new lead is, and who owns that customer now.

A customer who comes back through another channel writes the same mobile number another way
(``13812345678``, ``+86 138 1234 5678``, ``+86-138-1234-5678``, ``0086 13812345678``,
``(+86) 138.1234.5678``) or leaves the same WeChat id. Routing sends such a lead to the
customer's current advisor when that advisor is eligible (sticky ownership, see
``lead_routing.routing``); this module finds the customer.

``normalise_phone`` brings a number to one form: Unicode NFKC first (full-width digits, the
full-width plus and brackets become ASCII), then every character but the digits is dropped
(spaces, dashes, dots, parentheses, a ``+``), then a leading country code ``86`` or ``0086`` is
dropped when what follows is an 11-digit China mobile number (``1`` and ten more digits).
Any other number (a landline, a foreign number) stays digits-only as written, so
``+86 10 6552 9988`` and ``010 6552 9988`` remain two keys: landlines are shared by a whole
household or office, which makes them a weak identity anyway. A text without digits
normalises to ``""``, which matches nothing. ``normalise_wechat`` strips surrounding
whitespace and case-folds, so a hand-typed ``WXID_Ab12`` matches ``wxid_ab12``.

``CustomerIndex.from_leads(leads)`` groups the rows of a ``leads`` table into customers:
two leads are one customer when they share a normalised phone number or a normalised
WeChat id, transitively (a union-find over both keys, so a lead with phone P and WeChat W
joins the customer of P with the customer of W). A customer's key is the ``lead_id`` of
its earliest lead; its current advisor is the ``advisor_id`` of its latest lead that has
one (ties in time: the later row). ``match(phone, wechat_id)`` looks a new lead up,
phone first: when the phone and the WeChat id point at two different customers, the phone
wins, because lead forms usually verify a mobile number by SMS code while a WeChat id is
typed in by hand. The index is an immutable snapshot; the serving layer keeps ownership in
its tables and rebuilds or queries them.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from turnwise.errors import InvalidArgument

__all__ = [
    "CustomerIndex",
    "CustomerMatch",
    "MatchKind",
    "normalise_phone",
    "normalise_wechat",
]

_NON_DIGIT = re.compile(r"[^0-9]")
_CHINA_MOBILE = re.compile(r"^(?:0086|86)?(1[0-9]{10})$")
_LEAD_COLUMNS = ("lead_id", "created_at", "phone", "wechat_id", "advisor_id")


def normalise_phone(text: str | None) -> str:
    """``text`` as one canonical string of digits: a China mobile number as its 11 digits
    (without ``+86`` / ``0086`` / ``86``), any other number digits-only; ``""`` when
    ``text`` is empty or holds no digit."""
    if not text:
        return ""
    digits = _NON_DIGIT.sub("", unicodedata.normalize("NFKC", text))
    mobile = _CHINA_MOBILE.match(digits)
    return mobile.group(1) if mobile else digits


def normalise_wechat(text: str | None) -> str:
    """A WeChat id without surrounding whitespace, case-folded; ``""`` for none."""
    return text.strip().casefold() if text else ""


class MatchKind(enum.Enum):
    """Which contact of a new lead matched an existing customer."""

    PHONE = "phone"
    WECHAT = "WeChat"


@dataclass(frozen=True)
class CustomerMatch:
    """An existing customer a new lead belongs to. ``advisor_id`` is the customer's
    current advisor, empty when none of its leads was ever assigned."""

    customer_key: str
    matched_by: MatchKind
    advisor_id: str


@dataclass(frozen=True, eq=False)
class CustomerIndex:
    """Normalised phone and WeChat id -> customer key -> current advisor (see the module
    docstring). Build with ``from_leads``."""

    customer_of_phone: Mapping[str, str]
    customer_of_wechat: Mapping[str, str]
    advisor_of_customer: Mapping[str, str]

    @classmethod
    def from_leads(cls, leads: pd.DataFrame) -> CustomerIndex:
        """The customers of the rows of a ``leads`` table (columns ``lead_id``,
        ``created_at``, ``phone``, ``wechat_id``, ``advisor_id``)."""
        for column in _LEAD_COLUMNS:
            if column not in leads.columns:
                raise InvalidArgument(f"leads:{column}", "column is missing")
        ids = leads["lead_id"].astype(str).tolist()
        if len(set(ids)) != len(ids):
            raise InvalidArgument("leads:lead_id", "has duplicate ids")
        stamps = pd.to_datetime(leads["created_at"], utc=True, format="ISO8601", errors="coerce")
        if stamps.isna().any():
            first = int(stamps.isna().to_numpy().argmax())
            raise InvalidArgument("leads:created_at", f"row {first} is not an ISO 8601 timestamp")
        order = [int(i) for i in np.argsort(stamps.to_numpy(), kind="stable")]
        keys = [
            ((MatchKind.PHONE, normalise_phone(phone)), (MatchKind.WECHAT, normalise_wechat(wx)))
            for phone, wx in zip(
                leads["phone"].fillna("").astype(str),
                leads["wechat_id"].fillna("").astype(str),
                strict=True,
            )
        ]
        first_of_key, root = _union_customers(order, keys)
        customer = [ids[root[i]] for i in range(len(ids))]
        advisors = leads["advisor_id"].fillna("").astype(str).tolist()
        owner: dict[str, str] = {}
        for i in order:  # the latest assigned lead of each customer wins
            if advisors[i]:
                owner[customer[i]] = advisors[i]
        by_phone = {
            k: customer[i] for (kind, k), i in first_of_key.items() if kind is MatchKind.PHONE
        }
        by_wechat = {
            k: customer[i] for (kind, k), i in first_of_key.items() if kind is MatchKind.WECHAT
        }
        return cls(
            customer_of_phone=MappingProxyType(by_phone),
            customer_of_wechat=MappingProxyType(by_wechat),
            advisor_of_customer=MappingProxyType(owner),
        )

    def customer_by_phone(self, phone: str | None) -> str | None:
        """The key of the customer with this phone number (any written form), or None."""
        key = normalise_phone(phone)
        return self.customer_of_phone.get(key) if key else None

    def customer_by_wechat(self, wechat_id: str | None) -> str | None:
        """The key of the customer with this WeChat id, or None."""
        key = normalise_wechat(wechat_id)
        return self.customer_of_wechat.get(key) if key else None

    def current_advisor(self, customer_key: str) -> str:
        """The customer's current advisor; ``""`` when it has none or is unknown."""
        return self.advisor_of_customer.get(customer_key, "")

    def match(self, phone: str | None, wechat_id: str | None = None) -> CustomerMatch | None:
        """The existing customer of a new lead's contacts, phone first; None if neither
        matches."""
        for found, kind in (
            (self.customer_by_phone(phone), MatchKind.PHONE),
            (self.customer_by_wechat(wechat_id), MatchKind.WECHAT),
        ):
            if found is not None:
                return CustomerMatch(found, kind, self.current_advisor(found))
        return None


_Key = tuple[MatchKind, str]


def _union_customers(
    order: list[int], keys: list[tuple[_Key, _Key]]
) -> tuple[dict[_Key, int], list[int]]:
    """Union-find of the rows ``order`` (earliest first) over their contact keys: the first
    row of each non-empty key, and each row's root, which is the earliest row of its
    customer."""
    parent = list(range(len(keys)))
    rank = [0] * len(keys)
    for position, i in enumerate(order):
        rank[i] = position

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of_key: dict[_Key, int] = {}
    for i in order:
        for key in keys[i]:
            if not key[1]:
                continue
            a, b = find(first_of_key.setdefault(key, i)), find(i)
            if a != b:
                early, late = (a, b) if rank[a] < rank[b] else (b, a)
                parent[late] = early
    return first_of_key, [find(i) for i in range(len(keys))]
