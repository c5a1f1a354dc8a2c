"""The recurring jobs, end to end: the runbook's freshness check (daily at 00:00 UTC) and the
weekly digest (Mondays 09:00 UTC).

Only webhooks go in (GitHub faked by the shared respx fake, Slack by the local server); the
recurring jobs are seeded as a starting worker seeds them, time moves with the harness's
clock, and the assertions read the audit channel as the platform team sees it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from app.incidents import periodic
from app.jobs import recurring
from app.store.models import Job
from tests.fakes.slack_server import FakeSlackServer, SlackRequest
from tests.followups.test_followups_flow import link_postmortem, merge_hotfix, review_team
from tests.harness import AUDIT_CHANNEL
from tests.lane.conftest import only
from tests.lane.scenario import COMPLIANT_MESSAGE, Lane, Repo, commit_entry, pull_request
from tests.rows import hotfix_record

INCIDENT = "INC-2026-05-20-001"  # the fixture hotfix, merged 2026-05-20 09:52:31 UTC
STALE_MARKER = "RUNBOOK STALE: "
DIGEST_MARKER = "Weekly hotfix digest"

# A game day three months later: PR #4500, labelled hotfix-drill, merged 2026-08-25 10:00 UTC.
DRILL_NUMBER = 4500
DRILL_INCIDENT = "INC-2026-08-25-001"


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def seed(lane: Lane) -> None:
    """Queue the recurring jobs' next slots, as every worker does when it starts."""
    recurring.seed(lane.services.engine, periodic.RECURRING, now=lane.clock.now())


async def run_at(lane: Lane, when: datetime) -> None:
    lane.clock.set(when)
    await lane.run_due()


def stale_messages(slack_server: FakeSlackServer) -> list[SlackRequest]:
    return [
        message
        for message in slack_server.messages_in(AUDIT_CHANNEL)
        if message.body["text"].startswith(STALE_MARKER)
    ]


def stale_texts(slack_server: FakeSlackServer) -> list[str]:
    return [message.body["text"] for message in stale_messages(slack_server)]


def digests(slack_server: FakeSlackServer) -> list[SlackRequest]:
    return [
        message
        for message in slack_server.messages_in(AUDIT_CHANNEL)
        if message.body["text"].startswith(DIGEST_MARKER)
    ]


def stale_notices(lane: Lane) -> list[str]:
    """The stale-runbook notices in the outbox (sent or not): none may be waiting either."""
    return [row.text for row in lane.notices if row.kind == "runbook_stale"]


def header(message: SlackRequest) -> str:
    first = message.body["blocks"][0]
    assert first["type"] == "header"
    text: str = first["text"]["text"]
    return text


def fields(message: SlackRequest) -> dict[str, str]:
    """The labelled details under a message, as Slack shows them (``*Label*\\nvalue``)."""
    found: dict[str, str] = {}
    for block in message.body["blocks"]:
        for field in block.get("fields", []):
            label, _, value = field["text"].partition("\n")
            found[label.strip("*")] = value
    return found


def stale_text(org: str, since: str) -> str:
    return (
        f"RUNBOOK STALE: no hotfix or drill has merged in {org} {since} (stale after 90): "
        "run a drill, a pull request labelled hotfix-drill."
    )


def drill_pr(name: str) -> dict[str, Any]:
    """PR #4500, the game day's drill (labelled hotfix-drill), as webhook ``name`` has it."""
    payload = pull_request(name, number=DRILL_NUMBER)
    payload["number"] = DRILL_NUMBER
    pr = payload["pull_request"]
    pr["title"] = pr["title"].replace(INCIDENT, DRILL_INCIDENT)
    pr["body"] = pr["body"].replace(INCIDENT, DRILL_INCIDENT)
    pr["html_url"] = f"https://github.com/acme/bookstore-platform/pull/{DRILL_NUMBER}"
    pr["head"]["ref"] = f"hotfix/{DRILL_INCIDENT}-game-day"
    pr["labels"] += [{"name": "hotfix-drill"}]
    pr.update(created_at="2026-08-25T09:30:00Z", updated_at="2026-08-25T09:30:00Z")
    if pr.get("merged"):
        pr.update(merged_at="2026-08-25T10:00:00Z", updated_at="2026-08-25T10:00:01Z")
    return payload


async def merge_drill(lane: Lane, repo: Repo) -> None:
    repo.commits = [commit_entry(COMPLIANT_MESSAGE.replace(INCIDENT, DRILL_INCIDENT))]
    for name in ("pull_request.opened", "pull_request.closed"):
        await lane.deliver("pull_request", drill_pr(name))


# --- the runbook's freshness ------------------------------------------------------------------


async def test_a_runbook_unexercised_for_90_days_is_announced_once_then_monthly(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    review_team(repo, "dave")
    await merge_hotfix(lane)
    seed(lane)

    # 2026-08-18 00:00 is 89 days and 14 hours after the merge: not stale yet.
    await run_at(lane, at(2026, 8, 18))
    assert stale_texts(slack_server) == []

    # 2026-08-19 00:00, the 91st day: 90 whole days (and 14 hours) since the merge.
    await run_at(lane, at(2026, 8, 19))
    announced = only(stale_messages(slack_server))
    assert announced.body["text"] == stale_text("acme", "for 90 days")
    assert fields(announced) == {"Last worked": f"{INCIDENT} on 2026-05-20"}
    assert header(announced) == "Runbook not exercised"
    assert announced.thread_ts is None  # about the organisation, not a thread of a hotfix

    # The next day's check finds the same stale spell: it was announced already.
    await run_at(lane, at(2026, 8, 20))
    await run_at(lane, at(2026, 9, 17))  # 119 days: not yet a month after the announcement
    assert len(stale_messages(slack_server)) == 1

    # 30 days after the announcement, still nothing merged: reminded.
    await run_at(lane, at(2026, 9, 18))
    first, reminder = stale_messages(slack_server)
    assert first == announced
    assert reminder.body["text"] == stale_text("acme", "for 120 days")
    assert fields(reminder) == {"Last worked": f"{INCIDENT} on 2026-05-20"}


async def test_a_merged_drill_exercises_the_runbook(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    review_team(repo, "dave")
    await merge_hotfix(lane)
    seed(lane)
    await run_at(lane, at(2026, 8, 19))
    assert stale_texts(slack_server) == [stale_text("acme", "for 90 days")]

    lane.clock.set(datetime(2026, 8, 25, 10, 0, 30, tzinfo=UTC))
    await merge_drill(lane, repo)
    assert [(row.number, row.drill) for row in lane.ledger] == [(4321, False), (4500, True)]

    # The next check, and the day the monthly reminder would have come: nothing to say.
    await run_at(lane, at(2026, 8, 26))
    await run_at(lane, at(2026, 9, 18))

    assert stale_texts(slack_server) == [stale_text("acme", "for 90 days")]
    assert stale_notices(lane) == [stale_text("acme", "for 90 days")]


async def test_an_organisation_that_never_merged_counts_from_its_first_evaluation(
    lane: Lane, slack_server: FakeSlackServer
) -> None:
    # The fixture PR is opened and evaluated at 2026-05-20 09:50; it never merges.
    await lane.deliver("pull_request", pull_request("pull_request.opened"))
    seed(lane)

    await run_at(lane, at(2026, 8, 18))  # 89 days and 14 hours later
    assert stale_texts(slack_server) == []

    await run_at(lane, at(2026, 8, 19))

    announced = only(stale_messages(slack_server))
    assert announced.body["text"] == stale_text(
        "acme", "since hotfix-lane was installed 90 days ago"
    )
    assert fields(announced) == {"Last worked": "never"}
    assert lane.ledger == []


# --- the weekly digest ------------------------------------------------------------------------


async def test_the_weekly_digest_gives_the_weeks_figures_and_queues_the_next_week(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    # Earlier that week @erin merged three hotfixes in acme/inventory (so the fixture PR trips
    # the rate limit when it opens) and ran a drill there.
    earlier = [at(2026, 5, 18, 12), at(2026, 5, 19, 8), at(2026, 5, 19, 16)]
    for number, merged_at in enumerate(earlier, start=100):
        lane.record_hotfix(
            hotfix_record(
                merged_at,
                repo_full_name="acme/inventory",
                number=number,
                author="erin",
                incident_id=f"INC-{merged_at:%Y-%m-%d}-{number - 99:03d}",
                head_sha=f"{number:040d}",
            )
        )
    lane.record_hotfix(
        hotfix_record(
            at(2026, 5, 18, 15),
            repo_full_name="acme/inventory",
            number=103,
            author="erin",
            incident_id="INC-2026-05-18-900",
            head_sha=f"{103:040d}",
            drill=True,
        )
    )
    review_team(repo, "dave")
    await merge_hotfix(lane)  # by @bob, Wednesday 2026-05-20
    seed(lane)
    await link_postmortem(lane, repo)  # on time; the cleanup PR never comes
    await run_at(lane, at(2026, 5, 21, 10))  # the cleanup PR was due at 09:52
    assert digests(slack_server) == []

    await run_at(lane, at(2026, 5, 25, 9))  # Monday 09:00

    digest = only(digests(slack_server))
    assert digest.body["text"] == (
        "Weekly hotfix digest for acme, 2026-05-18 to 2026-05-25: 4 hotfixes (1 drill), "
        "follow-ups 1 on time and 1 overdue, rate limit tripped once."
    )
    assert fields(digest) == {
        "Hotfixes by repository": "acme/inventory 3, acme/bookstore-platform 1",
        "Hotfixes by author": "@erin 3, @bob 1",
        "Follow-ups": "1 on time, 1 overdue, 0 open",
        "Rate-limit trips": "1",
    }
    assert header(digest) == "Weekly hotfix digest"
    assert digest.thread_ts is None
    done, queued = lane.jobs(periodic.DIGEST_JOB)
    assert (done.key, done.status) == ("weekly-digest:2026-05-25T09:00", "done")
    assert (queued.key, queued.status, queued.run_at) == (
        "weekly-digest:2026-06-01T09:00",
        "queued",
        at(2026, 6, 1, 9).timestamp(),
    )


# --- each slot once ---------------------------------------------------------------------------


async def test_two_processes_seeding_queue_each_slot_once(lane: Lane) -> None:
    seed(lane)
    lane.clock.advance(minutes=1)  # the second process starts a minute later
    seed(lane)

    assert [(job.kind, job.key, job.status, job.run_at) for job in lane.jobs()] == [
        (
            periodic.FRESHNESS_JOB,
            "runbook-freshness:2026-05-21T00:00",
            "queued",
            at(2026, 5, 21).timestamp(),
        ),
        (
            periodic.DIGEST_JOB,
            "weekly-digest:2026-05-25T09:00",
            "queued",
            at(2026, 5, 25, 9).timestamp(),
        ),
    ]


async def test_a_slot_run_twice_posts_its_digest_once(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    review_team(repo, "dave")
    await merge_hotfix(lane)
    seed(lane)
    await run_at(lane, at(2026, 5, 25, 9))
    assert len(digests(slack_server)) == 1

    # The worker dies after the run, before it marks the job done: its lease runs out and
    # another worker runs the slot again.
    with lane.services.engine.begin() as conn:
        conn.execute(
            update(Job)
            .where(col(Job.key) == "weekly-digest:2026-05-25T09:00")
            .values(status="running", lease_until=0)
        )
    assert await lane.run_due() == 1
    assert len(digests(slack_server)) == 1
    assert [(job.key, job.status) for job in lane.jobs(periodic.DIGEST_JOB)] == [
        ("weekly-digest:2026-05-25T09:00", "done"),
        ("weekly-digest:2026-06-01T09:00", "queued"),
    ]

    await lane.run_due_later()  # and every job waiting for later, at once

    # The next week's slot ran too (its audit review falls due then); this week's, once.
    assert [row.key for row in lane.notices if row.kind == "weekly_digest"] == [
        "weekly-digest:acme:2026-05-25",
        "weekly-digest:acme:2026-06-01",
    ]


async def test_github_down_at_the_check_still_announces_and_keeps_the_series(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    await merge_hotfix(lane)
    seed(lane)
    repo.down = True  # the organisation's policy cannot be read: its defaults are used

    await run_at(lane, at(2026, 8, 19))

    assert stale_texts(slack_server) == [stale_text("acme", "for 90 days")]
    assert [
        (job.key, job.status) for job in lane.jobs(periodic.FRESHNESS_JOB) if job.status != "done"
    ] == [("runbook-freshness:2026-08-20T00:00", "queued")]
