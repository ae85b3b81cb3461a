"""Alembic environment: runs on the connection handed over by serving.store.db.migrate,
or on ``sqlalchemy.url`` when called from the alembic command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from serving.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///turnwise.db")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
