"""Schema migrations with Alembic, applied at start-up and by ``hotfix-lane db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The key of the PostgreSQL advisory lock that serialises migrations (any constant works, as
# long as nothing else in the database uses it): "hotfixmg" in ASCII, as a number.
MIGRATION_LOCK_KEY = 0x686F_7466_6978_6D67


def alembic_config(engine: Engine) -> Config:
    """An in-memory Alembic config; there is no alembic.ini to keep in step with settings."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; safe to run on every start, by several processes
    at once.

    Every process migrates at start-up, and on a fresh PostgreSQL database two of them
    creating the same table collide (``UniqueViolation`` on ``pg_type_typname_nsp_index``), so
    the migration runs under a transaction-scoped advisory lock: the others wait, then find
    the schema at ``revision`` and do nothing. Alembic runs inside this transaction (it does
    not open its own on a connection already in one), so the lock is held until the upgrade
    is committed. SQLite needs no lock: every transaction there starts with ``BEGIN
    IMMEDIATE`` (``app.store.db``), which already admits one writer at a time.
    """
    config = alembic_config(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision from the models (a development tool)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
