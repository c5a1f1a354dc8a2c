"""The ``hotfix-lane`` command: start-up refusals and the delivery tools."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.cli import main
from app.intake.deliveries import insert_deliveries
from app.jobs import queue
from app.store import migrate
from app.store.db import make_engine
from tests.conftest import SECRET
from tests.rows import delivery_row, hotfix_record


def run_cli(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTFIX_LANE_")}
    clean["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
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
                delivery_row(
                    "72d3162e-cc78-11e3-81ab-4c9367dc0958",
                    received_at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
                )
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


@pytest.fixture
def ledger_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with two merged hotfixes and one notice, and the CLI pointed at it."""
    from app.ledger.records import record_hotfix
    from app.notify import notices
    from app.notify.outbox import enqueue_notice

    url = f"sqlite:///{tmp_path}/ledger.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        for number, day, bypassed in ((4321, 20, True), (4400, 28, False)):
            merged_at = datetime(2026, 5, day, 9, 52, tzinfo=UTC)
            record_hotfix(
                session,
                record=hotfix_record(
                    merged_at,
                    number=number,
                    title="HOTFIX: INC-2026-05-20-001 catalog",
                    merged_by="carol",
                    head_sha="0" * 40,
                    bypassed=bypassed,
                    bypass_reasons='["0 approving review(s), 1 required"]' if bypassed else "[]",
                ),
            )
        enqueue_notice(
            session,
            channel="#platform-audit",
            now=merged_at,
            notice=notices.admin_merge(
                repo="acme/bookstore-platform",
                number=4321,
                title="HOTFIX: INC-2026-05-20-001",
                merged_by="carol",
                incident_id="INC-2026-05-20-001",
                approver="alice",
                cleanup_owner="bob",
                url="https://github.com/acme/bookstore-platform/pull/4321",
            ),
        )
        session.commit()
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTFIX_LANE_DATABASE_URL", url)
    return url


def test_ledger_list_prints_one_row_per_hotfix(
    ledger_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ledger", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == [
        "2026-05-20",
        "09:52",
        "acme/bookstore-platform",
        "4321",
        "INC-2026-05-20-001",
        "carol",
        "alice",
        "passed",
        "yes",
    ]
    assert len(lines) == 3


def test_ledger_list_since_and_json(ledger_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["ledger", "list", "--since", "2026-05-25", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["number"], r["bypassed"], r["bypass_reasons"]) for r in rows] == [(4400, False, [])]


def test_ledger_list_refuses_a_bad_date(ledger_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ledger", "list", "--since", "last week"]) == 2
    assert "--since 'last week' is not a date" in capsys.readouterr().err


def test_notices_list_shows_the_outbox(ledger_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notices", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "pending" in lines[1]
    assert lines[1].endswith("@carol merged PR #4321 (HOTFIX: INC-2026-05-20-001) via admin bypass")


def test_notices_resend_queues_the_stored_notices(
    ledger_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.store.models import NoticeRow

    engine = make_engine(ledger_db)
    with Session(engine) as session:
        row = session.exec(select(NoticeRow)).one()
        row.status = "stored"  # kept while no Slack token was set
        session.add(row)
        job = queue.get(session, key=f"notice:{row.key}")
        assert job is not None
        job.status = "done"
        session.add(job)
        session.commit()

    assert main(["notices", "resend"]) == 0
    assert capsys.readouterr().out == "1 stored notice(s) queued to be sent\n"
    with Session(engine) as session:
        row = session.exec(select(NoticeRow)).one()
        job = queue.get(session, key=f"notice:{row.key}")
        assert row.status == "pending"
        assert job is not None and job.status == "queued"
    engine.dispose()
