"""SlackNotifier against the fake Slack server: the exact call, and every failure classified."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from app.notify.blocks import render
from app.notify.slack import (
    ChannelBusy,
    ChannelPacer,
    SlackNotifier,
    SlackRejected,
    SlackUnavailable,
)
from app.retry import Defer, PermanentError
from tests.fakes.slack_server import FakeSlackServer, Reply
from tests.notify.samples import ADMIN_MERGE

TOKEN = "xoxb-test-7f3a"
CHANNEL = "#platform-audit"
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
NOTICE = ADMIN_MERGE


class FakeTime:
    """A monotonic clock that only moves when the code under test asks to sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def notifier(slack_server: FakeSlackServer, fake_time: FakeTime) -> SlackNotifier:
    pacer = ChannelPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    return SlackNotifier(TOKEN, slack_server.base_url, pacer=pacer, clock=lambda: NOW)


async def test_posts_the_rendered_notice_with_the_bot_token(
    notifier: SlackNotifier, slack_server: FakeSlackServer
) -> None:
    ts = await notifier.send(CHANNEL, NOTICE)

    assert ts == "1700000000.000100"
    [request] = slack_server.requests
    assert request.path == "/api/chat.postMessage"
    assert request.token == TOKEN
    assert request.body == {
        "channel": CHANNEL,
        "text": render(NOTICE)["text"],
        "blocks": render(NOTICE)["blocks"],
        "unfurl_links": False,
    }


@pytest.mark.parametrize(
    ("reply_broadcast", "extra"),
    [
        pytest.param(False, {}, id="a reply stays in the thread"),
        pytest.param(True, {"reply_broadcast": True}, id="a broadcast reply shows in the channel"),
    ],
)
async def test_a_reply_is_posted_in_the_thread_it_names(
    notifier: SlackNotifier,
    slack_server: FakeSlackServer,
    reply_broadcast: bool,
    extra: dict[str, object],
) -> None:
    ts = await notifier.send(
        CHANNEL, NOTICE, thread_ts="1699999999.000100", reply_broadcast=reply_broadcast
    )

    assert ts == "1700000000.000100"
    [request] = slack_server.messages
    assert request.body == {
        "channel": CHANNEL,
        "text": render(NOTICE)["text"],
        "blocks": render(NOTICE)["blocks"],
        "unfurl_links": False,
        "thread_ts": "1699999999.000100",
        **extra,
    }
    assert (request.thread_ts, request.reply_broadcast) == ("1699999999.000100", reply_broadcast)


async def test_broadcast_without_a_thread_is_a_plain_top_level_post(
    notifier: SlackNotifier, slack_server: FakeSlackServer
) -> None:
    await notifier.send(CHANNEL, NOTICE, reply_broadcast=True)

    [request] = slack_server.messages
    assert "reply_broadcast" not in request.body
    assert (request.thread_ts, request.reply_broadcast) == (None, False)


async def test_rate_limit_defers_until_retry_after_and_the_retry_posts_once(
    notifier: SlackNotifier, slack_server: FakeSlackServer, fake_time: FakeTime
) -> None:
    slack_server.script(Reply.rate_limited(retry_after=1))

    with pytest.raises(Defer) as deferred:
        await notifier.send(CHANNEL, NOTICE)
    assert deferred.value.until == NOW + timedelta(seconds=1)
    # slack-sdk did not retry behind our back: the queue owns retries.
    assert len(slack_server.requests) == 1

    assert await notifier.send(CHANNEL, NOTICE) == "1700000000.000100"
    assert len(slack_server.messages) == 1
    # The channel stayed closed for Retry-After before the retry went out.
    assert fake_time.sleeps == [1.0]


async def test_a_long_rate_limit_defers_later_notices_without_calling_slack(
    notifier: SlackNotifier, slack_server: FakeSlackServer
) -> None:
    slack_server.script(Reply.rate_limited(retry_after=30))
    with pytest.raises(Defer):
        await notifier.send(CHANNEL, NOTICE)

    with pytest.raises(Defer) as deferred:
        await notifier.send(CHANNEL, NOTICE)

    assert deferred.value.until == NOW + timedelta(seconds=30)
    assert len(slack_server.requests) == 1


async def test_http_500_is_unavailable(
    notifier: SlackNotifier, slack_server: FakeSlackServer
) -> None:
    slack_server.script(Reply.http_error(500))

    with pytest.raises(SlackUnavailable) as failure:
        await notifier.send(CHANNEL, NOTICE)

    assert failure.value.status == 500
    assert len(slack_server.requests) == 1


async def test_slack_internal_error_is_unavailable(
    notifier: SlackNotifier, slack_server: FakeSlackServer
) -> None:
    slack_server.script(Reply.slack_error("internal_error"))

    with pytest.raises(SlackUnavailable):
        await notifier.send(CHANNEL, NOTICE)


async def test_dropped_connection_is_unavailable_and_not_retried_by_the_sdk(
    notifier: SlackNotifier, slack_server: FakeSlackServer
) -> None:
    slack_server.script(Reply.down())

    with pytest.raises(SlackUnavailable):
        await notifier.send(CHANNEL, NOTICE)

    assert len(slack_server.requests) == 1
    assert await notifier.send(CHANNEL, NOTICE) == "1700000000.000100"


async def test_refused_connection_is_unavailable(
    notifier: SlackNotifier, slack_server: FakeSlackServer
) -> None:
    slack_server.stop()

    with pytest.raises(SlackUnavailable):
        await notifier.send(CHANNEL, NOTICE)


async def test_timeout_is_unavailable(
    notifier: SlackNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real timeout costs at least a second of aiohttp's clock; the client's raise is enough.
    async def time_out(**_: object) -> None:
        raise TimeoutError

    monkeypatch.setattr(notifier._client, "chat_postMessage", time_out)

    with pytest.raises(SlackUnavailable, match="TimeoutError"):
        await notifier.send(CHANNEL, NOTICE)


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("channel_not_found", "check HOTFIX_LANE_AUDIT_CHANNEL"),
        ("not_in_channel", "invite the bot"),
        ("is_archived", "unarchive"),
        ("missing_scope", "chat:write"),
        ("invalid_auth", "HOTFIX_LANE_SLACK_BOT_TOKEN"),
        ("account_inactive", "HOTFIX_LANE_SLACK_BOT_TOKEN"),
        ("token_revoked", "HOTFIX_LANE_SLACK_BOT_TOKEN"),
        ("invalid_blocks", "needs fixing"),
    ],
)
async def test_permanent_slack_errors_are_rejected_with_advice(
    notifier: SlackNotifier, slack_server: FakeSlackServer, error: str, advice: str
) -> None:
    slack_server.script(Reply.slack_error(error))

    with pytest.raises(SlackRejected) as rejected:
        await notifier.send(CHANNEL, NOTICE)

    assert isinstance(rejected.value, PermanentError)
    assert rejected.value.error == error
    message = str(rejected.value)
    assert advice in message
    assert "admin-merge:acme/api#4321" in message
    assert TOKEN not in message


async def test_unexpected_http_status_is_rejected(
    notifier: SlackNotifier, slack_server: FakeSlackServer
) -> None:
    slack_server.script(Reply.http_error(404))

    with pytest.raises(SlackRejected, match="HOTFIX_LANE_SLACK_API_URL"):
        await notifier.send(CHANNEL, NOTICE)


async def test_two_posts_to_one_channel_are_a_second_apart(
    notifier: SlackNotifier, fake_time: FakeTime
) -> None:
    await notifier.send(CHANNEL, NOTICE)
    fake_time.now += 0.25
    await notifier.send(CHANNEL, NOTICE)
    await notifier.send("#elsewhere", NOTICE)

    assert fake_time.sleeps == [0.75]


async def test_pacer_lines_up_concurrent_posts_one_interval_apart(fake_time: FakeTime) -> None:
    requested: list[float] = []

    async def record(seconds: float) -> None:
        requested.append(seconds)

    pacer = ChannelPacer(clock=fake_time.clock, sleep=record)

    await asyncio.gather(*(pacer.wait(CHANNEL) for _ in range(3)))

    assert requested == [1.0, 2.0]


async def test_pacer_refuses_a_wait_longer_than_max_wait(fake_time: FakeTime) -> None:
    pacer = ChannelPacer(max_wait=10.0, clock=fake_time.clock, sleep=fake_time.sleep)
    pacer.hold(CHANNEL, 12.0)

    with pytest.raises(ChannelBusy) as busy:
        await pacer.wait(CHANNEL)

    assert busy.value.delay == 12.0
    assert fake_time.sleeps == []


def test_with_a_token_the_notifier_never_shows_it(slack_api_url: str) -> None:
    built = SlackNotifier(TOKEN, slack_api_url)

    assert isinstance(built, SlackNotifier)
    assert TOKEN not in repr(built)


async def test_fake_slack_accepts_form_bodies_with_the_token_inside(
    slack_server: FakeSlackServer,
) -> None:
    form = {
        "token": TOKEN,
        "channel": "C1",
        "text": "hello",
        "thread_ts": "1.2",
        "reply_broadcast": "true",
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{slack_server.base_url}chat.postMessage", data=form) as reply:
            assert (await reply.json())["ok"] is True
        async with session.post(f"{slack_server.base_url}chat.nope", json={}) as reply:
            assert reply.status == 404

    first, second = slack_server.requests
    assert (first.token, first.body) == (TOKEN, form)
    assert (first.thread_ts, first.reply_broadcast) == ("1.2", True)
    assert second.path == "/api/chat.nope"
    assert len(slack_server.messages) == 1
