"""The state store: SQLAlchemy Core tables, Alembic migrations, and the transactional
reads and writes of the dealer network, plans and idempotency keys."""

from serving.store.db import Database, open_database

__all__ = ["Database", "open_database"]
