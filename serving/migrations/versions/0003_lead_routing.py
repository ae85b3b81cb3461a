"""lead routing: One-ID keys on leads, the routing/SLA state of routed leads, open leads
per advisor, and who/what on lead events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import serving.store.tables
from lead_routing.identity import normalise_phone, normalise_wechat

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_UTC = serving.store.tables.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_key", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("wechat_key", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_leads_phone_key"), ["phone_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_leads_wechat_key"), ["wechat_key"], unique=False)
    with op.batch_alter_table("lead_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("advisor_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("follow_up", sa.String(length=16), nullable=True))

    op.create_table(
        "lead_routes",
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("store_id", sa.String(length=64), nullable=True),
        sa.Column("region_id", sa.String(length=64), nullable=False),
        sa.Column("brand_id", sa.String(length=64), nullable=False),
        sa.Column("next_due", _UTC, nullable=True),
        sa.Column("pooled_at", _UTC, nullable=True),
        sa.Column("routed_at", _UTC, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_contact_due", _UTC, nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.lead_id"], name=op.f("fk_lead_routes_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["owner"], ["advisors.advisor_id"], name=op.f("fk_lead_routes_owner_advisors")
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_routes")),
    )
    with op.batch_alter_table("lead_routes", schema=None) as batch_op:
        for column in ("status", "owner", "store_id", "region_id", "next_due", "pooled_at"):
            batch_op.create_index(batch_op.f(f"ix_lead_routes_{column}"), [column], unique=False)

    op.create_table(
        "advisor_load",
        sa.Column("advisor_id", sa.String(length=64), nullable=False),
        sa.Column("open_leads", sa.Integer(), nullable=False),
        sa.Column("routed_day", sa.Date(), nullable=True),
        sa.Column("routed_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisor_id"],
            ["advisors.advisor_id"],
            name=op.f("fk_advisor_load_advisor_id_advisors"),
        ),
        sa.PrimaryKeyConstraint("advisor_id", name=op.f("pk_advisor_load")),
    )
    _backfill()


def _backfill() -> None:
    """One-ID keys of the leads stored so far, and a zero load row per advisor."""
    conn = op.get_bind()
    leads = sa.table(
        "leads",
        sa.column("lead_id", sa.String),
        sa.column("phone", sa.String),
        sa.column("wechat_id", sa.String),
        sa.column("phone_key", sa.String),
        sa.column("wechat_key", sa.String),
    )
    rows = conn.execute(sa.select(leads.c.lead_id, leads.c.phone, leads.c.wechat_id)).all()
    keyed = [
        {"id": r.lead_id, "p": normalise_phone(r.phone), "w": normalise_wechat(r.wechat_id)}
        for r in rows
    ]
    keyed = [k for k in keyed if k["p"] or k["w"]]
    if keyed:
        conn.execute(
            leads.update()
            .where(leads.c.lead_id == sa.bindparam("id"))
            .values(phone_key=sa.bindparam("p"), wechat_key=sa.bindparam("w")),
            keyed,
        )
    conn.execute(
        sa.text(
            "INSERT INTO advisor_load (advisor_id, open_leads, routed_day, routed_count) "
            "SELECT advisor_id, 0, NULL, 0 FROM advisors"
        )
    )


def downgrade() -> None:
    op.drop_table("advisor_load")
    with op.batch_alter_table("lead_routes", schema=None) as batch_op:
        for column in ("status", "owner", "store_id", "region_id", "next_due", "pooled_at"):
            batch_op.drop_index(batch_op.f(f"ix_lead_routes_{column}"))
    op.drop_table("lead_routes")
    with op.batch_alter_table("lead_events", schema=None) as batch_op:
        batch_op.drop_column("follow_up")
        batch_op.drop_column("advisor_id")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_leads_wechat_key"))
        batch_op.drop_index(batch_op.f("ix_leads_phone_key"))
        batch_op.drop_column("wechat_key")
        batch_op.drop_column("phone_key")
