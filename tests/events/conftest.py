"""End-to-end fixtures: the real app, GitHub faked at the HTTP boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from app.settings import Settings
from tests.events.scenario import Lane, Repo, running_lane
from tests.fakes.github import API_URL, APP_ID, FakeGitHub, pem


@pytest.fixture
def lane_settings(make_settings: Callable[..., Settings], app_key: rsa.RSAPrivateKey) -> Settings:
    # Real backoff: a failed job waits for its retry instead of running again at once.
    return make_settings(
        github_app_id=APP_ID,
        github_private_key=SecretStr(pem(app_key)),
        github_api_url=API_URL,
        job_backoff_base_seconds=2.0,
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
