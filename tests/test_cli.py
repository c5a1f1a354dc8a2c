"""The ``hotfix-lane`` command: start-up refusals and the delivery tools."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from app.cli import main
from app.jobs import queue
from app.store import migrate
from app.store.db import make_engine
from app.store.deliveries import insert_deliveries
from tests.conftest import SECRET


def run_cli(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTFIX_LANE_")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_to_start_without_a_webhook_secret(tmp_path: Path) -> None:
    result = run_cli(tmp_path, {}, "serve", "--port", "0")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "hotfix-lane: HOTFIX_LANE_WEBHOOK_SECRET is not set (or is a placeholder): "
        "set it to the App's webhook secret"
    ]


def test_serve_refuses_a_placeholder_secret(tmp_path: Path) -> None:
    result = run_cli(tmp_path, {"HOTFIX_LANE_WEBHOOK_SECRET": "changeme"}, "serve")
    assert result.returncode == 2
    assert "HOTFIX_LANE_WEBHOOK_SECRET" in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "mysql://root@localhost/db",
            "hotfix-lane: HOTFIX_LANE_DATABASE_URL: Value error, must start with "
            "sqlite:/// or postgresql://",
            id="an unknown database scheme is refused",
        ),
        pytest.param(
            "postgresql://postgres@127.0.0.1:1/nowhere",
            "hotfix-lane: HOTFIX_LANE_DATABASE_URL cannot be opened:",
            id="an unreachable PostgreSQL is refused",
        ),
        pytest.param(
            "sqlite:////proc/hotfix-lane/db.sqlite",
            "hotfix-lane: HOTFIX_LANE_DATABASE_URL cannot be opened: cannot create",
            id="an SQLite file in a folder that cannot exist is refused",
        ),
    ],
)
def test_serve_refuses_a_database_it_cannot_open(tmp_path: Path, url: str, expected: str) -> None:
    result = run_cli(
        tmp_path,
        {"HOTFIX_LANE_WEBHOOK_SECRET": SECRET, "HOTFIX_LANE_DATABASE_URL": url},
        "serve",
        "--port",
        "0",
    )

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(expected)


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    result = run_cli(tmp_path, {"HOTFIX_LANE_DATABASE_URL": url}, "db", "upgrade")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database schema is up to date (sqlite)"


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with one dead delivery job, and the CLI pointed at it."""
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = time.time()
    with engine.begin() as conn:
        insert_deliveries(
            conn,
            [
                {
                    "id": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                    "event": "pull_request",
                    "action": "opened",
                    "installation_id": 4242,
                    "repository": "acme/bookstore-platform",
                    "received_at": datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
                    "body": b'{"action":"opened"}',
                }
            ],
            now=now,
            max_attempts=1,
        )
    job = queue.claim(engine, worker="w", now=now, lease_seconds=60)
    assert job is not None
    queue.fail(engine, job=job, worker="w", error="RuntimeError: boom", now=now, retry_in=None)
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTFIX_LANE_DATABASE_URL", url)
    return url


def test_deliveries_list_shows_the_job_state(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deliveries", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == [
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "2026-11-26",
        "09:30:00",
        "pull_request.opened",
        "acme/bookstore-platform",
        "dead",
        "(1",
        "tries)",
    ]


def test_deliveries_show_prints_the_last_error(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deliveries", "show", "72d3162e-cc78-11e3-81ab-4c9367dc0958"]) == 0
    out = capsys.readouterr().out
    assert '"status": "dead"' in out
    assert '"last_error": "RuntimeError: boom"' in out


def test_deliveries_replay_queues_a_dead_delivery_again(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deliveries", "replay", "72d3162e-cc78-11e3-81ab-4c9367dc0958"]) == 0
    assert "queued again" in capsys.readouterr().out
    engine = make_engine(cli_db)
    with Session(engine) as session:
        job = queue.get(session, key="delivery:72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert job is not None and (job.status, job.attempts) == ("queued", 0)


def test_replaying_an_unknown_delivery_fails_clearly(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deliveries", "replay", "nope"]) == 1
    assert capsys.readouterr().err == "hotfix-lane: no delivery nope\n"
