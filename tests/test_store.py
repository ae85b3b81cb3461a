"""The state store on SQLite and PostgreSQL: migrations, upserts, references,
all-or-nothing writes, plan lifecycle and idempotency keys."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from dealer_group import records as r
from serving.store import network, plans
from serving.store import tables as t
from serving.store.db import Database, open_database
from serving.store.idempotency import find_response, remember_response
from turnwise.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound


def _ningbo() -> r.Store:
    return r.Store(
        "S002",
        "Ningbo Showroom",
        "R01",
        "Ningbo",
        r.StoreType.SHOWROOM,
        29.8,
        121.5,
        60,
        10_000_000,
        ("B01", "B02"),
    )


def _network(db: Database) -> None:
    with db.write() as conn:
        network.upsert_regions(conn, [r.Region("R01", "East China")])
        network.upsert_brands(conn, [r.Brand("B01", "Toyota"), r.Brand("B02", "BYD", True)])
        network.upsert_stores(
            conn,
            [
                r.Store(
                    "S001",
                    "Hangzhou 4S",
                    "R01",
                    "Hangzhou",
                    r.StoreType.FOUR_S,
                    30.2,
                    120.1,
                    100,
                    20_000_000,
                    ("B01",),
                ),
                _ningbo(),
            ],
        )
        network.upsert_trims(
            conn,
            [
                r.Trim("T1", "B01", "Camry", "2.0G", r.Powertrain.ICE, 200_000, 192_000, 45.0),
                r.Trim("T2", "B02", "Seal", "AWD", r.Powertrain.BEV, 250_000, 240_000, 50.0),
            ],
        )


def test_migrated_schema_matches_the_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert diff == []


def test_migration_is_idempotent(db_url: str) -> None:
    for _ in range(2):
        open_database(db_url).close()


def test_upsert_counts_inserts_updates_and_unchanged(db: Database) -> None:
    _network(db)
    week = date(2026, 11, 2)
    with db.write() as conn:
        first = network.record_sales(
            conn, [r.WeeklySales(week, "S001", "T1", 3), r.WeeklySales(week, "S002", "T2", 1)]
        )
    with db.write() as conn:
        second = network.record_sales(
            conn, [r.WeeklySales(week, "S001", "T1", 4), r.WeeklySales(week, "S002", "T2", 1)]
        )
    assert (first.inserted, first.updated) == (2, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 1)
    with db.read() as conn:
        units = conn.execute(
            select(t.weekly_sales.c.units).where(t.weekly_sales.c.store_id == "S001")
        ).scalar_one()
    assert units == 4


def test_unauthorised_brand_is_rejected_naming_the_record(db: Database) -> None:
    _network(db)
    with pytest.raises(InvalidArgument) as err, db.write() as conn:
        network.record_sales(
            conn,
            [
                r.WeeklySales(date(2026, 11, 2), "S001", "T1", 1),
                r.WeeklySales(date(2026, 11, 2), "S001", "T2", 1),
            ],
        )
    assert err.value.field == "sales[1].store_id"
    assert "not authorised for brand 'B02'" in err.value.hint


def test_failed_write_leaves_nothing_behind(db: Database) -> None:
    _network(db)
    with pytest.raises(InvalidArgument), db.write() as conn:
        network.upsert_regions(conn, [r.Region("R02", "North China")])
        network.upsert_advisors(
            conn, [r.Advisor("A1", "S001", "Li Wei", 3, ("B02",), "09:00", "18:00", 10)]
        )
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(t.regions)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(t.advisors)).scalar_one() == 0


def test_store_authorisations_are_replaced_as_a_whole(db: Database) -> None:
    _network(db)
    with db.write() as conn:
        store = dataclasses.replace(_ningbo(), authorised_brand_ids=("B02",))
        network.upsert_stores(conn, [store])
    with db.read() as conn:
        brands = (
            conn.execute(
                select(t.authorisations.c.brand_id).where(t.authorisations.c.store_id == "S002")
            )
            .scalars()
            .all()
        )
    assert brands == ["B02"]


def test_plan_lifecycle_supersedes_the_previous_approval(db: Database) -> None:
    with db.write() as conn:
        first = plans.save_draft(
            conn, plans.PlanKind.PICKUP, {"fill_rate": {"after": 0.9}}, {"lines": []}
        )
        plans.approve_plan(conn, first.plan_id, 1, "planner-1")
        second = plans.save_draft(conn, plans.PlanKind.PICKUP, {}, {})
        newer = plans.save_draft(conn, plans.PlanKind.PICKUP, {}, {}, plan_id=second.plan_id)
    assert newer.version == 2
    with pytest.raises(FailedPrecondition), db.write() as conn:
        plans.approve_plan(conn, second.plan_id, 1, "planner-1")  # not the latest version
    with db.write() as conn:
        approved = plans.approve_plan(conn, second.plan_id, 2, "planner-2")
    assert approved.status is plans.PlanStatus.APPROVED and approved.approved_by == "planner-2"
    with db.read() as conn:
        assert plans.get_plan(conn, first.plan_id).status is plans.PlanStatus.SUPERSEDED
        assert [p.plan_id for p in plans.list_plans(conn, status=plans.PlanStatus.APPROVED)] == [
            second.plan_id
        ]
        with pytest.raises(NotFound):
            plans.get_plan(conn, "pickup-nope")


def test_idempotency_key_reuse_with_other_body_is_rejected(db: Database) -> None:
    with db.write() as conn:
        remember_response(conn, "k1", "UpsertStores", "a" * 64, b"resp")
    with db.read() as conn:
        assert find_response(conn, "k1", "UpsertStores", "a" * 64) == b"resp"
        assert find_response(conn, "k2", "UpsertStores", "a" * 64) is None
        with pytest.raises(AlreadyExists):
            find_response(conn, "k1", "UpsertStores", "b" * 64)


def test_schedule_versions_are_immutable(db: Database) -> None:
    _network(db)
    line = r.ScheduleLine(date(2026, 11, 2), "T1", 30)
    schedule = r.ProductionSchedule(
        "FAW-Toyota", 1, (line,), (r.BrandTarget("B01", "2026-11", 100, True),)
    )
    with db.write() as conn:
        assert network.store_schedule(conn, schedule).inserted == 2
        assert network.store_schedule(conn, schedule).unchanged == 2
    changed = r.ProductionSchedule("FAW-Toyota", 1, (r.ScheduleLine(date(2026, 11, 2), "T1", 31),))
    with pytest.raises(AlreadyExists), db.write() as conn:
        network.store_schedule(conn, changed)
    with db.write() as conn:
        network.store_schedule(conn, r.ProductionSchedule("FAW-Toyota", 2, (line,)))
        summary = network.network_summary(conn)
    assert summary.schedule_versions == (("FAW-Toyota", 2),)


def test_approval_supersedes_only_the_same_scope(db: Database) -> None:
    with db.write() as conn:
        east = plans.save_draft(conn, plans.PlanKind.TRANSFER, {}, {}, scope="region:R01")
        north = plans.save_draft(conn, plans.PlanKind.TRANSFER, {}, {}, scope="region:R02")
        plans.approve_plan(conn, east.plan_id, 1, "planner")
        plans.approve_plan(conn, north.plan_id, 1, "planner")
        east2 = plans.save_draft(conn, plans.PlanKind.TRANSFER, {}, {}, scope="region:R01")
        plans.approve_plan(conn, east2.plan_id, 1, "planner")
        approved = plans.list_plans(conn, plans.PlanKind.TRANSFER, plans.PlanStatus.APPROVED)
        assert {p.plan_id for p in approved} == {north.plan_id, east2.plan_id}
        assert plans.get_plan(conn, east.plan_id).status is plans.PlanStatus.SUPERSEDED
        only_r02 = plans.list_plans(conn, scope="region:R02")
        assert [p.plan_id for p in only_r02] == [north.plan_id]
    with pytest.raises(InvalidArgument), db.write() as conn:
        plans.save_draft(conn, plans.PlanKind.PICKUP, {}, {}, scope="city:Hangzhou")


def test_migration_0003_keys_the_stored_leads_and_gives_every_advisor_a_load(
    db_url: str,
) -> None:
    """A store at revision 0002 holding advisors and leads upgrades with the One-ID keys
    filled in and one empty load row per advisor."""
    from datetime import UTC, datetime

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from serving.store.db import MIGRATIONS_DIR

    engine = create_engine(db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.execute(text("INSERT INTO regions VALUES ('R01', 'East')"))
        conn.execute(text("INSERT INTO brands VALUES ('B01', 'Toyota', false)"))
        conn.execute(
            text(
                "INSERT INTO stores VALUES ('S001', 'Hangzhou', 'R01', 'Hangzhou', '4S', 30.2, "
                "120.1, 100, 1000)"
            )
        )
        conn.execute(
            text("INSERT INTO advisors VALUES ('A1', 'S001', 'Li', 3, '09:00', '21:00', 5, 10, 2)")
        )
        conn.execute(
            text(
                "INSERT INTO leads (lead_id, created_at, channel, store_id, region_id, brand_id,"
                " model, grade, phone, wechat_id, tags, advisor_id, converted) VALUES ('L1',"
                " :at, 'WEB', 'S001', NULL, 'B01', '', 'A', '+86 138-1234-5678', 'WX_Li', '[]',"
                " 'A1', NULL)"
            ),
            {"at": datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)},
        )
    engine.dispose()
    db = open_database(db_url)  # upgrades to head
    try:
        with db.read() as conn:
            keys = conn.execute(select(t.leads.c.phone_key, t.leads.c.wechat_key)).one()
            loads = conn.execute(select(t.advisor_load)).all()
        assert tuple(keys) == ("13812345678", "wx_li")
        assert [(row.advisor_id, row.open_leads, row.routed_count) for row in loads] == [
            ("A1", 0, 0)
        ]
    finally:
        db.close()
