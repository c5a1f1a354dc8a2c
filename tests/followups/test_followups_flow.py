"""After the merge, end to end: the tracking issue, the follow-ups and their deadlines.

Only webhooks go in (GitHub faked by the shared respx fake, Slack by the local server), time
moves with the harness's clock, and the assertions read what people see: the tracking issue's
task-list lines, the replies, the Slack texts and what the CLI prints.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.settings import Settings
from app.store.models import TrackingIssue
from tests.conftest import load_fixture
from tests.fakes.github import API_URL, NUMBER, REPO, FakeGitHub, load, reply
from tests.fakes.slack_server import FakeSlackServer, SlackRequest
from tests.harness import AUDIT_CHANNEL
from tests.lane.conftest import only
from tests.lane.scenario import (
    JUST_MERGED,
    Lane,
    Repo,
    file_entry,
    pull_request,
    review_entry,
    running_lane,
)

INCIDENT = "INC-2026-05-20-001"
TITLE = f"Hotfix follow-up: {INCIDENT} (#{NUMBER})"
ISSUE = 5001  # the number the fake GitHub gives the first issue opened
HOTFIX = f"{INCIDENT} ({REPO}#{NUMBER})"
CREATE_ISSUE = f"POST /repos/{REPO}/issues"
# The admin merge's audit notice is the first Slack message: every follow-up answers it.
HOTFIX_THREAD = "1700000000.000100"

CLEANUP_LINE = "- [ ] cleanup PR: owner @bob, due 2026-05-21 09:52 UTC"
POSTMORTEM_LINE = "- [ ] postmortem: owner @bob, due 2026-05-22 09:52 UTC"
AUDIT_LINE = "- [ ] audit review: owner @acme/platform-team, due 2026-05-27 09:52 UTC"

CLEANUP_NUMBER = 4400
CLEANUP_SHA = "c1ea4e00" * 5
POSTMORTEM_PATH = f"docs/postmortems/{INCIDENT}.md"
# The fake GitHub is an Enterprise Server: its web pages are at the API's host.
WEB_URL = API_URL.removesuffix("/api/v3")
POSTMORTEM_URL = f"{WEB_URL}/{REPO}/blob/main/{POSTMORTEM_PATH}"
POSTMORTEM = f"""# Postmortem: {INCIDENT}

## Why was a hotfix needed?
The suite takes 30 minutes; the customer-impact clock was 15.

## Was the branch protection bypass justified?
Yes: no rollback target.

## Was the breakglass IAM role used?
No.

## Cleanup PR status
#4400, merged.
"""
CHECKLIST_URL = f"{WEB_URL}/{REPO}/issues/4410"

HELP = (
    "The `/hotfix` commands, on a hotfix PR or its tracking issue:\n"
    "\n"
    "- `/hotfix approve`: the named approver confirms the hotfix at its current head.\n"
    "- `/hotfix team-reviewed`: a review-team member signs off a hotfix past the rate limit.\n"
    "- `/hotfix postmortem <URL>`: the cleanup owner, author or approver links the postmortem.\n"
    "- `/hotfix audit-reviewed`: a review-team member who is not the author, the approver or "
    "who merged it records the audit-log review.\n"
    "- `/hotfix breakglass-cleaned <URL>`: links the finished breakglass cleanup checklist "
    "(only when the breakglass role was used).\n"
    "- `/hotfix help`: lists these commands."
)


@pytest.fixture
def lane_settings(lane_settings: Settings, database_url: str) -> Settings:
    """The lane's settings, on SQLite and (when configured) on PostgreSQL: the follow-ups'
    "exactly once" rests on each database's own unique keys and conflict handling."""
    return lane_settings.model_copy(update={"database_url": database_url})


# --- what people see --------------------------------------------------------------------------

_MARKER = re.compile(r"\n\n<!-- hotfix-lane:[^>]* -->$")


def task_lines(repo: Repo) -> list[str]:
    """The tracking issue's task-list lines, as GitHub renders its body."""
    return [line for line in repo.tracking_issue["body"].splitlines() if line.startswith("- [")]


def replies(repo: Repo, number: int = ISSUE) -> list[str]:
    """The comments on issue or PR ``number``, without the hidden marker people do not see."""
    return [_MARKER.sub("", entry["body"]) for entry in repo.comments.get(number, [])]


def slack_texts(slack_server: FakeSlackServer) -> list[str]:
    return [message.body["text"] for message in slack_server.messages_in(AUDIT_CHANNEL)]


def slack_message(slack_server: FakeSlackServer, starts: str) -> SlackRequest:
    """The one Slack message whose text starts with ``starts``."""
    message: SlackRequest = only(
        [m for m in slack_server.messages_in(AUDIT_CHANNEL) if m.body["text"].startswith(starts)]
    )
    return message


# --- what comes in ----------------------------------------------------------------------------


async def merge_hotfix(lane: Lane, *, labels: tuple[str, ...] = ()) -> None:
    """Open the compliant hotfix (green), then merge it as @carol past branch protection; the
    clock then stands just after the merge (09:52:31)."""
    for name in ("pull_request.opened", "pull_request.closed"):
        payload = pull_request(name)
        payload["pull_request"]["labels"] += [{"name": label} for label in labels]
        await lane.deliver("pull_request", payload)
    lane.clock.set(JUST_MERGED)


def review_team(repo: Repo, *members: str) -> None:
    """@carol may merge past protection; ``members`` are the audit-review team."""
    repo.teams["platform-admins"] = {"carol"}
    repo.teams["platform-team"] = set(members)


@pytest.fixture
async def merged(lane: Lane, repo: Repo) -> Lane:
    """The hotfix, merged by @carol; @dave is on the review team."""
    review_team(repo, "dave")
    await merge_hotfix(lane)
    return lane


def cleanup_pr(name: str) -> dict[str, Any]:
    """PR #4400 by @bob, the return to the normal flow (runbook step 7), as webhook ``name``
    has it; @bob merges it."""
    payload = pull_request(
        name,
        number=CLEANUP_NUMBER,
        title=f"Cleanup: {INCIDENT} catalog hotfix - tests + docs",
        body=f"Follows hotfix #{NUMBER} in {INCIDENT}.\n\nReviewers: standard flow; no bypass.\n",
        labels=[],
        html_url=f"https://github.com/{REPO}/pull/{CLEANUP_NUMBER}",
        created_at="2026-05-20T13:00:00Z",
    )
    payload["number"] = CLEANUP_NUMBER
    pr = payload["pull_request"]
    pr["head"].update(ref=f"cleanup/{INCIDENT}-catalog-tests", sha=CLEANUP_SHA)
    if pr.get("merged"):
        pr["merged_at"] = "2026-05-20T14:50:00Z"
        pr["merged_by"]["login"] = "bob"
    return payload


async def merge_cleanup(lane: Lane, repo: Repo, *, approved: bool) -> None:
    """Open the cleanup PR at 14:49 (a regression test, its rules green), then merge it at
    14:50, handled at 14:51: with an approving review through branch protection, or without
    one past it."""
    repo.files = [file_entry("services/catalog/middleware/tenant_test.go", 40)]
    lane.clock.set(JUST_MERGED.replace(hour=14, minute=49))
    await lane.deliver("pull_request", cleanup_pr("pull_request.opened"))
    assert lane.statuses[-1]["state"] == "success"
    if approved:
        review = review_entry("alice")
        review["commit_id"] = CLEANUP_SHA
        repo.reviews = [review]
    lane.clock.set(JUST_MERGED.replace(hour=14, minute=51))
    await lane.deliver("pull_request", cleanup_pr("pull_request.closed"))


def comment(body: str, *, by: str, on: int = ISSUE) -> dict[str, Any]:
    """An issue_comment.created delivery: ``by`` comments ``body`` on the tracking issue (or
    on the hotfix PR, ``on=NUMBER``)."""
    payload = load_fixture("issue_comment.created")
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = by
    payload["sender"]["login"] = by
    if on != NUMBER:
        issue = payload["issue"]
        del issue["pull_request"]
        issue.update(
            number=on,
            title=TITLE,
            html_url=f"{WEB_URL}/{REPO}/issues/{on}",
            labels=[{"name": "hotfix-follow-up"}],
            user=load("issue_comment_created")["user"],  # the App's bot opened it
        )
    return payload


async def say(lane: Lane, body: str, *, by: str, on: int = ISSUE) -> None:
    await lane.deliver("issue_comment", comment(body, by=by, on=on))


async def link_postmortem(lane: Lane, repo: Repo) -> None:
    repo.files_at[("main", POSTMORTEM_PATH)] = POSTMORTEM
    await say(lane, f"/hotfix postmortem {POSTMORTEM_URL}", by="bob")


# --- the tracking issue -----------------------------------------------------------------------


async def test_a_merged_hotfix_opens_one_tracking_issue_listing_its_follow_ups(
    merged: Lane, repo: Repo
) -> None:
    issue = repo.tracking_issue
    assert issue["title"] == TITLE
    assert [label["name"] for label in issue["labels"]] == ["hotfix-follow-up"]
    assert task_lines(repo) == [CLEANUP_LINE, POSTMORTEM_LINE, AUDIT_LINE]
    body = issue["body"]
    for row in (
        f"| Incident | {INCIDENT} |",
        "| Approver | @alice |",
        "| Cleanup owner | @bob |",
        "| Merged by | @carol (admin bypass: 0 approving review(s), 1 required) |",
    ):
        assert row in body.splitlines()
    assert merged.requests("POST").count(CREATE_ISSUE) == 1
    assert issue["comments"] == []


async def test_a_redelivered_merge_opens_no_second_issue(merged: Lane, repo: Repo) -> None:
    closed = only([d for d in merged.deliveries if d.action == "closed"])

    # GitHub's "Redeliver" keeps the delivery id; a second delivery of the merge has its own.
    await merged.deliver("pull_request", pull_request("pull_request.closed"), delivery=closed.id)
    await merged.deliver("pull_request", pull_request("pull_request.closed"))
    await merged.run_due_later()

    assert repo.tracking_issue["title"] == TITLE
    assert merged.requests("POST").count(CREATE_ISSUE) == 1
    assert len(merged.ledger) == 1


def answer_once(
    fake_github: FakeGitHub, request: str, answer: Callable[[], httpx.Response]
) -> None:
    """GitHub does the next ``request`` (``METHOD /path``), but the App gets ``answer()``."""
    method, path = request.split(" ", 1)
    probe = httpx.Request(method, f"{API_URL}{path}")
    route = next(route for route in fake_github.router.routes if route.pattern.match(probe))
    github_does = route.side_effect
    assert callable(github_does)

    def once(request: httpx.Request, **groups: str) -> httpx.Response:
        route.mock(side_effect=github_does)
        github_does(request, **groups)
        return answer()

    route.mock(side_effect=once)


def worker_killed() -> httpx.Response:
    """The job dies right after GitHub did what it asked, before it records that."""
    raise RuntimeError("worker killed")


async def test_an_issue_opened_by_a_job_that_died_is_adopted(
    lane: Lane, repo: Repo, fake_github: FakeGitHub
) -> None:
    review_team(repo, "dave")
    answer_once(fake_github, CREATE_ISSUE, worker_killed)  # before the number is stored
    await merge_hotfix(lane)

    issue = repo.tracking_issue
    assert issue["user"]["login"] == "hotfix-lane[bot]"
    assert only(lane.rows(TrackingIssue)).number is None
    assert only(lane.jobs("hotfix-recorded")).status == "queued"  # to be retried

    await lane.run_due_later()

    assert lane.requests("POST").count(CREATE_ISSUE) == 1
    assert only(lane.rows(TrackingIssue)).number == issue["number"] == ISSUE
    assert only(lane.jobs("hotfix-recorded")).status == "done"
    assert task_lines(repo) == [CLEANUP_LINE, POSTMORTEM_LINE, AUDIT_LINE]


async def test_an_issue_github_opened_but_answered_502_for_is_not_opened_twice(
    lane: Lane, repo: Repo, fake_github: FakeGitHub
) -> None:
    review_team(repo, "dave")
    answer_once(fake_github, CREATE_ISSUE, lambda: reply(load("server_error"), status=502))
    await merge_hotfix(lane)
    await lane.run_due_later()

    assert repo.tracking_issue["title"] == TITLE


# --- the cleanup PR ---------------------------------------------------------------------------


async def test_a_cleanup_pr_merged_through_the_normal_flow_ticks_the_cleanup_line(
    merged: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    await merge_cleanup(merged, repo, approved=True)

    assert task_lines(repo) == [
        "- [x] cleanup PR: owner @bob, due 2026-05-21 09:52 UTC; "
        "done 2026-05-20 14:51 UTC by @bob (#4400)",
        POSTMORTEM_LINE,
        AUDIT_LINE,
    ]
    done = slack_message(slack_server, "Done:")
    assert done.body["text"] == f"Done: the cleanup PR of {HOTFIX}, by @bob"
    assert (done.thread_ts, done.reply_broadcast) == (HOTFIX_THREAD, False)
    assert replies(repo) == []


async def test_a_cleanup_pr_merged_past_branch_protection_does_not_count(
    merged: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    await merge_cleanup(merged, repo, approved=False)

    assert task_lines(repo) == [CLEANUP_LINE, POSTMORTEM_LINE, AUDIT_LINE]
    assert replies(repo) == [
        "Cleanup PR #4400 was merged, but by bypassing branch protection, so it does not close "
        "the cleanup follow-up: the return to the normal flow goes through branch protection "
        "and the full pipeline (runbook step 7). Open a cleanup PR that does."
    ]
    assert not any(text.startswith("Done:") for text in slack_texts(slack_server))


# --- /hotfix commands -------------------------------------------------------------------------


async def test_the_postmortem_is_recorded_only_when_complete_and_by_whom_may(
    merged: Lane, repo: Repo
) -> None:
    repo.files_at[("main", POSTMORTEM_PATH)] = POSTMORTEM.replace("Cleanup PR status", "Cleanup")
    await say(merged, f"/hotfix postmortem {POSTMORTEM_URL}", by="bob")
    repo.files_at[("main", POSTMORTEM_PATH)] = POSTMORTEM
    await say(merged, f"/hotfix postmortem {POSTMORTEM_URL}", by="erin")
    assert task_lines(repo)[1] == POSTMORTEM_LINE

    await say(merged, f"/hotfix postmortem {POSTMORTEM_URL}", by="bob")

    assert replies(repo) == [
        "@bob the postmortem has no heading for: **cleanup status** (runbook step 8: why a "
        "hotfix was needed, whether the bypass was justified, whether breakglass was used, "
        "the cleanup PR's status). The postmortem stays open.",
        "@erin only the cleanup owner, the author or the approver of this hotfix (@bob, "
        "@alice) can link its postmortem.",
        f"Postmortem recorded: {POSTMORTEM_URL}",
    ]
    assert task_lines(repo)[1] == (
        f"- [x] postmortem: owner @bob, due 2026-05-22 09:52 UTC; done 2026-05-20 09:53 UTC "
        f"by @bob ({POSTMORTEM_URL})"
    )


async def test_the_audit_review_is_recorded_by_a_reviewer_who_took_no_part(
    lane: Lane, repo: Repo
) -> None:
    review_team(repo, "bob", "dave")  # the author is on the team, and still may not
    await merge_hotfix(lane)

    await say(lane, "/hotfix audit-reviewed", by="bob", on=NUMBER)
    assert task_lines(repo)[2] == AUDIT_LINE
    await say(lane, "/hotfix audit-reviewed", by="dave")

    assert replies(repo, NUMBER) == [
        "@bob the audit review is recorded by a member of @acme/platform-team who is not the "
        "author, the approver or who merged this hotfix (@bob, @alice, @carol)."
    ]
    assert replies(repo) == ["Audit review recorded by @dave."]
    assert task_lines(repo)[2] == (
        "- [x] audit review: owner @acme/platform-team, due 2026-05-27 09:52 UTC; "
        "done 2026-05-20 09:53 UTC by @dave"
    )


async def test_the_last_follow_up_done_closes_the_issue_with_a_summary(
    merged: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    await merge_cleanup(merged, repo, approved=True)
    await link_postmortem(merged, repo)
    assert repo.tracking_issue["state"] == "open"

    await say(merged, "/hotfix audit-reviewed", by="dave")

    closing = [sent for sent in merged.sent("PATCH", f"/issues/{ISSUE}") if "state" in sent]
    assert closing == [{"state": "closed", "state_reason": "completed"}]
    assert repo.tracking_issue["state"] == "closed"
    postmortem, summary, reply = replies(repo)
    assert (postmortem, reply) == (
        f"Postmortem recorded: {POSTMORTEM_URL}",
        "Audit review recorded by @dave.",
    )
    assert summary.splitlines() == [
        f"Every follow-up of hotfix #{NUMBER} is done; closing this issue.",
        "",
        *task_lines(repo),
    ]
    assert all(line.startswith("- [x] ") for line in task_lines(repo))
    complete = slack_message(slack_server, "Every follow-up")
    assert complete.body["text"] == (
        f"Every follow-up of {HOTFIX} is done; the tracking issue is closed"
    )
    assert complete.thread_ts == HOTFIX_THREAD


# --- deadlines --------------------------------------------------------------------------------


def posts(lane: Lane) -> list[str]:
    """Every comment, issue, status and check run sent to the repository so far."""
    return [request for request in lane.requests("POST") if request.startswith("POST /repos/")]


async def test_a_missed_deadline_is_announced_once_across_runs_and_restarts(
    lane_settings: Settings, fake_github: FakeGitHub, repo: Repo, slack_server: FakeSlackServer
) -> None:
    review_team(repo, "dave")
    async with running_lane(lane_settings, fake_github) as lane:
        await merge_hotfix(lane)
        # The deadline's job dies after its comment, as it rewrites the issue: it is retried.
        answer_once(fake_github, f"PATCH /repos/{REPO}/issues/{ISSUE}", worker_killed)
        lane.clock.advance(hours=24)  # past the cleanup PR's deadline, 09:52:31 the next day
        await lane.run_due()
        await lane.run_due()
        posted = posts(lane)
        assert [job.status for job in lane.jobs("follow-up-due") if job.attempts] == ["queued"]

    async with running_lane(lane_settings, fake_github) as restarted:
        restarted.clock.advance(hours=24, minutes=5)
        await restarted.run_due()  # the retry
        await restarted.run_due()
        await restarted.run_due_later()  # even the jobs waiting for later deadlines
        assert posts(restarted) == posted
        assert [job.status for job in restarted.jobs("follow-up-due") if job.attempts] == ["done"]

    overdue = slack_message(slack_server, "OVERDUE")
    assert overdue.body["text"] == (
        f"OVERDUE: the cleanup PR of {HOTFIX} was due 2026-05-21 09:52 UTC; owner @bob"
    )
    assert (overdue.thread_ts, overdue.reply_broadcast) == (HOTFIX_THREAD, True)
    assert replies(repo) == [
        "**OVERDUE**: the cleanup PR of this hotfix was due 2026-05-21 09:52 UTC; owner @bob. "
        "The runbook's follow-ups are not optional: close it or explain here why it is late."
    ]
    assert task_lines(repo) == [f"{CLEANUP_LINE}; **OVERDUE**", POSTMORTEM_LINE, AUDIT_LINE]
    assert len(slack_server.messages_in(AUDIT_CHANNEL)) == 2  # the admin merge, then OVERDUE


async def test_the_owner_is_reminded_a_quarter_of_the_window_before_the_deadline(
    merged: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    merged.clock.advance(hours=17, minutes=59)  # 03:52:00; the reminder is at 03:52:31
    await merged.run_due()
    assert replies(repo) == []

    merged.clock.advance(minutes=1)
    await merged.run_due()

    assert replies(repo) == [
        "@bob reminder: the cleanup PR of this hotfix is due 2026-05-21 09:52 UTC."
    ]
    reminder = slack_message(slack_server, "Reminder:")
    assert reminder.body["text"] == (
        f"Reminder: the cleanup PR of {HOTFIX} is due 2026-05-21 09:52 UTC; owner @bob"
    )
    assert (reminder.thread_ts, reminder.reply_broadcast) == (HOTFIX_THREAD, False)
    assert task_lines(repo) == [CLEANUP_LINE, POSTMORTEM_LINE, AUDIT_LINE]


async def test_help_and_an_unknown_command_are_answered_with_the_commands(
    merged: Lane, repo: Repo
) -> None:
    await say(merged, "/hotfix help", by="erin")
    await say(merged, "/hotfix frobnicate now", by="erin", on=NUMBER)

    assert replies(repo) == [HELP]
    assert replies(repo, NUMBER) == [
        HELP.replace(
            "The `/hotfix` commands, on a hotfix PR or its tracking issue:",
            "`/hotfix frobnicate` is not a command. These are:",
        )
    ]


# --- breakglass -------------------------------------------------------------------------------


async def test_a_breakglass_hotfix_owes_its_cleanup_checklist(lane: Lane, repo: Repo) -> None:
    review_team(repo, "dave")
    await merge_hotfix(lane, labels=("breakglass",))
    assert task_lines(repo) == [
        CLEANUP_LINE,
        POSTMORTEM_LINE,
        AUDIT_LINE,
        "- [ ] breakglass cleanup: owner @bob, due 2026-05-21 09:52 UTC",
    ]

    await say(lane, f"/hotfix breakglass-cleaned {CHECKLIST_URL}", by="bob")

    assert replies(repo) == [f"Breakglass cleanup recorded: {CHECKLIST_URL}"]
    assert task_lines(repo)[3] == (
        "- [x] breakglass cleanup: owner @bob, due 2026-05-21 09:52 UTC; "
        f"done 2026-05-20 09:53 UTC by @bob ({CHECKLIST_URL})"
    )


# --- the CLI ----------------------------------------------------------------------------------


async def test_the_cli_lists_overdue_follow_ups_and_shows_an_incident(
    merged: Lane,
    lane_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    merged.clock.advance(hours=24)
    await merged.run_due()
    monkeypatch.chdir(tmp_path)  # no .env of the working tree
    monkeypatch.setenv("HOTFIX_LANE_DATABASE_URL", lane_settings.database_url)
    capsys.readouterr()

    assert main(["followups", "list", "--overdue", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "incident_id": INCIDENT,
            "repository": REPO,
            "number": NUMBER,
            "follow_up": "cleanup PR",
            "owner": "bob",
            "due_at": "2026-05-21T09:52:31+00:00",
            "state": "overdue",
            "done_at": None,
            "done_by": None,
            "evidence": None,
        }
    ]
    assert main(["followups", "show", INCIDENT]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{TITLE} in {REPO}, merged by @carol",
        f"{CLEANUP_LINE}; **OVERDUE**",
        POSTMORTEM_LINE,
        AUDIT_LINE,
    ]


# --- a changed policy ----------------------------------------------------------------------


async def test_a_shorter_deadline_in_a_changed_policy_moves_the_job_and_the_line(
    merged: Lane, repo: Repo
) -> None:
    repo.repo_policy = "follow_ups:\n  cleanup_hours: 2\n"

    await merged.deliver("push", load_fixture("push"))

    assert task_lines(repo)[0] == "- [ ] cleanup PR: owner @bob, due 2026-05-20 11:52 UTC"
    (due,) = [job for job in merged.jobs("follow-up-due") if job.key.endswith(":1")]
    assert due.run_at == pytest.approx(
        JUST_MERGED.replace(hour=11, minute=52, second=31).timestamp()
    )

    merged.clock.set(JUST_MERGED.replace(hour=12))
    await merged.run_due()

    assert task_lines(repo)[0] == (
        "- [ ] cleanup PR: owner @bob, due 2026-05-20 11:52 UTC; **OVERDUE**"
    )
