"""``hotfix-lane report`` and ``hotfix-lane runbook last-worked``: the review's figures and the
runbook's table, printed from a migrated database."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from app.cli import main
from app.ledger.incidents import declaration_key
from app.store import migrate
from app.store.db import make_engine
from app.store.models import Declaration, NoticeRow
from tests.rows import add_follow_up, add_hotfix


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def declare(session: Session, repo: str, number: int, incident: str | None, when: datetime) -> None:
    org = repo.split("/")[0]
    session.add(
        Declaration(
            key=declaration_key(org, incident, repo, number),
            org=org,
            incident_id=incident,
            repo_full_name=repo,
            number=number,
            declared_at=when,
        )
    )


@pytest.fixture
def review_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A week of four hotfixes and a drill in two organisations, and the CLI pointed at it."""
    url = f"sqlite:///{tmp_path}/reviews.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        first = add_hotfix(
            session,
            "acme/api",
            1,
            at(24),
            incident_id="INC-2026-11-24-001",
            deployed_at=at(24, 10, 12) + timedelta(seconds=30),
        )
        declare(session, "acme/api", 1, "INC-2026-11-24-001", at(24, 9, 46))
        second = add_hotfix(session, "acme/api", 2, at(25), incident_id="INC-2026-11-25-001")
        add_hotfix(session, "acme/web", 3, at(26), incident_id=None, author="carol")
        add_hotfix(session, "acme/api", 4, at(27), incident_id=None, drill=True)
        declare(session, "acme/api", 4, None, at(27, 9, 55))
        add_hotfix(session, "umbrella/ops", 5, at(28), incident_id=None, author="dave")

        add_follow_up(session, first, "cleanup", at(25), "done", at(25, 9))
        add_follow_up(session, first, "postmortem", at(26), "done", at(27))
        add_follow_up(session, second, "cleanup", at(26), "open")
        session.add(
            NoticeRow(
                key="rate-limit-tripped:acme/api#2",
                kind="rate_limit_tripped",
                channel="#platform-audit",
                text="RATE LIMIT: ...",
                notice="{}",
                subject="acme/api#2",
                created_at=at(25),
            )
        )
        session.commit()
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTFIX_LANE_DATABASE_URL", url)
    return url


WEEK = ["--since", "2026-11-23", "--until", "2026-11-30"]


def test_report_prints_the_weeks_figures(
    review_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *WEEK]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Hotfix review for all organisations, 2026-11-23 to 2026-11-30 (UTC)",
        "Hotfixes: 4 (and 1 drill, not counted)",
        "By repository:",
        "  acme/api      2",
        "  acme/web      1",
        "  umbrella/ops  1",
        "By author:",
        "  @bob    2",
        "  @carol  1",
        "  @dave   1",
        "Follow-ups due: 1 on time, 1 overdue, 1 open",
        "Rate-limit trips: 1",
    ]


def test_report_of_one_organisation_as_json(
    review_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *WEEK, "--org", "ACME", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "since": "2026-11-23T00:00:00+00:00",
        "until": "2026-11-30T00:00:00+00:00",
        "org": "ACME",
        "hotfixes": 3,
        "drills": 1,
        "by_repository": [
            {"repository": "acme/api", "hotfixes": 2},
            {"repository": "acme/web", "hotfixes": 1},
        ],
        "by_author": [{"author": "bob", "hotfixes": 2}, {"author": "carol", "hotfixes": 1}],
        "follow_ups": {"on_time": 1, "overdue": 1, "open": 1},
        "rate_limit_trips": 1,
    }


def test_report_as_csv_has_one_row_per_figure(
    review_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *WEEK, "--org", "umbrella", "--csv"]) == 0
    out = capsys.readouterr().out
    assert list(csv.reader(io.StringIO(out))) == [
        ["section", "name", "value"],
        ["period", "since", "2026-11-23T00:00:00+00:00"],
        ["period", "until", "2026-11-30T00:00:00+00:00"],
        ["period", "org", "umbrella"],
        ["hotfixes", "total", "1"],
        ["drills", "total", "0"],
        ["by_repository", "umbrella/ops", "1"],
        ["by_author", "dave", "1"],
        ["follow_ups", "on_time", "0"],
        ["follow_ups", "overdue", "0"],
        ["follow_ups", "open", "0"],
        ["rate_limit", "trips", "0"],
    ]
    assert out.endswith("0\n") and not out.endswith("\n\n")


def test_report_runs_until_now_by_default(
    review_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)
    assert main(["report", "--since", "2026-11-01", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert before <= datetime.fromisoformat(figures["until"]) <= datetime.now(UTC)
    assert (figures["hotfixes"], figures["drills"]) == (4, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--since", "last week"],
            "hotfix-lane: --since 'last week' is not a date (YYYY-MM-DD)\n",
            id="a since that is not a date is refused",
        ),
        pytest.param(
            ["--since", "2026-11-23", "--until", "2026-13-01"],
            "hotfix-lane: --until '2026-13-01' is not a date (YYYY-MM-DD)\n",
            id="an until that is not a date is refused",
        ),
        pytest.param(
            ["--since", "2026-11-30", "--until", "2026-11-23"],
            "hotfix-lane: --until 2026-11-23 00:00 is not after --since\n",
            id="a period that ends before it starts is refused",
        ),
    ],
)
def test_report_refuses_a_bad_period(
    review_db: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["report", *args]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", message)


def test_report_takes_one_format(review_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["report", *WEEK, "--json", "--csv"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_last_worked_prints_the_runbooks_table(
    review_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runbook", "last-worked"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "DATE        INCIDENT                          RESOLVED BY  DECLARED→MERGE  MERGE→HEALTHY",
        "2026-11-28  umbrella/ops#5                    hotfix                    -  -",
        "2026-11-27  acme/api#4                        drill               5.0 min  -",
        "2026-11-26  acme/web#3                        hotfix                    -  -",
        "2026-11-25  INC-2026-11-25-001                hotfix                    -  -",
        "2026-11-24  INC-2026-11-24-001                hotfix             14.0 min  12.5 min",
    ]


def test_last_worked_as_json_with_a_limit(
    review_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runbook", "last-worked", "--json", "--limit", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "date": "2026-11-28T10:00:00+00:00",
            "incident_id": None,
            "repository": "umbrella/ops",
            "number": 5,
            "resolved_by": "hotfix",
            "declared_to_merge_minutes": None,
            "merge_to_healthy_minutes": None,
        },
        {
            "date": "2026-11-27T10:00:00+00:00",
            "incident_id": None,
            "repository": "acme/api",
            "number": 4,
            "resolved_by": "drill",
            "declared_to_merge_minutes": 5.0,
            "merge_to_healthy_minutes": None,
        },
    ]


def test_last_worked_refuses_a_limit_below_one(
    review_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["runbook", "last-worked", "--limit", "0"])
    assert exit_.value.code == 2
    assert "argument --limit: 0 is not a positive number" in capsys.readouterr().err
