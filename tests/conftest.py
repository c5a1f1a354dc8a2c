"""Shared fixtures: settings, databases (SQLite always, PostgreSQL when configured), webhooks.

Migrating a database takes half a second here, and hundreds of tests need one: each test's
database is a copy of one migrated at the start of the run (a file copy for SQLite, a
``CREATE DATABASE ... TEMPLATE`` for PostgreSQL). Tests of the migrations themselves ask for
an empty one (``@pytest.mark.empty_database``).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine

from app.intake.signature import sign
from app.settings import Settings
from app.store import migrate
from app.store.db import make_engine, normalise_url

pytest_plugins = ["tests.fakes.github", "tests.fakes.slack_fixtures"]

POSTGRES_ENV = "HOTFIX_LANE_TEST_POSTGRES_URL"
SECRET = "test-webhook-secret-8c1f"
FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    """A webhook payload from tests/fixtures/webhooks/<name>.json."""
    payload: dict[str, Any] = json.loads((FIXTURES / "webhooks" / f"{name}.json").read_text())
    return payload


@pytest.fixture(scope="session")
def app_key() -> rsa.RSAPrivateKey:
    """The GitHub App's private key, made once per test run and never written to disk."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, to copy (its WAL checkpointed away)."""
    path = tmp_path_factory.mktemp("migrated") / "hotfix-lane.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def _copy_of(migrated: Path, path: Path) -> None:
    if not path.exists():
        shutil.copyfile(migrated, path)


@pytest.fixture
def make_settings(tmp_path: Path, migrated_sqlite: Path) -> Callable[..., Settings]:
    """Settings for a test: no .env, a private SQLite file (migrated), no backoff waits."""
    _copy_of(migrated_sqlite, tmp_path / "hotfix-lane.db")

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "webhook_secret": SECRET,
            "database_url": f"sqlite:///{tmp_path}/hotfix-lane.db",
            "job_backoff_base_seconds": 0.0,
            "worker_poll_seconds": 0.05,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


def _postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str | None]:
    """The name of a PostgreSQL database migrated to the newest schema, to create test
    databases from (None without a server configured); dropped at the end of the run."""
    admin_url = _postgres_admin_url()
    if admin_url is None:
        yield None
        return
    name = f"hotfix_lane_template_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(
        sa.engine.make_url(normalise_url(admin_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    migrate.upgrade(engine)
    engine.dispose()  # a template must have no one connected when it is copied
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    migrated_sqlite: Path,
    migrated_postgres: str | None,
) -> Iterator[str]:
    """A database of the test's own: a SQLite file, or a new PostgreSQL database, migrated
    to the newest schema (empty of tables with ``@pytest.mark.empty_database``)."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        if not empty:
            _copy_of(migrated_sqlite, tmp_path / "hotfix-lane.db")
        yield f"sqlite:///{tmp_path}/hotfix-lane.db"
        return
    admin_url = _postgres_admin_url()
    if admin_url is None:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/postgres)"
        )
    name = f"hotfix_lane_test_{uuid.uuid4().hex[:12]}"
    template = "" if empty or migrated_postgres is None else f' TEMPLATE "{migrated_postgres}"'
    admin = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"{template}'))
    url = sa.engine.make_url(normalise_url(admin_url)).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def webhook_headers(
    body: bytes, event: str, delivery: str | None = None, secret: str = SECRET
) -> dict[str, str]:
    """The headers GitHub sends with a delivery."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/a1b2c3d",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "471100",
        "X-GitHub-Hook-Installation-Target-Type": "integration",
        "X-GitHub-Hook-Installation-Target-ID": "99001",
        "X-Hub-Signature-256": sign(secret.encode(), body),
    }
