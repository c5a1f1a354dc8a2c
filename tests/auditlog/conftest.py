"""The audit-log tests' app: SQLite, and PostgreSQL when configured; with the fake Slack for
the tests that read what the audit channel shows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from app.settings import Settings
from tests.auditlog.audit_lane import TOKEN, AuditLane, running

SLACK_TOKEN = "xoxb-3333-4444-audit"


@pytest.fixture
async def lane(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[AuditLane]:
    async with running(make_settings(database_url=database_url, audit_log_token=TOKEN)) as lane:
        yield lane


@pytest.fixture
async def slack_lane(
    make_settings: Callable[..., Settings], database_url: str, slack_api_url: str
) -> AsyncIterator[AuditLane]:
    """The app posting its notices to the fake Slack (``slack_server``)."""
    settings = make_settings(
        database_url=database_url,
        audit_log_token=TOKEN,
        slack_bot_token=SecretStr(SLACK_TOKEN),
        slack_api_url=slack_api_url,
    )
    async with running(settings, no_waits=True) as lane:
        yield lane
