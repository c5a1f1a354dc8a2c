"""The named approver confirms: a name in a commit message is not agreement (runbook step 1)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import load_fixture
from tests.fakes.slack_server import FakeSlackServer
from tests.harness import AUDIT_CHANNEL
from tests.lane.scenario import Lane, Repo, pull_request, review_entry

WAITING = (
    "approver-confirmed: Waiting for @alice to confirm: an approving review on the head "
    "commit, or `/hotfix approve` in a comment."
)
_MARKER = re.compile(r"\n\n<!-- hotfix-lane:[^>]* -->$")


@pytest.fixture
def unconfirmed(lane: Lane) -> Lane:
    lane.approver_confirms = False
    return lane


def says(body: str, *, by: str) -> dict[str, Any]:
    payload = load_fixture("issue_comment.created")
    payload["comment"]["body"] = body
    payload["comment"]["user"]["login"] = by
    payload["sender"]["login"] = by
    return payload


def replies(repo: Repo) -> list[str]:
    return [_MARKER.sub("", c["body"]) for c in repo.comments.get(4321, [])]


async def test_a_hotfix_waits_for_its_named_approver(unconfirmed: Lane) -> None:
    await unconfirmed.deliver("pull_request", pull_request())

    status = unconfirmed.statuses[-1]
    assert (status["state"], status["description"]) == ("pending", WAITING)


async def test_only_the_named_approver_can_confirm_and_a_push_asks_again(
    unconfirmed: Lane, repo: Repo
) -> None:
    await unconfirmed.deliver("pull_request", pull_request())

    await unconfirmed.deliver("issue_comment", says("/hotfix approve", by="dave"))
    assert unconfirmed.statuses[-1]["state"] == "pending"
    assert replies(repo) == [
        "@dave only the named approver (@alice) can confirm this hotfix with "
        "`/hotfix approve`; this comment changes nothing."
    ]

    await unconfirmed.deliver("issue_comment", says("/hotfix approve", by="alice"))
    assert unconfirmed.statuses[-1]["state"] == "success"

    pushed = pull_request("pull_request.synchronize")
    pushed["pull_request"]["head"]["sha"] = "6" * 40
    await unconfirmed.deliver("pull_request", pushed)
    assert unconfirmed.sent("POST", f"/statuses/{'6' * 40}")[-1]["description"] == WAITING


async def test_an_approving_review_on_the_head_confirms(unconfirmed: Lane, repo: Repo) -> None:
    repo.reviews = [review_entry("alice")]

    await unconfirmed.deliver("pull_request", pull_request())

    assert unconfirmed.statuses[-1]["state"] == "success"


async def test_a_hotfix_merged_without_its_approver_confirming_is_a_violation(
    unconfirmed: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    await unconfirmed.deliver("pull_request", pull_request())
    merged = pull_request("pull_request.closed")
    merged["pull_request"]["merged_by"]["login"] = "carol"

    await unconfirmed.deliver("pull_request", merged)

    texts = [m.body["text"] for m in slack_server.messages_in(AUDIT_CHANNEL)]
    assert (
        "VIOLATION: @carol merged PR #4321 (HOTFIX: INC-2026-05-20-001 catalog nil-deref on "
        "missing tenant header) without its named approver @alice confirming it (an approving "
        "review or /hotfix approve on the head)"
    ) in texts


async def test_the_approver_who_merges_confirms_by_merging(
    unconfirmed: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"alice"}
    await unconfirmed.deliver("pull_request", pull_request())
    merged = pull_request("pull_request.closed")
    merged["pull_request"]["merged_by"]["login"] = "alice"

    await unconfirmed.deliver("pull_request", merged)

    assert not [
        m
        for m in slack_server.messages_in(AUDIT_CHANNEL)
        if "without its named approver" in m.body["text"]
    ]
