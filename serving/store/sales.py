"""Stored weekly sales as forecasting input: one series per store x trim.

A store x trim that sold nothing in a week has no row; the forecasting panel fills such
gaps with zero demand. So that a series that stopped selling still ends at the latest week,
each series gets a zero row at the last week of the selection's data where it has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from serving.store import tables as t

__all__ = ["weekly_sales_frame", "weekly_sales_series_count"]


def _filtered(
    query: Any,
    store_ids: Sequence[str],
    trim_ids: Sequence[str],
    region_ids: Sequence[str],
    brand_ids: Sequence[str],
) -> Any:
    s, tr, ws = t.stores, t.trims, t.weekly_sales
    query = query.join(s, s.c.store_id == ws.c.store_id).join(tr, tr.c.trim_id == ws.c.trim_id)
    if store_ids:
        query = query.where(ws.c.store_id.in_(store_ids))
    if trim_ids:
        query = query.where(ws.c.trim_id.in_(trim_ids))
    if region_ids:
        query = query.where(s.c.region_id.in_(region_ids))
    if brand_ids:
        query = query.where(tr.c.brand_id.in_(brand_ids))
    return query


def weekly_sales_series_count(
    conn: Connection,
    store_ids: Sequence[str] = (),
    trim_ids: Sequence[str] = (),
    region_ids: Sequence[str] = (),
    brand_ids: Sequence[str] = (),
) -> int:
    """How many store x trim series the selection holds (without reading them)."""
    ws = t.weekly_sales
    pairs = _filtered(
        select(ws.c.store_id, ws.c.trim_id).select_from(ws),
        store_ids,
        trim_ids,
        region_ids,
        brand_ids,
    ).group_by(ws.c.store_id, ws.c.trim_id)
    count = conn.execute(select(func.count()).select_from(pairs.subquery())).scalar_one()
    return int(count)


def weekly_sales_frame(
    conn: Connection,
    store_ids: Sequence[str] = (),
    trim_ids: Sequence[str] = (),
    region_ids: Sequence[str] = (),
    brand_ids: Sequence[str] = (),
) -> pd.DataFrame:
    """Long frame (unique_id = "store_id/trim_id", ds, y) of the selected weekly sales,
    sorted by unique_id and ds. Empty lists select everything."""
    ws = t.weekly_sales
    query = _filtered(
        select(ws.c.store_id, ws.c.trim_id, ws.c.week_start, ws.c.units).select_from(ws),
        store_ids,
        trim_ids,
        region_ids,
        brand_ids,
    )
    rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=["store_id", "trim_id", "ds", "y"])
    if frame.empty:
        return pd.DataFrame({"unique_id": [], "ds": [], "y": []})
    frame["unique_id"] = frame["store_id"] + "/" + frame["trim_id"]
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["y"] = frame["y"].astype(float)
    last = frame["ds"].max()
    ends = frame.groupby("unique_id")["ds"].max()
    pad = pd.DataFrame({"unique_id": ends.index[ends < last], "ds": last, "y": 0.0})
    out = pd.concat([frame[["unique_id", "ds", "y"]], pad], ignore_index=True)
    return out.sort_values(["unique_id", "ds"], ignore_index=True)
