"""Writes and reads of the dealer network: regions, brands, stores, trims, vehicles,
weekly sales, advisors, leads and OEM production schedules.

Every function runs inside the caller's transaction (``Database.write()``), checks the
references of each record first and raises ``InvalidArgument`` naming the record
(``stores[3].region_id``) before anything is written, so a bad request stores nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, func, insert, select

from dealer_group.records import (
    Advisor,
    Brand,
    Lead,
    ProductionSchedule,
    Region,
    Store,
    Trim,
    Vehicle,
    WeeklySales,
)
from lead_routing.identity import normalise_phone, normalise_wechat
from serving.store import tables as t
from serving.store.upsert import WriteCounts, chunked, upsert_rows
from turnwise.errors import AlreadyExists, FailedPrecondition, InvalidArgument

__all__ = [
    "NetworkSummary",
    "network_summary",
    "record_sales",
    "store_schedule",
    "upsert_advisors",
    "upsert_brands",
    "upsert_leads",
    "upsert_regions",
    "upsert_stores",
    "upsert_trims",
    "upsert_vehicles",
]


@dataclasses.dataclass(frozen=True)
class NetworkSummary:
    regions: int
    brands: int
    stores: int
    trims: int
    vehicles: int
    sales_rows: int
    advisors: int
    leads: int
    schedule_versions: tuple[tuple[str, int], ...]
    first_sales_week: date | None
    last_sales_week: date | None


def _known(conn: Connection, column: ColumnElement[Any], values: Iterable[str]) -> set[str]:
    wanted = sorted(set(values))
    found: set[str] = set()
    for chunk in chunked(wanted):
        found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
    return found


def _check_refs(
    conn: Connection,
    collection: str,
    refs: Sequence[tuple[int, str, str]],
    table: Table,
    how_to_fix: str,
    also_known: Iterable[str] = (),
) -> None:
    """Each (index, field, id) must exist in ``table`` (or among ``also_known``, the ids
    written by this same request)."""
    column = next(iter(table.primary_key.columns))
    known = _known(conn, column, (r[2] for r in refs)) | set(also_known)
    for index, field, value in refs:
        if value not in known:
            raise InvalidArgument(
                f"{collection}[{index}].{field}",
                f"unknown {table.name[:-1]} {value!r}; {how_to_fix}",
            )


def _rows(records: Sequence[object], drop: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    rows = []
    for record in records:
        row = {}
        for f in dataclasses.fields(record):  # type: ignore[arg-type]
            if f.name in drop:
                continue
            value = getattr(record, f.name)
            row[f.name] = (
                value.value if hasattr(value, "value") and not isinstance(value, bool) else value
            )
        rows.append(row)
    return rows


def upsert_regions(conn: Connection, regions: Sequence[Region]) -> WriteCounts:
    return upsert_rows(conn, t.regions, _rows(regions))


def upsert_brands(conn: Connection, brands: Sequence[Brand]) -> WriteCounts:
    return upsert_rows(conn, t.brands, _rows(brands))


def upsert_stores(conn: Connection, stores: Sequence[Store]) -> WriteCounts:
    _check_refs(
        conn,
        "stores",
        [(i, "region_id", s.region_id) for i, s in enumerate(stores)],
        t.regions,
        "upsert it first with UpsertRegions",
    )
    brand_refs = [
        (i, f"authorised_brand_ids[{j}]", b)
        for i, s in enumerate(stores)
        for j, b in enumerate(s.authorised_brand_ids)
    ]
    _check_refs(conn, "stores", brand_refs, t.brands, "upsert it first with UpsertBrands")
    counts = upsert_rows(conn, t.stores, _rows(stores, drop=("authorised_brand_ids",)))
    ids = [s.store_id for s in stores]
    for chunk in chunked(ids):
        conn.execute(delete(t.authorisations).where(t.authorisations.c.store_id.in_(chunk)))
    auth = [{"store_id": s.store_id, "brand_id": b} for s in stores for b in s.authorised_brand_ids]
    if auth:
        conn.execute(insert(t.authorisations), auth)
    return counts


def upsert_trims(conn: Connection, trims: Sequence[Trim]) -> WriteCounts:
    _check_refs(
        conn,
        "trims",
        [(i, "brand_id", tr.brand_id) for i, tr in enumerate(trims)],
        t.brands,
        "upsert it first with UpsertBrands",
    )
    return upsert_rows(conn, t.trims, _rows(trims))


def _authorised_pairs(conn: Connection, store_ids: Iterable[str]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for chunk in chunked(sorted(set(store_ids))):
        q = select(t.authorisations.c.store_id, t.authorisations.c.brand_id).where(
            t.authorisations.c.store_id.in_(chunk)
        )
        pairs.update((r[0], r[1]) for r in conn.execute(q))
    return pairs


def _trim_brands(conn: Connection, trim_ids: Iterable[str]) -> dict[str, str]:
    brands: dict[str, str] = {}
    for chunk in chunked(sorted(set(trim_ids))):
        q = select(t.trims.c.trim_id, t.trims.c.brand_id).where(t.trims.c.trim_id.in_(chunk))
        brands.update((r[0], r[1]) for r in conn.execute(q))
    return brands


def _check_store_trims(conn: Connection, collection: str, items: Sequence[tuple[str, str]]) -> None:
    """Stores and trims exist and each store is authorised for the trim's brand."""
    _check_refs(
        conn,
        collection,
        [(i, "store_id", s) for i, (s, _) in enumerate(items)],
        t.stores,
        "upsert it first with UpsertStores",
    )
    brand_of = _trim_brands(conn, (tr for _, tr in items))
    pairs = _authorised_pairs(conn, (s for s, _ in items))
    for i, (store_id, trim_id) in enumerate(items):
        if trim_id not in brand_of:
            raise InvalidArgument(
                f"{collection}[{i}].trim_id",
                f"unknown trim {trim_id!r}; upsert it first with UpsertTrims",
            )
        if (store_id, brand_of[trim_id]) not in pairs:
            raise InvalidArgument(
                f"{collection}[{i}].store_id",
                f"store {store_id!r} is not authorised for brand {brand_of[trim_id]!r} of trim "
                f"{trim_id!r}; add the brand to the store's authorised_brand_ids first",
            )


def upsert_vehicles(conn: Connection, vehicles: Sequence[Vehicle]) -> WriteCounts:
    _check_store_trims(conn, "vehicles", [(v.store_id, v.trim_id) for v in vehicles])
    return upsert_rows(conn, t.vehicles, _rows(vehicles))


def record_sales(conn: Connection, sales: Sequence[WeeklySales]) -> WriteCounts:
    _check_store_trims(conn, "sales", [(s.store_id, s.trim_id) for s in sales])
    return upsert_rows(conn, t.weekly_sales, _rows(sales))


def upsert_advisors(conn: Connection, advisors: Sequence[Advisor]) -> WriteCounts:
    _check_refs(
        conn,
        "advisors",
        [(i, "store_id", a.store_id) for i, a in enumerate(advisors)],
        t.stores,
        "upsert it first with UpsertStores",
    )
    pairs = _authorised_pairs(conn, (a.store_id for a in advisors))
    for i, adv in enumerate(advisors):
        for j, brand_id in enumerate(adv.brand_ids):
            if (adv.store_id, brand_id) not in pairs:
                raise InvalidArgument(
                    f"advisors[{i}].brand_ids[{j}]",
                    f"store {adv.store_id!r} does not sell brand {brand_id!r}; an advisor's "
                    "brands must be among the store's authorised brands",
                )
    counts = upsert_rows(conn, t.advisors, _rows(advisors, drop=("brand_ids",)))
    for chunk in chunked([a.advisor_id for a in advisors]):
        conn.execute(delete(t.advisor_brands).where(t.advisor_brands.c.advisor_id.in_(chunk)))
    links = [{"advisor_id": a.advisor_id, "brand_id": b} for a in advisors for b in a.brand_ids]
    if links:
        conn.execute(insert(t.advisor_brands), links)
    ids = [a.advisor_id for a in advisors]
    loaded = _known(conn, t.advisor_load.c.advisor_id, ids)
    new = [
        {"advisor_id": a, "open_leads": 0, "routed_day": None, "routed_count": 0}
        for a in dict.fromkeys(ids)
        if a not in loaded
    ]
    if new:  # every advisor has a load row, which routing updates in place
        conn.execute(insert(t.advisor_load), new)
    return counts


def upsert_leads(conn: Connection, leads: Sequence[Lead]) -> WriteCounts:
    with_store = [(i, "store_id", ld.store_id) for i, ld in enumerate(leads) if ld.store_id]
    _check_refs(conn, "leads", with_store, t.stores, "upsert it first with UpsertStores")
    with_region = [(i, "region_id", ld.region_id) for i, ld in enumerate(leads) if ld.region_id]
    _check_refs(conn, "leads", with_region, t.regions, "upsert it first with UpsertRegions")
    _check_refs(
        conn,
        "leads",
        [(i, "brand_id", ld.brand_id) for i, ld in enumerate(leads)],
        t.brands,
        "upsert it first with UpsertBrands",
    )
    with_advisor = [(i, "advisor_id", ld.advisor_id) for i, ld in enumerate(leads) if ld.advisor_id]
    _check_refs(conn, "leads", with_advisor, t.advisors, "upsert it first with UpsertAdvisors")
    owners = _routed_owners(conn, [ld.lead_id for ld in leads])
    for i, ld in enumerate(leads):
        owner = owners.get(ld.lead_id, ld.advisor_id)
        if ld.advisor_id and ld.advisor_id != owner:
            raise FailedPrecondition(
                f"leads[{i}].advisor_id",
                f"lead {ld.lead_id!r} is routed to {owner or 'nobody (public pool or closed)'}"
                f", not {ld.advisor_id!r}; its advisor changes through LeadRoutingService "
                "(ClaimFromPool, the SLA), so send it empty or as routed",
            )
    rows = _rows(leads)
    for row in rows:
        row["tags"] = list(row["tags"])
        row["store_id"] = row["store_id"] or None
        row["region_id"] = row["region_id"] or None
        row["advisor_id"] = owners.get(row["lead_id"], row["advisor_id"]) or None
        row["phone_key"] = normalise_phone(row["phone"])
        row["wechat_key"] = normalise_wechat(row["wechat_id"])
    return upsert_rows(conn, t.leads, rows)


def _routed_owners(conn: Connection, lead_ids: Sequence[str]) -> dict[str, str]:
    """lead id -> its advisor of record ('' for none) for the leads RouteLead or RouteLeads
    routed: routing owns their advisor, which a lead upsert keeps."""
    out: dict[str, str] = {}
    for chunk in chunked(list(lead_ids)):
        query = (
            select(t.leads.c.lead_id, t.leads.c.advisor_id)
            .join(t.lead_routes, t.lead_routes.c.lead_id == t.leads.c.lead_id)
            .where(t.leads.c.lead_id.in_(chunk))
        )
        for lead_id, advisor in conn.execute(query):
            out[str(lead_id)] = str(advisor or "")
    return out


def _schedule_digest(schedule: ProductionSchedule) -> str:
    payload = dataclasses.asdict(schedule)
    canonical = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def store_schedule(conn: Connection, schedule: ProductionSchedule) -> WriteCounts:
    """Store one (oem, version) of a production schedule; versions are immutable."""
    digest = _schedule_digest(schedule)
    stored = conn.execute(
        select(t.schedules.c.content_sha256).where(
            t.schedules.c.oem == schedule.oem, t.schedules.c.version == schedule.version
        )
    ).scalar_one_or_none()
    n = len(schedule.lines) + len(schedule.brand_targets) + len(schedule.bundles)
    if stored == digest:
        return WriteCounts(unchanged=n)
    if stored is not None:
        raise AlreadyExists(
            "schedule_version",
            f"version {schedule.version} of {schedule.oem!r} is already stored with different "
            "content; schedule versions are immutable, send it as a new version",
        )
    _check_refs(
        conn,
        "lines",
        [(i, "trim_id", ln.trim_id) for i, ln in enumerate(schedule.lines)],
        t.trims,
        "upsert it first with UpsertTrims",
    )
    _check_refs(
        conn,
        "brand_targets",
        [(i, "brand_id", bt.brand_id) for i, bt in enumerate(schedule.brand_targets)],
        t.brands,
        "upsert it first with UpsertBrands",
    )
    bundle_refs = [(i, "hot_trim_id", b.hot_trim_id) for i, b in enumerate(schedule.bundles)]
    bundle_refs += [(i, "slow_trim_id", b.slow_trim_id) for i, b in enumerate(schedule.bundles)]
    _check_refs(conn, "bundles", bundle_refs, t.trims, "upsert it first with UpsertTrims")
    key = {"oem": schedule.oem, "version": schedule.version}
    conn.execute(
        insert(t.schedules), [{**key, "received_at": datetime.now(UTC), "content_sha256": digest}]
    )
    for table, records in (
        (t.schedule_lines, schedule.lines),
        (t.brand_targets, schedule.brand_targets),
        (t.bundles, schedule.bundles),
    ):
        if records:
            conn.execute(insert(table), [{**key, **row} for row in _rows(records)])
    return WriteCounts(inserted=n)


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def network_summary(conn: Connection) -> NetworkSummary:
    latest = conn.execute(
        select(t.schedules.c.oem, func.max(t.schedules.c.version)).group_by(t.schedules.c.oem)
    ).all()
    first, last = conn.execute(
        select(func.min(t.weekly_sales.c.week_start), func.max(t.weekly_sales.c.week_start))
    ).one()
    return NetworkSummary(
        regions=_count(conn, t.regions),
        brands=_count(conn, t.brands),
        stores=_count(conn, t.stores),
        trims=_count(conn, t.trims),
        vehicles=int(
            conn.execute(select(func.count()).where(t.vehicles.c.status != "SOLD")).scalar_one()
        ),
        sales_rows=_count(conn, t.weekly_sales),
        advisors=_count(conn, t.advisors),
        leads=_count(conn, t.leads),
        schedule_versions=tuple((str(o), int(v)) for o, v in latest),
        first_sales_week=first,
        last_sales_week=last,
    )
