"""Loading a dealer group in the canonical CSV tables (``turnwise demo-data`` output, or
``dealer_group.demo.generate``) into the store: the same validated records and the same
upserts as the ingestion RPCs, all in one transaction."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from dealer_group import records as r
from dealer_group.demo import DemoGroup
from serving.store import network
from serving.store import tables as t
from serving.store.db import Database
from serving.store.upsert import WriteCounts

__all__ = ["DEMO_OEM", "load_group", "store_is_empty"]

DEMO_OEM = "DEMO-OEM"


def _ids(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    return tuple(part for part in str(value).split(";") if part)


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records")  # type: ignore[return-value]


def _records(group: DemoGroup) -> dict[str, list[Any]]:
    return {
        "regions": [r.Region(x["region_id"], x["name"]) for x in _rows(group.regions)],
        "brands": [
            r.Brand(x["brand_id"], x["name"], bool(int(x["is_nev"]))) for x in _rows(group.brands)
        ],
        "stores": _stores(group),
        "trims": [
            r.Trim(
                x["trim_id"],
                x["brand_id"],
                x["model"],
                x["trim"],
                r.Powertrain(x["powertrain"]),
                int(x["msrp_cny"]),
                int(x["cost_cny"]),
                float(x["holding_cost_cny_per_day"]),
            )
            for x in _rows(group.trims)
        ],
        "vehicles": [
            r.Vehicle(
                x["vin"],
                x["store_id"],
                x["trim_id"],
                x["colour"],
                _day(x["arrival_date"]),
                r.VehicleStatus(x["status"]),
                int(x["cost_cny"]),
            )
            for x in _rows(group.inventory)
        ],
        "sales": [
            r.WeeklySales(_day(w), s, tr, int(u))
            for w, s, tr, u in group.sales[
                ["week_start", "store_id", "trim_id", "units"]
            ].itertuples(index=False)
        ],
        "advisors": [
            r.Advisor(
                x["advisor_id"],
                x["store_id"],
                x["name"],
                int(x["level"]),
                _ids(x["brand_ids"]),
                x["shift_start"],
                x["shift_end"],
                int(x["max_open_leads"]),
                int(x["leads_90d"]),
                int(x["conversions_90d"]),
            )
            for x in _rows(group.advisors)
        ],
        "leads": [_lead(x) for x in _rows(group.leads)],
    }


def _stores(group: DemoGroup) -> list[r.Store]:
    brands_of: dict[str, list[str]] = {}
    for store_id, brand_id in group.authorisations[["store_id", "brand_id"]].itertuples(
        index=False
    ):
        brands_of.setdefault(store_id, []).append(brand_id)
    return [
        r.Store(
            x["store_id"],
            x["name"],
            x["region_id"],
            x["city"],
            r.StoreType(x["store_type"]),
            float(x["latitude"]),
            float(x["longitude"]),
            int(x["lot_capacity"]),
            int(x["credit_limit_cny"]),
            tuple(brands_of.get(x["store_id"], ())),
        )
        for x in _rows(group.stores)
    ]


def _lead(x: dict[str, Any]) -> r.Lead:
    converted = _text(x["converted"])
    return r.Lead(
        lead_id=x["lead_id"],
        created_at=datetime.fromisoformat(str(x["created_at"]).replace("Z", "+00:00")).astimezone(
            UTC
        ),
        channel=r.LeadChannel(x["channel"]),
        store_id=_text(x["store_id"]),
        region_id="",
        brand_id=x["brand_id"],
        model=_text(x["model"]),
        grade=r.LeadGrade(x["grade"]),
        phone=_text(x["phone"]),
        wechat_id=_text(x["wechat_id"]),
        tags=_ids(x["tags"]),
        advisor_id=_text(x["advisor_id"]),
        converted=None if converted == "" else bool(int(float(converted))),
    )


def _schedule(group: DemoGroup) -> r.ProductionSchedule:
    return r.ProductionSchedule(
        oem=DEMO_OEM,
        version=1,
        lines=tuple(
            r.ScheduleLine(_day(w), tr, int(u))
            for w, tr, u in group.oem_offers[["week_start", "trim_id", "max_units"]].itertuples(
                index=False
            )
        ),
        brand_targets=tuple(
            r.BrandTarget(
                x["brand_id"], x["month"], int(x["target_units"]), bool(int(x["is_hard"]))
            )
            for x in _rows(group.brand_targets)
        ),
        bundles=tuple(
            r.Bundle(x["hot_trim_id"], x["slow_trim_id"], int(x["hot_units_per_slow"]))
            for x in _rows(group.bundles)
        ),
    )


def store_is_empty(db: Database) -> bool:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(t.stores)).scalar_one() == 0


def load_group(db: Database, group: DemoGroup) -> dict[str, WriteCounts]:
    """Validate every record, then write the whole group in one transaction."""
    recs = _records(group)
    schedule = _schedule(group)
    writers: list[tuple[str, Any]] = [
        ("regions", network.upsert_regions),
        ("brands", network.upsert_brands),
        ("stores", network.upsert_stores),
        ("trims", network.upsert_trims),
        ("vehicles", network.upsert_vehicles),
        ("sales", network.record_sales),
        ("advisors", network.upsert_advisors),
        ("leads", network.upsert_leads),
    ]
    counts: dict[str, WriteCounts] = {}
    with db.write() as conn:
        for name, write in writers:
            counts[name] = write(conn, recs[name])
        counts["schedule"] = network.store_schedule(conn, schedule)
    return counts
