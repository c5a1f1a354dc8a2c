"""What the audit channel shows of a policy override, end to end through the fake Slack.

Runbook step 9 reviews every admin action: an override is posted the moment it arrives, and
what the app later learns answers in its thread: the hotfix it was for (a reply), or no hotfix
at all (a reply also shown in the channel: a violation). Events go in through the endpoint,
merges through the ``hotfix-recorded`` path, the worker posts, and the clock is moved by hand.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.auditlog.audit_lane import CONFIRMED, POSTED, VIOLATION, AuditLane, override
from tests.fakes.slack_server import FakeSlackServer, SlackRequest
from tests.harness import AUDIT_CHANNEL
from tests.rows import hotfix_record

# The fake Slack's ts of the first message posted: the override's own notice.
OVERRIDE_THREAD = "1700000000.000100"


def shown(slack: FakeSlackServer) -> list[tuple[str, str | None, bool]]:
    """Every message Slack shows: its text, the thread it answers, whether also in the channel."""
    return [_where(message) for message in slack.messages]


def _where(message: SlackRequest) -> tuple[str, str | None, bool]:
    return (message.body["text"], message.thread_ts, message.reply_broadcast)


async def test_an_override_is_posted_at_once_before_any_merge(
    slack_lane: AuditLane, slack_server: FakeSlackServer
) -> None:
    await slack_lane.post(override(slack_lane.clock.now()))
    await slack_lane.run_due()

    [message] = slack_server.messages_in(AUDIT_CHANNEL)
    assert _where(message) == (POSTED, None, False)
    assert message.body["channel"] == "#platform-audit"


async def test_an_override_then_its_bypassed_merge_on_the_same_branch_is_confirmed_in_thread(
    slack_lane: AuditLane, slack_server: FakeSlackServer
) -> None:
    at = slack_lane.clock.now()
    await slack_lane.post(override(at))
    await slack_lane.run_due()

    slack_lane.clock.advance(minutes=1)
    assert slack_lane.merge(hotfix_record(at + timedelta(seconds=40))) is True
    await slack_lane.run_due()
    slack_lane.clock.advance(minutes=15)  # the delayed check finds the override claimed
    await slack_lane.run_due()

    assert shown(slack_server) == [
        (POSTED, None, False),
        (CONFIRMED, OVERRIDE_THREAD, False),
    ]


async def test_a_merge_then_its_override_is_posted_then_confirmed_in_thread(
    slack_lane: AuditLane, slack_server: FakeSlackServer
) -> None:
    at = slack_lane.clock.now()
    slack_lane.record_hotfix(hotfix_record(at - timedelta(minutes=2)))

    await slack_lane.post(override(at))
    await slack_lane.run_due()

    assert shown(slack_server) == [
        (POSTED, None, False),
        (CONFIRMED, OVERRIDE_THREAD, False),
    ]
    assert slack_lane.hotfix().audit_document_id == "pCtl2n0J8njxnR8oUOEpuw"


@pytest.mark.parametrize(
    "merge",
    [
        pytest.param({"base_ref": "release/2.4"}, id="a hotfix merged into another branch"),
        pytest.param({"bypassed": False}, id="a hotfix merged without a bypass"),
    ],
)
async def test_an_override_no_bypassed_merge_on_its_branch_explains_is_a_broadcast_violation(
    slack_lane: AuditLane, slack_server: FakeSlackServer, merge: dict[str, Any]
) -> None:
    at = slack_lane.clock.now()
    await slack_lane.post(override(at))
    await slack_lane.run_due()
    # Merged a minute later, in the same repository: its hotfix-recorded job does not claim
    # the override, nor does the delayed check find it in the ledger.
    slack_lane.clock.advance(minutes=1)
    assert slack_lane.merge(hotfix_record(at + timedelta(minutes=1), **merge)) is False

    slack_lane.clock.advance(minutes=13, seconds=59)
    await slack_lane.run_due()
    assert shown(slack_server) == [(POSTED, None, False)]

    slack_lane.clock.advance(seconds=1)
    await slack_lane.run_due()

    assert shown(slack_server) == [
        (POSTED, None, False),
        (VIOLATION, OVERRIDE_THREAD, True),
    ]
    assert slack_lane.hotfix().audit_document_id is None


async def test_an_override_and_its_redelivery_are_posted_once(
    slack_lane: AuditLane, slack_server: FakeSlackServer
) -> None:
    at = slack_lane.clock.now()
    await slack_lane.post(override(at))
    await slack_lane.run_due()

    again = await slack_lane.post(override(at))  # the forwarder retrying after a timeout
    slack_lane.clock.advance(minutes=15)
    await slack_lane.run_due()

    assert again.json() == {"stored": 0, "duplicates": 1}
    assert shown(slack_server) == [
        (POSTED, None, False),
        (VIOLATION, OVERRIDE_THREAD, True),
    ]
