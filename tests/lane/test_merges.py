"""Merges: the bypass decision, the ledger and the audit channel (Slack faked on 127.0.0.1)."""

from __future__ import annotations

import json
from typing import Any

from app.settings import Settings
from tests.conftest import load_fixture
from tests.fakes.github import FakeGitHub
from tests.fakes.slack_server import FakeSlackServer, Reply
from tests.harness import AUDIT_CHANNEL
from tests.lane.conftest import SLACK_TOKEN, only
from tests.lane.scenario import (
    Lane,
    Repo,
    check_run_entry,
    pull_request,
    review_entry,
    running_lane,
)

TITLE = "HOTFIX: INC-2026-05-20-001 catalog nil-deref on missing tenant header"
URL = "https://github.com/acme/bookstore-platform/pull/4321"


def merged(**changes: Any) -> dict[str, Any]:
    return pull_request("pull_request.closed", **changes)


def fields(message: Any) -> dict[str, str]:
    """The labelled fields of a posted Block Kit message, as ``{label: value}``."""
    found: dict[str, str] = {}
    for block in (
        json.loads(message.body["blocks"])
        if isinstance(message.body["blocks"], str)
        else message.body["blocks"]
    ):
        for field in block.get("fields", []):
            label, _, value = field["text"].partition("*\n")
            found[label.strip("*")] = value
    return found


async def merge_hotfix(lane: Lane, repo: Repo, *, by: str = "carol") -> None:
    """Open the compliant hotfix (green), then merge it as ``by`` without a review."""
    await lane.deliver("pull_request", pull_request())
    payload = merged()
    payload["pull_request"]["merged_by"]["login"] = by
    await lane.deliver("pull_request", payload)


async def test_an_admin_merge_by_a_bypass_team_member_is_announced(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}

    await merge_hotfix(lane, repo)

    message = only(slack_server.messages_in(AUDIT_CHANNEL))
    assert message.token == SLACK_TOKEN
    assert message.body["channel"] == "#platform-audit"
    assert message.body["text"] == f"@carol merged PR #4321 ({TITLE}) via admin bypass"
    assert fields(message) == {
        "Incident": "INC-2026-05-20-001",
        "Approver": "@alice",
        "Cleanup owner": "@bob",
        "Repository": "acme/bookstore-platform",
    }
    row = only(lane.ledger)
    assert (row.incident_id, row.author, row.approver, row.cleanup_owner, row.merged_by) == (
        "INC-2026-05-20-001",
        "bob",
        "alice",
        "bob",
        "carol",
    )
    assert (row.policy_state, row.scan_state, row.bypassed) == ("success", "passed", True)
    assert json.loads(row.bypass_reasons) == ["0 approving review(s), 1 required"]
    assert row.merge_sha == "9a8b7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d"
    assert only(lane.notices).status == "sent"


async def test_a_bypass_by_someone_outside_the_bypass_team_is_a_violation(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    await merge_hotfix(lane, repo)

    message = only(slack_server.messages_in(AUDIT_CHANNEL))
    assert message.body["text"] == (
        f"VIOLATION: @carol merged PR #4321 ({TITLE}) via admin bypass but is not a member "
        "of @acme/platform-admins, the bypass team"
    )
    assert only(lane.ledger).bypassed


async def test_a_merge_without_a_scan_is_a_security_event(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    repo.check_runs = [
        check_run_entry(n) for n in ("lint", "unit-changed-package", "build-sign-push")
    ]

    await merge_hotfix(lane, repo)

    texts = [m.body["text"] for m in slack_server.messages_in(AUDIT_CHANNEL)]
    assert (
        f"SECURITY EVENT: @carol merged PR #4321 ({TITLE}) without a passing scan "
        "(no scan check ran)"
    ) in texts
    assert only(lane.ledger).scan_state == "missing"


async def test_a_compliant_merge_is_recorded_without_a_violation(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.reviews = [review_entry("alice")]
    repo.teams["platform-admins"] = {"carol"}

    await merge_hotfix(lane, repo)

    row = only(lane.ledger)
    assert (row.bypassed, row.scan_state, row.policy_state) == (False, "passed", "success")
    assert slack_server.messages_in(AUDIT_CHANNEL) == []
    assert lane.notices == []


async def test_a_bypass_outside_the_hotfix_lane_is_a_violation(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    payload = load_fixture("pull_request.opened.ordinary")
    payload["action"] = "closed"
    pr = payload["pull_request"]
    pr.update(
        state="closed",
        merged=True,
        merged_at="2026-05-20T11:00:00Z",
        merged_by=load_fixture("pull_request.closed")["pull_request"]["merged_by"],
        number=4321,
    )
    pr["head"]["sha"] = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"

    await lane.deliver("pull_request", payload)

    message = only(slack_server.messages_in(AUDIT_CHANNEL))
    assert message.body["text"].startswith("VIOLATION: @carol merged PR #4321 (")
    assert message.body["text"].endswith("via admin bypass but it is not in the hotfix lane")
    assert lane.ledger == []  # only hotfixes go into the ledger


async def test_the_same_merge_delivered_twice_is_recorded_and_announced_once(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    await merge_hotfix(lane, repo)

    await lane.deliver("pull_request", merged())  # a second delivery id, same merge

    assert len(lane.ledger) == 1
    assert len(slack_server.messages_in(AUDIT_CHANNEL)) == 1


async def test_slack_rate_limiting_then_ok_sends_exactly_one_message(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    slack_server.script(Reply.rate_limited(retry_after=1).to(AUDIT_CHANNEL))

    await merge_hotfix(lane, repo)
    assert slack_server.messages_in(AUDIT_CHANNEL) == []
    assert only(lane.notices).status == "pending"

    await lane.run_due_later()

    assert len(slack_server.messages_in(AUDIT_CHANNEL)) == 1
    assert len([r for r in slack_server.requests if r.body.get("channel") == AUDIT_CHANNEL]) == 2
    assert only(lane.notices).status == "sent"


async def test_slack_down_keeps_the_notice_and_sends_it_later(
    lane: Lane, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    slack_server.script(Reply.down().to(AUDIT_CHANNEL))

    await merge_hotfix(lane, repo)
    assert only(lane.notices).status == "pending"

    await lane.run_due_later()

    assert (
        only(slack_server.messages_in(AUDIT_CHANNEL))
        .body["text"]
        .startswith("@carol merged PR #4321")
    )
    assert only(lane.notices).status == "sent"


async def test_without_a_slack_token_notices_are_stored_not_sent(
    lane_settings: Settings, fake_github: FakeGitHub, repo: Repo, slack_server: FakeSlackServer
) -> None:
    repo.teams["platform-admins"] = {"carol"}
    no_slack = lane_settings.model_copy(update={"slack_bot_token": None})
    async with running_lane(no_slack, fake_github) as lane:
        await merge_hotfix(lane, repo)

        row = only(lane.notices)
        assert (row.status, row.kind, row.channel) == ("stored", "admin_merge", "#platform-audit")
        assert row.text == f"@carol merged PR #4321 ({TITLE}) via admin bypass"
    assert slack_server.requests == []
