"""The audit-log tests' app: SQLite, and PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from app.settings import Settings
from tests.auditlog.audit_lane import TOKEN, AuditLane, running


@pytest.fixture
async def lane(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[AuditLane]:
    async with running(make_settings(database_url=database_url, audit_log_token=TOKEN)) as lane:
        yield lane
