"""The outbox sends a hotfix's follow-up notices into the Slack thread of its first notice.

Each test stores notices as the app does (``enqueue_notice``), runs the ``notice`` jobs with a
worker on a fake clock, and reads what the fake Slack server received.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select, update

from app.jobs.queue import DEAD, QUEUED, claim, release
from app.jobs.queue import enqueue as enqueue_job
from app.jobs.worker import Worker
from app.notify import notices
from app.notify.blocks import render
from app.notify.notices import Notice
from app.notify.outbox import (
    NOTICE_JOB,
    PARENT_WAIT,
    SENT,
    STORED,
    NoticeRunner,
    enqueue_notice,
    get_notice,
    resend_stored,
)
from app.notify.slack import ChannelPacer, Notifier, SlackNotifier
from app.settings import Settings
from app.store import migrate
from app.store.db import make_engine
from app.store.models import Job, NoticeRow
from app.store.types import UTCDateTime
from tests.fakes.clock import START, FakeClock
from tests.fakes.slack_server import FakeSlackServer, Reply
from tests.notify.samples import HOTFIX, HOTFIX_URL

CHANNEL = "#platform-audit"
FIRST_TS, SECOND_TS = "1700000000.000100", "1700000000.000200"

ADMIN_MERGE = notices.admin_merge(
    repo=HOTFIX["repo"],
    number=HOTFIX["number"],
    title="HOTFIX: INC-2026-05-20-001 catalog nil-deref",
    merged_by="carol",
    incident_id=HOTFIX["incident_id"],
    approver="alice",
    cleanup_owner="bob",
    url=HOTFIX_URL,
)
REMINDER = notices.follow_up_reminder(
    **HOTFIX, follow_up="postmortem", owner="bob", due_at=START + timedelta(hours=48)
)
OVERDUE = notices.follow_up_overdue(
    **HOTFIX, follow_up="cleanup PR", owner="bob", due_at=START + timedelta(hours=24)
)


def posted(slack: FakeSlackServer) -> list[dict[str, Any]]:
    """The bodies of the messages Slack now shows, in the order they were posted."""
    return [message.body for message in slack.messages]


def body(notice: Notice, **thread: object) -> dict[str, Any]:
    """The chat.postMessage body Slack should receive for ``notice``."""
    payload = render(notice)
    return {
        "channel": CHANNEL,
        "text": payload["text"],
        "blocks": payload["blocks"],
        "unfurl_links": False,
        **thread,
    }


# What Slack shows for a hotfix: its merge notice, then the reminder in that thread.
THREAD = [body(ADMIN_MERGE), body(REMINDER, thread_ts=FIRST_TS)]


class Outbox:
    """Store notices as the app does, and run their jobs with or without a Slack token."""

    def __init__(self, engine: Engine, settings: Settings, slack: FakeSlackServer) -> None:
        self.engine = engine
        self.clock = FakeClock()
        # Pacing on the fake clock: a test never sleeps, and Retry-After ends when it moves.
        pacer = ChannelPacer(interval=0.0, clock=self.clock.timestamp, sleep=self._sleep)
        self.slack = SlackNotifier("xoxb-test-7f3a", slack.base_url, pacer=pacer, clock=self.clock)
        self.settings = settings

    async def _sleep(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)

    def store(self, notice: Notice, channel: str = CHANNEL) -> None:
        with Session(self.engine) as session:
            enqueue_notice(session, notice=notice, channel=channel, now=self.clock.now())
            session.commit()

    async def run(self, *, token: bool = True) -> int:
        """Run every notice job that is due now; returns how many ran."""
        notifier: Notifier | None = self.slack if token else None
        runner = NoticeRunner(engine=self.engine, notifier=notifier, clock=self.clock)
        worker = Worker(
            engine=self.engine,
            settings=self.settings,
            runners={NOTICE_JOB: runner},
            name="test-worker",
            clock=self.clock.timestamp,
        )
        return await worker.drain()

    def notice(self, notice: Notice) -> NoticeRow:
        with Session(self.engine) as session:
            row = get_notice(session, key=notice.idempotency_key)
        assert row is not None
        return row

    def job(self, notice: Notice) -> Job:
        with Session(self.engine) as session:
            job = session.exec(
                select(Job).where(col(Job.key) == f"notice:{notice.idempotency_key}")
            ).one()
        return job


@pytest.fixture
def outbox(
    engine: Engine, make_settings: Callable[..., Settings], slack_server: FakeSlackServer
) -> Outbox:
    return Outbox(engine, make_settings(), slack_server)


async def test_a_reply_goes_into_the_thread_of_the_hotfixs_first_notice(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    outbox.store(ADMIN_MERGE)
    outbox.store(REMINDER)

    assert await outbox.run() == 2

    assert posted(slack_server) == THREAD
    reply = slack_server.messages[1]
    assert (reply.thread_ts, reply.reply_broadcast) == (FIRST_TS, False)
    stored = outbox.notice(REMINDER)
    assert (stored.status, stored.slack_ts) == (SENT, SECOND_TS)
    assert (stored.subject, stored.thread) == ("acme/bookstore-platform#4321", "reply")


async def test_an_overdue_follow_up_is_broadcast_from_the_thread(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    outbox.store(ADMIN_MERGE)
    outbox.store(REMINDER)
    outbox.store(OVERDUE)

    await outbox.run()

    assert posted(slack_server) == [
        *THREAD,
        body(OVERDUE, thread_ts=FIRST_TS, reply_broadcast=True),
    ]
    last = slack_server.messages[-1]
    assert (last.thread_ts, last.reply_broadcast) == (FIRST_TS, True)


async def test_a_reply_waits_for_its_parent_and_then_answers_in_its_thread(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    # Slack holds the first notice back for 30 s; its reply must not overtake it.
    slack_server.script(Reply.rate_limited(retry_after=30))
    outbox.store(ADMIN_MERGE)
    outbox.store(REMINDER)

    assert await outbox.run() == 2

    assert slack_server.messages == []
    assert len(slack_server.requests) == 1  # the rate-limited parent; the reply asked nothing
    waiting = outbox.job(REMINDER)
    parent_due = outbox.job(ADMIN_MERGE).run_at
    assert (waiting.status, waiting.attempts) == (QUEUED, 0)
    assert waiting.run_at == parent_due + PARENT_WAIT.total_seconds()

    outbox.clock.advance(seconds=30)
    assert await outbox.run() == 1  # the parent is due, the reply not yet
    outbox.clock.advance(seconds=PARENT_WAIT.total_seconds())
    assert await outbox.run() == 1

    assert posted(slack_server) == THREAD


async def test_a_reply_waits_while_another_worker_posts_its_parent(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    outbox.store(ADMIN_MERGE)
    outbox.store(REMINDER)
    now = outbox.clock.timestamp()
    # Another worker has the parent's job and is still posting it.
    other = claim(outbox.engine, worker="other-worker", now=now, lease_seconds=120)
    assert other is not None and other.ref == ADMIN_MERGE.idempotency_key

    assert await outbox.run() == 1

    assert slack_server.requests == []
    assert outbox.job(REMINDER).run_at == now + PARENT_WAIT.total_seconds()
    # That worker stops and hands the job back; the next round posts parent, then reply.
    release(outbox.engine, job=other, worker="other-worker", now=now)
    outbox.clock.advance(seconds=PARENT_WAIT.total_seconds())
    assert await outbox.run() == 2

    assert posted(slack_server) == THREAD


async def test_a_reply_without_an_earlier_notice_is_a_message_of_its_own(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    outbox.store(OVERDUE)

    await outbox.run()

    assert posted(slack_server) == [body(OVERDUE)]
    [message] = slack_server.messages
    assert (message.thread_ts, message.reply_broadcast) == (None, False)


async def test_only_an_earlier_notice_in_the_same_channel_starts_the_thread(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    outbox.store(ADMIN_MERGE, channel="#platform-status")
    outbox.store(REMINDER)

    await outbox.run()

    assert [message.thread_ts for message in slack_server.messages] == [None, None]


async def test_notices_decided_at_merge_stay_top_level_messages(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    scan = notices.scan_bypassed(
        repo=HOTFIX["repo"], number=4321, title="t", merged_by="carol", scans={}, url=HOTFIX_URL
    )
    outbox.store(ADMIN_MERGE)
    outbox.store(scan)

    await outbox.run()

    assert posted(slack_server) == [
        body(ADMIN_MERGE),
        body(scan),
    ]


async def test_a_reply_to_a_kept_notice_is_kept_too_and_both_go_out_in_order_later(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    outbox.store(ADMIN_MERGE)
    await outbox.run(token=False)  # no Slack token yet: the merge notice is kept
    outbox.store(REMINDER)

    await outbox.run()

    assert slack_server.requests == []
    assert outbox.notice(REMINDER).status == STORED

    with Session(outbox.engine) as session:
        assert resend_stored(session, now=outbox.clock.timestamp()) == 2
    await outbox.run()

    assert posted(slack_server) == THREAD


async def test_a_reply_whose_parent_is_dead_is_posted_on_its_own(
    outbox: Outbox, slack_server: FakeSlackServer
) -> None:
    outbox.store(ADMIN_MERGE)
    outbox.store(REMINDER)
    # Slack refused the parent for good: its job is dead and its row still pending.
    with Session(outbox.engine) as session:
        session.exec(
            update(Job)
            .where(col(Job.key) == f"notice:{ADMIN_MERGE.idempotency_key}")
            .values(status=DEAD)
        )
        session.commit()

    assert await outbox.run() == 1

    assert posted(slack_server) == [body(REMINDER)]


async def test_a_notice_stored_before_threads_existed_still_sends(
    database_url: str, make_settings: Callable[..., Settings], slack_server: FakeSlackServer
) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine, "e766e5debd87")  # the schema before notice threads
    old = {
        key: value
        for key, value in ADMIN_MERGE.to_dict().items()
        if key not in ("subject", "thread")
    }
    outbox = Outbox(engine, make_settings(), slack_server)
    now = outbox.clock.now()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO notice (key, kind, violation, channel, text, notice, status, "
                "created_at) VALUES (:key, :kind, :violation, :channel, :text, :notice, "
                "'pending', :now)"
            ).bindparams(sa.bindparam("now", type_=UTCDateTime())),
            {
                "key": ADMIN_MERGE.idempotency_key,
                "kind": ADMIN_MERGE.kind.value,
                "violation": False,
                "channel": CHANNEL,
                "text": ADMIN_MERGE.text,
                "notice": json.dumps(old),
                "now": now,
            },
        )
    with Session(engine) as session:
        enqueue_job(
            session,
            kind=NOTICE_JOB,
            key=f"notice:{ADMIN_MERGE.idempotency_key}",
            ref=ADMIN_MERGE.idempotency_key,
            now=now.timestamp(),
        )
        session.commit()
    try:
        migrate.upgrade(engine)
        row = outbox.notice(ADMIN_MERGE)
        assert (row.subject, row.thread) == (None, "top")
        # A reply stored after the upgrade finds no parent in the old row: it has no subject.
        outbox.store(REMINDER)

        assert await outbox.run() == 2

        assert posted(slack_server) == [body(ADMIN_MERGE), body(REMINDER)]
    finally:
        engine.dispose()
