"""The composition root: the one place that builds services, job runners, routes and loops.

``serve``, ``worker`` and the tests all start here; nothing else constructs a gateway, a Slack
client or a worker. The routing table below is the one place to read to see everything the
app reacts to.

Clients are made per event loop: ``serve`` runs the API on uvicorn's loop and the worker on a
thread with a loop of its own, and each opens (and closes) its own gateway and Slack client on
the loop that uses them. A connection pool opened on one loop and closed from another is what
used to end every shutdown with "Event loop is closed".
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import orjson
from prometheus_client import Gauge
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.auditlog import jobs as auditlog_jobs
from app.clock import Clock
from app.followups import commands as followup_commands
from app.followups import deadlines
from app.followups import jobs as followup_jobs
from app.followups import metrics as followup_metrics
from app.github.gateway import GitHubGateway
from app.github.metrics import count_requests
from app.github.preload import preload
from app.incidents import deployments, periodic
from app.incidents import jobs as incident_jobs
from app.intake import recovery
from app.jobs import maintenance, recurring
from app.jobs.queue import ClaimedJob
from app.jobs.worker import Doorbell, JobRunner, Worker, refresh_queue_metrics
from app.lane import (
    approve,
    checks,
    comments,
    merge_groups,
    merges,
    policy_change,
    pull_requests,
    reconcile,
    repository,
)
from app.ledger.merge import CLEANUP_RECORDED_JOB, RECORDED_JOB, TRACKING_SYNC_JOB
from app.logs import bound_delivery
from app.notify import metrics as notify_metrics
from app.notify.outbox import NOTICE_JOB, NoticeRunner
from app.notify.slack import Notifier, SlackNotifier
from app.retry import PermanentError
from app.rules import commands
from app.services import EventContext, Services
from app.settings import Settings
from app.store import policy_changes
from app.store.db import Checkpointer, is_sqlite
from app.store.deliveries import DELIVERY_JOB, get_delivery
from app.store.models import Delivery

log = logging.getLogger(__name__)

BUILD_INFO = Gauge("hotfix_lane_build_info", "The running release (always 1).", ["version"])


def _release() -> str:
    try:
        return version("hotfix-lane")
    except PackageNotFoundError:
        return "unknown"


BUILD_INFO.labels(version=_release()).set(1)

Handler = Callable[[EventContext], Awaitable[None]]
Routes = Mapping[tuple[str, str], Handler]

# ``"*"`` matches any action. Events with no entry are stored and marked done with a debug line.
# The /hotfix commands the lane answers (on open pull requests); the rest are the follow-ups'.
LANE_COMMANDS = frozenset({"team-reviewed", "approve"})


async def on_comment(context: EventContext) -> None:
    """issue_comment created: hand a ``/hotfix`` command to the domain that answers it."""
    body = (context.payload.get("comment") or {}).get("body")
    command = commands.parse(body) if isinstance(body, str) else None
    if command is None:
        return
    if command.name == "approve":
        await approve.on_approve(context)
    elif command.name in LANE_COMMANDS:
        await comments.on_comment(context)
    else:
        await followup_commands.on_comment(context)


async def on_push(context: EventContext) -> None:
    """push: the gateway drops cached policies first; then follow-up deadlines are moved and a
    changed policy file is announced."""
    await repository.on_push(context)
    await deadlines.on_push(context)
    await policy_change.announce_policy_change(context)


ROUTES: Routes = {
    # The runbook's rules, evaluated whenever the pull request changes.
    ("pull_request", "opened"): pull_requests.on_pull_request,
    ("pull_request", "reopened"): pull_requests.on_pull_request,
    ("pull_request", "edited"): pull_requests.on_pull_request,
    ("pull_request", "synchronize"): pull_requests.on_pull_request,
    ("pull_request", "labeled"): pull_requests.on_pull_request,
    ("pull_request", "unlabeled"): pull_requests.on_pull_request,
    ("pull_request", "ready_for_review"): pull_requests.on_pull_request,
    # The merge: bypass judged, hotfix recorded in the ledger, audit channel told.
    ("pull_request", "closed"): merges.on_pull_request_closed,
    ("pull_request_review", "submitted"): pull_requests.on_review,
    ("pull_request_review", "dismissed"): pull_requests.on_review,
    # ... and whenever a check on its head finishes (scan, fast path).
    ("check_run", "completed"): checks.on_check_run,
    ("check_suite", "completed"): checks.on_check_suite,
    ("status", "*"): checks.on_status,
    ("check_run", "rerequested"): checks.on_rerequested,
    ("check_suite", "rerequested"): checks.on_rerequested,
    # /hotfix commands: the rate limit's sign-off, and the follow-ups after a merge.
    ("issue_comment", "created"): on_comment,
    # Cache upkeep, and follow-up deadlines moved by a changed policy file.
    ("push", "*"): on_push,
    ("installation", "deleted"): repository.on_installation_deleted,
    # A merge queue's group: green only when every pull request in it was.
    ("merge_group", "checks_requested"): merge_groups.on_merge_group,
    # The incident loop: the hotfix deployed (Argo CD's notifications), or its deploy failed.
    ("deployment_status", "created"): deployments.on_deployment_status,
}


# The jobs that recur, each slot once across processes (the audit-log poll too, when set).
RECURRING = (*periodic.RECURRING, recovery.RECOVER, reconcile.RECONCILE, maintenance.PRUNE)


def find_handler(routes: Routes, event: str, action: str | None) -> Handler | None:
    return routes.get((event, action or "*")) or routes.get((event, "*"))


class DeliveryRunner:
    """The job runner for ``delivery`` jobs: load the stored delivery, route it, handle it.

    An exception makes the queue retry the job; the delivery stays stored either way.
    """

    def __init__(self, services: Services, routes: Routes) -> None:
        self.services = services
        self.routes = routes

    async def __call__(self, job: ClaimedJob) -> None:
        delivery = await asyncio.to_thread(self._load, job.ref)
        handler = find_handler(self.routes, delivery.event, delivery.action)
        if handler is None:
            log.debug("no handler for %s.%s; nothing to do", delivery.event, delivery.action)
            return
        try:
            payload = orjson.loads(delivery.body)
        except orjson.JSONDecodeError as exc:  # intake checked it; the row must be damaged
            raise PermanentError(f"stored body is not JSON: {exc}") from exc
        context = EventContext(
            services=self.services,
            delivery_id=delivery.id,
            event=delivery.event,
            action=delivery.action,
            installation_id=delivery.installation_id,
            payload=payload,
        )
        with bound_delivery(
            delivery.id, repository=delivery.repository, number=_number_of(payload)
        ):
            log.info(
                "handling %s.%s with %s",
                delivery.event,
                delivery.action or "-",
                getattr(handler, "__qualname__", repr(handler)),
            )
            await handler(context)

    def _load(self, delivery_id: str) -> Delivery:
        with Session(self.services.engine) as session:
            delivery = get_delivery(session, delivery_id=delivery_id)
        if delivery is None:
            raise PermanentError(f"delivery {delivery_id} is not stored")
        return delivery


def _number_of(payload: Mapping[str, object]) -> int | None:
    """The pull request or issue a delivery is about, for its log lines."""
    for key in ("pull_request", "issue"):
        item = payload.get(key)
        number = item.get("number") if isinstance(item, dict) else None
        if isinstance(number, int):
            return number
    return None


def build_runners(services: Services, routes: Routes = ROUTES) -> dict[str, JobRunner]:
    """Which code runs each kind of job: the worker knows job kinds only through this."""
    runners: dict[str, JobRunner] = {
        DELIVERY_JOB: DeliveryRunner(services, routes),
        NOTICE_JOB: NoticeRunner(
            engine=services.engine, notifier=services.notifier, clock=services.clock
        ),
        auditlog_jobs.CORRELATE_JOB: auditlog_jobs.CorrelateRunner(services),
        # A recorded hotfix: match an audit-log override to it, open its follow-ups, and
        # plan the verification of its recovery.
        RECORDED_JOB: in_turn(
            auditlog_jobs.HotfixRecordedRunner(services),
            followup_jobs.HotfixRecordedRunner(services),
            incident_jobs.HotfixRecordedRunner(services),
        ),
        CLEANUP_RECORDED_JOB: followup_jobs.CleanupRecordedRunner(services),
        followup_jobs.REMIND_JOB: followup_jobs.DeadlineRunner(services),
        followup_jobs.DUE_JOB: followup_jobs.DeadlineRunner(services),
        TRACKING_SYNC_JOB: followup_jobs.TrackingSyncRunner(services),
        incident_jobs.VERIFY_JOB: incident_jobs.VerifyRunner(services),
        periodic.FRESHNESS_JOB: incident_jobs.FreshnessRunner(services),
        periodic.DIGEST_JOB: incident_jobs.DigestRunner(services),
        recovery.RECOVER_JOB: recovery.RecoverRunner(services),
        reconcile.RECONCILE_JOB: reconcile.ReconcileRunner(services),
        reconcile.CATCH_UP_JOB: reconcile.CatchUpRunner(services),
        **_audit_poll(services),
        maintenance.PRUNE_JOB: maintenance.PruneRunner(
            services.engine,
            retention_days=services.settings.retention_days,
            clock=services.clock.now,
        ),
    }
    return {kind: counting_requests(runner) for kind, runner in runners.items()}


def _audit_poll(services: Services) -> dict[str, JobRunner]:
    series = auditlog_jobs.poll_series(services.settings)
    return {} if series is None else {series.kind: auditlog_jobs.PollRunner(services, series)}


def recurring_series(settings: Settings) -> tuple[recurring.Recurring, ...]:
    """Every recurring job this configuration runs: seeded when a worker starts."""
    audit = auditlog_jobs.poll_series(settings)
    return (*RECURRING, *([audit] if audit is not None else []))


def in_turn(*runners: JobRunner) -> JobRunner:
    """One job run by several runners, in order. Each must be safe to repeat: a failure of
    a later one retries the job, and the earlier ones run again."""

    async def run(job: ClaimedJob) -> None:
        for runner in runners:
            await runner(job)

    return run


def counting_requests(runner: JobRunner) -> JobRunner:
    """``runner``, with the GitHub requests each job sends counted and logged.

    The count is the API economy made visible: a redelivery should cost none.
    """

    async def run(job: ClaimedJob) -> None:
        with count_requests() as requests:
            try:
                await runner(job)
            finally:
                log.info("job %s sent %d GitHub requests", job.key, requests.total)

    return run


def build_worker(
    services: Services, routes: Routes = ROUTES, doorbell: Doorbell | None = None
) -> Worker:
    """A worker running every job kind, on ``services``' clock (woken by ``doorbell``)."""
    return Worker(
        engine=services.engine,
        settings=services.settings,
        runners=build_runners(services, routes),
        clock=services.clock.timestamp,
        doorbell=doorbell,
    )


def refresh_gauges(engine: Engine) -> None:
    """Set the gauges counted from tables (queue depth, outbox, follow-ups owed) for a scrape."""
    refresh_queue_metrics(engine)
    notify_metrics.refresh(engine)
    followup_metrics.refresh(engine)


def make_gateway(
    settings: Settings, clock: Clock, engine: Engine | None = None
) -> GitHubGateway | None:
    """The GitHub gateway, or None when the App's id and key are not configured; with
    ``engine``, it drops cached policies other processes saw change."""
    if not settings.github_configured:
        log.warning(
            "HOTFIX_LANE_GITHUB_APP_ID / _PRIVATE_KEY not set: pull requests will not "
            "be evaluated until they are"
        )
        return None
    feed = None if engine is None else policy_changes.ChangeReader(engine)
    return GitHubGateway(settings, clock=clock.now, policy_changes=feed)


def make_notifier(settings: Settings, clock: Clock) -> Notifier | None:
    """The Slack notifier, or None (notices stored and logged) without a bot token."""
    if settings.slack_bot_token is None:
        log.warning("HOTFIX_LANE_SLACK_BOT_TOKEN not set: audit notices are stored, not sent")
        return None
    return SlackNotifier(
        settings.slack_bot_token.get_secret_value(), settings.slack_api_url, clock=clock.now
    )


@asynccontextmanager
async def open_services(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    *,
    gateway: GitHubGateway | None = None,
    notifier: Notifier | None = None,
) -> AsyncIterator[Services]:
    """Services for the running event loop; its gateway is closed on that loop at the end.

    ``gateway`` and ``notifier`` replace the ones built from the settings (tests hand in ones
    whose retries and pacing do not wait); a handed-in gateway is closed here too.
    """
    services = Services(
        settings=settings,
        engine=engine,
        clock=clock,
        gateway=gateway or make_gateway(settings, clock, engine),
        notifier=notifier or make_notifier(settings, clock),
    )
    try:
        yield services
    finally:
        if services.gateway is not None:
            await services.gateway.aclose()


async def run_worker(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    stop: asyncio.Event,
    routes: Routes = ROUTES,
    doorbell: Doorbell | None = None,
) -> None:
    """Run a worker until ``stop`` is set, with clients of its own on the running loop.

    The recurring jobs' next slots are queued first (once across processes: they are keyed).
    The process imports githubkit's models before it calls this (``preload``): ``worker``
    at start, ``serve``'s worker thread before the API answers.
    """
    await asyncio.to_thread(recurring.seed, engine, recurring_series(settings), now=clock.now())
    async with open_services(settings, engine, clock) as services:
        await build_worker(services, routes, doorbell).run(stop)


class WorkerThread:
    """``run_worker`` on a thread and event loop of its own, for ``serve``.

    Slow GitHub calls then never hold up webhook intake on the API's loop.
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        clock: Clock,
        routes: Routes,
        doorbell: Doorbell | None = None,
    ) -> None:
        self._args = (settings, engine, clock)
        self._routes = routes
        self._doorbell = doorbell
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="hotfix-lane-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            # Before serve answers: its first delivery then finds the worker warm.
            preload()
            self._ready.set()
            await run_worker(*self._args, self._stop, self._routes, self._doorbell)

        try:
            asyncio.run(main())
        finally:
            self._ready.set()  # a worker that failed to start must not hang ``start``

    def stop(self, timeout: float | None = None) -> None:
        """Ask the worker to finish or release its jobs, and wait for the thread to end."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)


@dataclass
class Background:
    """The loops ``serve`` runs beside the API: checkpointer, worker thread. (Everything that
    recurs is a job in the queue, run once across processes.)"""

    checkpointer: Checkpointer | None = None
    worker: WorkerThread | None = None

    @classmethod
    def start(
        cls,
        services: Services,
        *,
        run_worker: bool,
        routes: Routes,
        doorbell: Doorbell | None = None,
    ) -> Background:
        """Start what this process runs; call on the API's loop."""
        engine = services.engine
        background = cls()
        if is_sqlite(engine):
            background.checkpointer = Checkpointer(engine)
            background.checkpointer.start()
        if run_worker:
            background.worker = WorkerThread(
                services.settings, engine, services.clock, routes, doorbell
            )
            background.worker.start()
        return background

    async def stop(self) -> None:
        """Stop in reverse order: jobs finish, then the WAL."""
        if self.worker is not None:
            await asyncio.to_thread(self.worker.stop)
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
