"""The state store's schema (SQLAlchemy Core). Migrations in serving/migrations are
generated from this metadata; change both together (tests/test_store.py checks that a
migrated database matches this metadata)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = ["UtcDateTime", "metadata"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = String(64)

regions = Table(
    "regions",
    metadata,
    Column("region_id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
)

brands = Table(
    "brands",
    metadata,
    Column("brand_id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("is_nev", Boolean, nullable=False),
)

stores = Table(
    "stores",
    metadata,
    Column("store_id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("region_id", ID, ForeignKey("regions.region_id"), nullable=False, index=True),
    Column("city", String(200), nullable=False),
    Column("store_type", String(16), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("lot_capacity", Integer, nullable=False),
    Column("credit_limit_cny", BigInteger, nullable=False),
)

authorisations = Table(
    "authorisations",
    metadata,
    Column("store_id", ID, ForeignKey("stores.store_id"), primary_key=True),
    Column("brand_id", ID, ForeignKey("brands.brand_id"), primary_key=True, index=True),
)

trims = Table(
    "trims",
    metadata,
    Column("trim_id", ID, primary_key=True),
    Column("brand_id", ID, ForeignKey("brands.brand_id"), nullable=False, index=True),
    Column("model", String(200), nullable=False),
    Column("trim", String(200), nullable=False),
    Column("powertrain", String(8), nullable=False),
    Column("msrp_cny", BigInteger, nullable=False),
    Column("cost_cny", BigInteger, nullable=False),
    Column("holding_cost_cny_per_day", Float, nullable=False),
)

vehicles = Table(
    "vehicles",
    metadata,
    Column("vin", String(17), primary_key=True),
    Column("store_id", ID, ForeignKey("stores.store_id"), nullable=False, index=True),
    Column("trim_id", ID, ForeignKey("trims.trim_id"), nullable=False, index=True),
    Column("colour", String(40), nullable=False),
    Column("arrival_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("cost_cny", BigInteger, nullable=False),
)

weekly_sales = Table(
    "weekly_sales",
    metadata,
    Column("store_id", ID, ForeignKey("stores.store_id"), primary_key=True),
    Column("trim_id", ID, ForeignKey("trims.trim_id"), primary_key=True),
    Column("week_start", Date, primary_key=True),
    Column("units", Integer, nullable=False),
)
Index("ix_weekly_sales_week_start", weekly_sales.c.week_start)

advisors = Table(
    "advisors",
    metadata,
    Column("advisor_id", ID, primary_key=True),
    Column("store_id", ID, ForeignKey("stores.store_id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("level", Integer, nullable=False),
    Column("shift_start", String(5), nullable=False),
    Column("shift_end", String(5), nullable=False),
    Column("max_open_leads", Integer, nullable=False),
    Column("leads_90d", Integer, nullable=False),
    Column("conversions_90d", Integer, nullable=False),
)

advisor_brands = Table(
    "advisor_brands",
    metadata,
    Column("advisor_id", ID, ForeignKey("advisors.advisor_id"), primary_key=True),
    Column("brand_id", ID, ForeignKey("brands.brand_id"), primary_key=True),
)

leads = Table(
    "leads",
    metadata,
    Column("lead_id", ID, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("store_id", ID, ForeignKey("stores.store_id"), nullable=True, index=True),
    Column("region_id", ID, ForeignKey("regions.region_id"), nullable=True),
    Column("brand_id", ID, ForeignKey("brands.brand_id"), nullable=False),
    Column("model", String(200), nullable=False),
    Column("grade", String(1), nullable=False),
    Column("phone", String(40), nullable=False),
    Column("wechat_id", String(64), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("advisor_id", ID, ForeignKey("advisors.advisor_id"), nullable=True, index=True),
    Column("converted", Boolean, nullable=True),
    # One-ID keys (lead_routing.identity.normalise_phone / normalise_wechat; "" = none);
    # migration 0003.
    Column("phone_key", String(40), nullable=False, server_default="", index=True),
    Column("wechat_key", String(64), nullable=False, server_default="", index=True),
)

lead_events = Table(
    "lead_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", ID, ForeignKey("leads.lead_id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    # The advisor the event concerns and the follow-up kind (lead_routing.sla.SlaEvent);
    # migration 0003.
    Column("advisor_id", ID, nullable=True),
    Column("follow_up", String(16), nullable=True),
)

# The routing and SLA state of each routed lead (migration 0003): who owns it now, its
# lead_routing.sla.LeadState as JSON (every deadline, so timers survive a restart), and
# the columns the sweeper and the pool listing query.
lead_routes = Table(
    "lead_routes",
    metadata,
    Column("lead_id", ID, ForeignKey("leads.lead_id"), primary_key=True),
    Column("status", String(16), nullable=False, index=True),
    Column("owner", ID, ForeignKey("advisors.advisor_id"), nullable=True),
    Column("store_id", ID, nullable=True, index=True),
    Column("region_id", ID, nullable=False, index=True),
    Column("brand_id", ID, nullable=False),
    Column("next_due", UtcDateTime, nullable=True, index=True),
    Column("pooled_at", UtcDateTime, nullable=True, index=True),
    Column("routed_at", UtcDateTime, nullable=False),
    Column("score", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("first_contact_due", UtcDateTime, nullable=True),
    Column("state", JSON, nullable=False),
)
# Owner first: RouteLead counts the candidates' uncontacted leads from this index alone
# (migration 0004); on two one-column indexes SQLite scanned every assigned lead.
Index("ix_lead_routes_owner_status", lead_routes.c.owner, lead_routes.c.status)

# Open leads per advisor, the counter that caps assignments: every change of a lead's owner
# updates it in the same transaction, incrementing only while open_leads < max_open_leads
# (migration 0003). routed_count counts the leads routed to the advisor on routed_day (the
# group's local date), for the fairness term of routing.
advisor_load = Table(
    "advisor_load",
    metadata,
    Column("advisor_id", ID, ForeignKey("advisors.advisor_id"), primary_key=True),
    Column("open_leads", Integer, nullable=False),
    Column("routed_day", Date, nullable=True),
    Column("routed_count", Integer, nullable=False),
)

schedules = Table(
    "schedules",
    metadata,
    Column("oem", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("content_sha256", String(64), nullable=False),
)

schedule_lines = Table(
    "schedule_lines",
    metadata,
    Column("oem", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("week_start", Date, primary_key=True),
    Column("trim_id", ID, ForeignKey("trims.trim_id"), primary_key=True),
    Column("max_units", Integer, nullable=False),
)

brand_targets = Table(
    "brand_targets",
    metadata,
    Column("oem", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("brand_id", ID, ForeignKey("brands.brand_id"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("target_units", Integer, nullable=False),
    Column("is_hard", Boolean, nullable=False),
)

bundles = Table(
    "bundles",
    metadata,
    Column("oem", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("hot_trim_id", ID, ForeignKey("trims.trim_id"), primary_key=True),
    Column("slow_trim_id", ID, ForeignKey("trims.trim_id"), primary_key=True),
    Column("hot_units_per_slow", Integer, nullable=False),
)

plans = Table(
    "plans",
    metadata,
    Column("plan_id", ID, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(16), nullable=False, index=True),
    Column("scope", String(200), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", UtcDateTime, nullable=True),
    Column("kpis", JSON, nullable=False),
    Column("body", JSON, nullable=False),
)

scenarios = Table(
    "scenarios",
    metadata,
    Column("scenario_id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("overrides", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", ID, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("done", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Column("cancel_requested", Boolean, nullable=False),
    # The serialized result a finished job keeps (e.g. a ForecastResponse); migration 0002.
    Column("result", LargeBinary, nullable=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("method", String(200), nullable=False),
    Column("request_sha256", String(64), nullable=False),
    Column("response", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
