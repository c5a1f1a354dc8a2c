"""NUL characters in what we store: kept out of PostgreSQL's text, never a 503 or a dead job.

Each test runs on SQLite and on PostgreSQL (when configured); PostgreSQL is the one that
refuses NUL in text, and the one these tests are about.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session, select

from app.settings import Settings
from app.store import migrate
from app.store.db import make_engine
from app.store.models import Delivery, HotfixRecord
from tests.conftest import webhook_headers
from tests.harness import running_app
from tests.rows import hotfix_record

NUL = "\u0000"


async def test_a_signed_delivery_with_nul_in_its_indexed_fields_is_stored(
    make_settings: Callable[..., Settings], database_url: str
) -> None:
    body = json.dumps(
        {"action": f"open{NUL}ed", "repository": {"full_name": f"acme/api{NUL}"}}
    ).encode()
    async with running_app(make_settings(database_url=database_url)) as app:
        response = await app.client.post(
            "/api/github/webhooks",
            content=body,
            headers=webhook_headers(body, f"pull_request{NUL}", delivery="nul-1"),
        )

        assert response.status_code == 202, response.text
        [row] = app.rows(Delivery)
        assert (row.event, row.action, row.repository) == ("pull_request", "opened", "acme/api")
        assert row.body == body  # the raw bytes, as signed


def test_text_the_worker_writes_is_stored_without_nul(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    at = datetime(2026, 5, 20, 9, 52, tzinfo=UTC)
    with Session(engine) as session:
        session.add(
            hotfix_record(at, title=f"HOTFIX: fix{NUL} it", author=f"bob{NUL}", approver=NUL)
        )
        session.commit()
    with Session(engine) as session:
        [row] = session.exec(select(HotfixRecord)).all()
        stored = (row.title, row.author, row.approver)
    engine.dispose()

    if engine.dialect.name == "postgresql":
        assert stored == ("HOTFIX: fix it", "bob", "")
    else:
        assert stored == (f"HOTFIX: fix{NUL} it", f"bob{NUL}", NUL)
