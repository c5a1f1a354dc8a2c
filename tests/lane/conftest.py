"""End-to-end fixtures: the real app, GitHub faked at the HTTP boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from app.settings import Settings
from app.store import migrate
from app.store.db import make_engine
from tests.fakes.github import FakeGitHub, app_settings
from tests.lane.scenario import Lane, Repo, running_lane

SLACK_TOKEN = "xoxb-1111-2222-test"


@pytest.fixture
def lane_settings(
    make_settings: Callable[..., Settings], app_key: rsa.RSAPrivateKey, slack_api_url: str
) -> Settings:
    # Real backoff: a failed job waits for its retry instead of running again at once.
    return make_settings(
        **app_settings(app_key),
        job_backoff_base_seconds=2.0,
        slack_bot_token=SecretStr(SLACK_TOKEN),
        slack_api_url=slack_api_url,
    )


@pytest.fixture
def repo(fake_github: FakeGitHub) -> Repo:
    repo = Repo()
    repo.serve(fake_github)
    return repo


@pytest.fixture
async def lane(lane_settings: Settings, fake_github: FakeGitHub, repo: Repo) -> AsyncIterator[Lane]:
    async with running_lane(lane_settings, fake_github) as lane:
        yield lane


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


@pytest.fixture
def memory_engine() -> Iterator[Engine]:
    """An engine on a migrated in-memory database (one shared connection)."""
    engine = make_engine("sqlite://")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
