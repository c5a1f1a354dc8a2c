"""Every list command speaks JSON too; exit codes: 0 ok, 1 a failure found, 2 usage/config."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from app.cli import main
from app.jobs import queue
from app.notify import notices
from app.notify.outbox import enqueue_notice
from app.store import migrate
from app.store.db import make_engine
from app.store.models import Delivery

AT = datetime(2026, 5, 20, 9, 52, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/lists.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        session.add(
            Delivery(
                id="d-1", event="pull_request", action="opened", repository="acme/api",
                received_at=AT, body=b"{}",
            )
        )  # fmt: skip
        queue.enqueue(session, kind="delivery", key="delivery:d-1", ref="d-1", now=AT.timestamp())
        notice = notices.follow_ups_complete(
            repo="acme/api", number=7, incident_id=None, url="https://github.com/acme/api/pull/7"
        )
        enqueue_notice(session, notice=notice, channel="#platform-audit", now=AT)
        session.commit()
    engine.dispose()
    monkeypatch.setenv("HOTFIX_LANE_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    return url


def test_deliveries_list_as_json(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deliveries", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "delivery": "d-1",
            "received_at": "2026-05-20T09:52:00+00:00",
            "event": "pull_request",
            "action": "opened",
            "repository": "acme/api",
            "job": {"status": "queued", "attempts": 0},
        }
    ]


def test_notices_list_as_json(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notices", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["kind"], row["status"], row["channel"], row["sent_at"]) == (
        "follow_ups_complete",
        "pending",
        "#platform-audit",
        None,
    )


def test_exit_codes_tell_a_finding_from_a_usage_error(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deliveries", "show", "no-such-delivery"]) == 1  # looked, not found
    assert main(["validate-config"]) == 2  # nothing to validate: a usage error
    with pytest.raises(SystemExit) as usage:
        main(["deliveries", "list", "--limit", "0"])
    assert usage.value.code == 2
