"""The trends page: its pure builders, row by row, and the page itself served in process.

The builders are given rows and a time and must say exactly what the charts are given: which
weeks, which repositories and authors, which figures. The page test puts rows in the store
itself and reads the four sections back: SVG that parses, and tables naming those rows.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.policy.loader import default_policy
from app.policy.model import RateLimit
from app.settings import Settings
from app.store.models import FollowUp
from app.web.auth import Viewer
from app.web.charts import Series
from app.web.trends import (
    OTHER,
    FollowUpRow,
    FollowUpWeeks,
    HotfixRow,
    PerAuthor,
    PerWeek,
    TrendRows,
    follow_up_weeks,
    merge_to_healthy,
    per_author,
    per_week,
    readable,
    weeks_ending,
)
from tests.fakes.github import REPO, FakeGitHub, app_settings
from tests.lane.scenario import Lane, running_lane
from tests.rows import INCIDENT, hotfix_record

SVG = "{http://www.w3.org/2000/svg}"
# A Wednesday in 2026-W21, the week the lane's clock starts in.
NOW = datetime(2026, 5, 20, 9, 50, tzinfo=UTC)
POLICY = default_policy()


def at(day: str, time: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=UTC)


def hotfix(
    merged: datetime,
    *,
    repo: str = REPO,
    number: int = 1,
    incident: str | None = None,
    author: str = "bob",
    deployed: datetime | None = None,
    drill: bool = False,
) -> HotfixRow:
    return HotfixRow(repo, number, incident, author, merged, deployed, drill)


def follow_up(
    due: datetime,
    state: str,
    *,
    done: datetime | None = None,
    repo: str = REPO,
    drill: bool = False,
) -> FollowUpRow:
    return FollowUpRow(repo, due, done, state, drill)


# --- the weeks --------------------------------------------------------------------------------


def test_the_weeks_end_with_this_one_and_are_named_by_iso_year_across_new_year() -> None:
    weeks = weeks_ending(at("2027-01-06"), 3)

    assert weeks.labels == ("2026-W52", "2026-W53", "2027-W01")
    assert weeks.start == at("2026-12-21", "00:00")
    assert weeks.end == at("2027-01-11", "00:00")
    assert weeks.index(at("2027-01-01")) == 1  # a Friday of 2026's 53rd week
    assert weeks.index(at("2027-01-10", "23:59")) == 2
    assert weeks.index(at("2027-01-11", "00:00")) is None
    assert weeks.index(at("2026-12-20", "23:59")) is None


def test_one_week_is_this_week_from_monday() -> None:
    weeks = weeks_ending(NOW, 1)

    assert (weeks.labels, weeks.start, weeks.end) == (
        ("2026-W21",),
        at("2026-05-18", "00:00"),
        at("2026-05-25", "00:00"),
    )


# --- per week ---------------------------------------------------------------------------------


def test_hotfixes_per_week_by_repository_leave_drills_and_older_weeks_out() -> None:
    weeks = weeks_ending(at("2027-01-06"), 3)
    rows = [
        hotfix(at("2026-12-22"), repo="acme/api"),
        hotfix(at("2027-01-01"), repo="acme/api"),
        hotfix(at("2027-01-01"), repo="ACME/API"),  # the same repository to GitHub
        hotfix(at("2027-01-05"), repo="acme/web"),
        hotfix(at("2027-01-05"), repo="acme/web", drill=True),
        hotfix(at("2026-12-20"), repo="acme/web"),  # the week before the chart's first
    ]

    assert per_week(rows, weeks, POLICY.rate_limit) == PerWeek(
        weeks=("2026-W52", "2026-W53", "2027-W01"),
        series=(Series("ACME/API", (1, 2, 0)), Series("acme/web", (0, 0, 1))),
        limit=3,
    )


def test_the_rate_limit_is_drawn_only_for_a_seven_day_window() -> None:
    monthly = RateLimit(max_hotfixes=10, window_days=30, scope="organisation")

    assert per_week([hotfix(NOW)], weeks_ending(NOW, 2), monthly) == PerWeek(
        weeks=("2026-W20", "2026-W21"), series=(Series(REPO, (0, 1)),), limit=None
    )


def test_past_eight_repositories_the_smallest_are_folded_into_other() -> None:
    weeks = weeks_ending(NOW, 2)
    # acme/r0 merges nine times, acme/r1 eight, ... acme/r8 once: all in this week.
    rows = [hotfix(NOW, repo=f"acme/r{i}") for i in range(9) for _ in range(9 - i)]
    rows.append(hotfix(NOW - timedelta(weeks=1), repo="acme/r8"))

    series = per_week(rows, weeks, POLICY.rate_limit).series

    assert series == (
        *(Series(f"acme/r{i}", (0, 9 - i)) for i in range(7)),
        Series(OTHER, (1, 3)),  # r7's two and r8's one this week, r8's one the week before
    )


def test_eight_repositories_keep_their_names() -> None:
    rows = [hotfix(NOW, repo=f"acme/r{i}") for i in range(8)]

    names = [one.name for one in per_week(rows, weeks_ending(NOW, 1), POLICY.rate_limit).series]

    assert names == [f"acme/r{i}" for i in range(8)]


# --- per author -------------------------------------------------------------------------------


def test_authors_count_the_calendar_quarter_only_and_not_drills() -> None:
    rows = [
        hotfix(at("2026-03-31", "23:59"), author="carol"),  # the quarter before
        hotfix(at("2026-04-01", "00:00"), author="carol"),
        hotfix(at("2026-05-02"), author="Bob"),
        hotfix(at("2026-05-19"), author="bob"),
        hotfix(at("2026-05-19"), author="bob", drill=True),
        hotfix(at("2026-06-30", "23:59"), author="dave"),
        hotfix(at("2026-07-01", "00:00"), author="dave"),  # the quarter after
    ]

    assert per_author(rows, NOW, POLICY.author_quota) == PerAuthor(
        quarter="2026-Q2",
        people=(("Bob", 2), ("carol", 1), ("dave", 1)),
        note_after=1,
        code_yellow_after=4,
    )


def test_the_fourth_quarter_ends_at_new_year() -> None:
    rows = [hotfix(at("2026-10-01", "00:00")), hotfix(at("2027-01-01", "00:00"))]

    found = per_author(rows, at("2026-12-31", "23:59"), POLICY.author_quota)

    assert (found.quarter, found.people) == ("2026-Q4", (("bob", 1),))


# --- merge to healthy -------------------------------------------------------------------------


def test_merge_to_healthy_in_minutes_labelled_by_incident_or_pull_request() -> None:
    weeks = weeks_ending(NOW, 2)
    merged = at("2026-05-19", "10:00")
    rows = [
        hotfix(merged, number=7, incident=INCIDENT, deployed=merged + timedelta(minutes=42.5)),
        hotfix(at("2026-05-12", "08:00"), repo="acme/web", number=12),  # never deployed
        hotfix(merged, number=8, deployed=merged - timedelta(minutes=1)),  # skewed clocks
        hotfix(at("2026-05-13"), number=9, deployed=at("2026-05-13", "13:00"), drill=True),
        hotfix(at("2026-05-10"), number=10, deployed=at("2026-05-10", "12:05")),  # before W20
    ]

    assert merge_to_healthy(rows, weeks) == (
        ("acme/web#12", None),
        (INCIDENT, 42.5),
        (f"{REPO}#8", 0.0),
    )


def test_merge_to_healthy_shows_the_latest_twenty_oldest_first() -> None:
    first = at("2026-05-18", "00:00")
    rows = [
        hotfix(first + timedelta(hours=i), number=i, deployed=first + timedelta(hours=i, minutes=i))
        for i in range(22)
    ]

    points = merge_to_healthy(rows, weeks_ending(NOW, 1))

    assert points == tuple((f"{REPO}#{i}", float(i)) for i in range(2, 22))


# --- follow-ups -------------------------------------------------------------------------------


def test_follow_ups_per_week_of_their_due_time_on_time_and_overdue() -> None:
    weeks = weeks_ending(NOW, 2)
    due = at("2026-05-13", "09:00")
    rows = [
        follow_up(due, "done", done=due),  # done at the deadline: on time
        follow_up(due, "done", done=due - timedelta(hours=3)),
        follow_up(due, "done", done=due + timedelta(seconds=1)),  # late, since done
        follow_up(due, "overdue"),
        follow_up(due, "open"),
        follow_up(due, "waived"),
        follow_up(due, "overdue", drill=True),
        follow_up(at("2026-05-20"), "overdue"),
        follow_up(at("2026-05-10"), "overdue"),  # due before the first week
    ]

    assert follow_up_weeks(rows, weeks) == FollowUpWeeks(
        weeks=("2026-W20", "2026-W21"), on_time=(2, 0), overdue=(2, 1)
    )


# --- who sees what ----------------------------------------------------------------------------


def test_a_viewer_counts_only_the_repositories_they_can_read() -> None:
    found = TrendRows(
        hotfixes=(hotfix(NOW, repo="Acme/API"), hotfix(NOW, repo="acme/secret")),
        follow_ups=(follow_up(NOW, "overdue", repo="acme/secret"),),
    )

    seen = readable(found, Viewer(login="bob", readable=frozenset({"acme/api"})))

    assert seen == TrendRows(hotfixes=(hotfix(NOW, repo="Acme/API"),), follow_ups=())


# --- the page ---------------------------------------------------------------------------------


@pytest.fixture
async def open_web(
    make_settings: Callable[..., Settings],
    app_key: rsa.RSAPrivateKey,
    fake_github: FakeGitHub,
) -> AsyncIterator[Lane]:
    """The app with ``WEB_AUTH=none``; its clock on Wednesday of 2026-W21."""
    settings = make_settings(**app_settings(app_key), web_auth="none")
    async with running_lane(settings, fake_github) as lane:
        yield lane


def store(lane: Lane) -> None:
    """Two hotfixes and a drill, and three follow-ups, straight into the ledger."""
    merged = at("2026-05-18", "10:00")
    hotfixes = [
        hotfix_record(merged, deployed_at=merged + timedelta(minutes=42)),
        hotfix_record(
            at("2026-05-12", "10:00"),
            repo_full_name="acme/search",
            number=7,
            incident_id=None,
            author="carol",
        ),
        hotfix_record(merged, repo_full_name="acme/drills", number=1, drill=True),
    ]
    with lane.session() as session:
        session.add_all(hotfixes)
        session.commit()
        ids = [record.id for record in hotfixes]
        assert all(ids)
        rows: list[dict[str, Any]] = [
            {"hotfix_id": ids[0], "kind": "cleanup-pr", "due_at": at("2026-05-19", "10:00"),
             "state": "done", "done_at": at("2026-05-19", "09:00")},
            {"hotfix_id": ids[0], "kind": "postmortem", "due_at": at("2026-05-20", "08:00"),
             "state": "overdue"},
            {"hotfix_id": ids[2], "kind": "cleanup-pr", "due_at": at("2026-05-19", "10:00"),
             "state": "overdue"},
        ]  # fmt: skip
        for row in rows:
            session.add(FollowUp(**row, created_at=merged, updated_at=merged))
        session.commit()


def section(page: str, ident: str) -> ET.Element:
    """One chart's section, parsed: the SVG inside it must be well-formed XML."""
    found = re.search(rf'<section class="chart" id="{ident}">.*?</section>', page, re.DOTALL)
    assert found is not None, ident
    return ET.fromstring(found.group(0))


def table(element: ET.Element) -> list[list[str]]:
    body = element.find("details/table/tbody")
    assert body is not None
    return [[cell.text or "" for cell in row] for row in body.iter("tr")]


def tooltips(element: ET.Element) -> list[str]:
    svg = element.find(f"{SVG}svg")
    assert svg is not None
    return [title.text or "" for rect in svg.iter(f"{SVG}rect") for title in rect]


async def test_the_trends_page_charts_the_stored_hotfixes_and_follow_ups(open_web: Lane) -> None:
    store(open_web)

    response = await open_web.client.get("/trends")

    assert response.status_code == 200
    page = response.text
    assert "<h1>Trends</h1>" in page
    assert "12 ISO weeks, 2026-W10 to 2026-W21 (UTC)" in page

    per_week = section(page, "per-week")
    assert table(per_week)[-2:] == [["2026-W20", "0", "1", "1"], ["2026-W21", "1", "0", "1"]]
    assert len(table(per_week)) == 12
    assert tooltips(per_week) == ["acme/search, 2026-W20: 1", f"{REPO}, 2026-W21: 1"]
    headers = per_week.find("details/table/thead/tr")
    assert headers is not None
    assert [th.text for th in headers] == ["Week", REPO, "acme/search", "Total"]

    per_author = section(page, "per-author")
    assert table(per_author) == [
        ["bob", "1", "below thresholds"],
        ["carol", "1", "below thresholds"],
    ]
    caption = per_author.find("details/table/caption")
    assert caption is not None and caption.text == "Hotfixes per author, 2026-Q2"

    healthy = section(page, "merge-to-healthy")
    assert table(healthy) == [["acme/search#7", "no deployment"], [INCIDENT, "42"]]
    assert tooltips(healthy) == [f"{INCIDENT}: 42 min"]

    follow_ups = section(page, "follow-ups")
    assert table(follow_ups)[-1] == ["2026-W21", "1", "1"]
    assert sum(int(row[2]) for row in table(follow_ups)) == 1  # the drill's is not counted


async def test_with_nothing_stored_every_chart_says_so(open_web: Lane) -> None:
    page = (await open_web.client.get("/trends?weeks=1")).text

    for ident in ("per-week", "per-author", "merge-to-healthy", "follow-ups"):
        assert table(section(page, ident)) == [["Nothing in this period."]], ident


@pytest.mark.parametrize("weeks", ["0", "53", "-1", "twelve"])
async def test_weeks_out_of_range_are_400(open_web: Lane, weeks: str) -> None:
    response = await open_web.client.get(f"/trends?weeks={weeks}")

    assert response.status_code == 400
    assert response.json() == {"detail": "weeks must be a whole number from 1 to 52"}
