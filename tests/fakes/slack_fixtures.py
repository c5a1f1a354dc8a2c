"""pytest fixtures for the fake Slack server (imported into the root conftest)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.slack_server import FakeSlackServer


@pytest.fixture
def slack_server() -> Iterator[FakeSlackServer]:
    """A running fake Slack; its ``base_url`` is ``http://127.0.0.1:PORT/api/``."""
    server = FakeSlackServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def slack_api_url(slack_server: FakeSlackServer) -> str:
    """The fake Slack's base URL, for ``Settings(slack_api_url=...)``."""
    return slack_server.base_url
