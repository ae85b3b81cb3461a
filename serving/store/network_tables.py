"""The stored network as the frames the planners read (``dealer_group.schema`` columns).

``read_network_tables`` returns what ``allocation.pickup_network.build_problem`` takes: the
stores, their authorisations, the trims, the cars held (IN_STOCK and IN_TRANSIT), and of
each OEM's production schedule only its latest version (its lines, brand targets and
bundles).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Table, and_, func, select

from allocation.pickup_network import NetworkTables
from dealer_group.schema import conform, table_spec
from serving.store import tables as t

__all__ = ["read_network_tables"]


def read_network_tables(conn: Connection) -> NetworkTables:
    stores = _frame(conn, select(t.stores), "stores")
    authorisations = _frame(conn, select(t.authorisations), "authorisations")
    trims = _frame(conn, select(t.trims), "trims")
    held = select(t.vehicles).where(t.vehicles.c.status.in_(("IN_STOCK", "IN_TRANSIT")))
    inventory = _frame(conn, held, "inventory")
    latest = (
        select(t.schedules.c.oem, func.max(t.schedules.c.version).label("version"))
        .group_by(t.schedules.c.oem)
        .subquery()
    )

    def of_latest(table: Table) -> object:
        return select(table).join(
            latest, and_(table.c.oem == latest.c.oem, table.c.version == latest.c.version)
        )

    lines = _frame(conn, of_latest(t.schedule_lines), "oem_offers", {"version": "schedule_version"})
    targets = _frame(conn, of_latest(t.brand_targets), "brand_targets")
    bundles = _frame(conn, of_latest(t.bundles), "bundles")
    return NetworkTables(stores, authorisations, trims, inventory, lines, targets, bundles)


def _frame(
    conn: Connection, query: object, table: str, rename: dict[str, str] | None = None
) -> pd.DataFrame:
    spec = table_spec(table)
    result = conn.execute(query)  # type: ignore[call-overload]
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    frame = frame.loc[:, ~frame.columns.duplicated()].rename(columns=rename or {})
    for column in ("arrival_date", "week_start"):
        if column in frame.columns:
            frame[column] = frame[column].map(lambda d: d.isoformat())
    for column in ("is_hard",):
        if column in frame.columns:
            frame[column] = frame[column].astype(int)
    if frame.empty:
        frame = pd.DataFrame({c: [] for c in spec.columns})
    return conform(frame, spec)
