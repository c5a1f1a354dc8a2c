"""Replicas on one PostgreSQL: two ``serve --no-worker`` and two ``worker`` processes, 500
deliveries across 50 pull requests with redeliveries, one worker SIGKILLed mid-run (and a new
one started, as its supervisor would); every effect once (see ``tests/replicas.py``, which
``bench/replicas.py`` runs too).

GitHub is the shared fake served over HTTP, Slack the local fake server. Six of the pull
requests merge, so their follow-ups fall due; Slack takes a message a second a channel from
each worker, which sets the pace.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.store import migrate
from app.store.db import make_engine
from tests.fakes.github import FakeGitHub
from tests.fakes.slack_server import FakeSlackServer
from tests.replicas import Size, check, run, serve_repo


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("replicas share a PostgreSQL database; SQLite serves one process")
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    return database_url


@pytest.mark.postgres
def test_two_apis_and_two_workers_on_postgresql_do_every_effect_once(
    fake_github: FakeGitHub,
    postgres_url: str,
    app_key: rsa.RSAPrivateKey,
    slack_server: FakeSlackServer,
    tmp_path: Path,
) -> None:
    serve_repo(fake_github)
    outcome = run(
        fake_github,
        slack_server,
        postgres_url=postgres_url,
        app_key=app_key,
        cwd=tmp_path,
        size=Size(pulls=50, merged=6, posts=500),
    )

    counted = check(outcome, fake_github, slack_server)
    assert counted["deliveries"] == 50 * 8 + 6
    assert counted["check runs"] == 50
