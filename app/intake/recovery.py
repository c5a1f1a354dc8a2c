"""Missed webhooks recovered: what GitHub failed to deliver and we never stored, redelivered.

GitHub waits 10 s for a 2xx and never tries again by itself. A recurring job (every
``EVERY_MINUTES``, once across processes) reads the App's deliveries of the last
``LOOKBACK``, keeps those of a ``guid`` (X-GitHub-Delivery) that GitHub never delivered and
that we never stored, and asks GitHub to deliver each again: once per ``guid`` and run, at
most ``MAX_PER_RUN`` a run (each is a content-creating request against the App's limits).
``hotfix-lane deliveries recover`` runs the same by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.github.errors import GitHubError
from app.github.gateway import GitHubGateway
from app.github.hook_deliveries import HookDelivery
from app.jobs.queue import ClaimedJob
from app.jobs.recurring import Recurring, every
from app.services import Services
from app.store.models import Delivery

log = logging.getLogger(__name__)

RECOVER_JOB = "deliveries-recover"
EVERY_MINUTES = 10
LOOKBACK = timedelta(hours=24)
MAX_PER_RUN = 50

RECOVER = Recurring(RECOVER_JOB, every(EVERY_MINUTES))


@dataclass(frozen=True)
class Recovered:
    """What one run found and did."""

    listed: int  # delivery attempts GitHub listed in the window
    missing: int  # guids never delivered and not stored here
    redelivered: tuple[str, ...]  # guids asked for again
    failed: tuple[str, ...] = ()  # guids GitHub refused to redeliver


# A guid redelivered this many times already is left alone (it keeps failing for a reason).
MAX_REDELIVERIES = 3


def _worth_retrying(attempt: HookDelivery) -> bool:
    """No answer, a 5xx or a 429: the delivery may go through next time. A 4xx (a signature
    we refused, a body too large) would be refused again."""
    return attempt.status_code == 0 or attempt.status_code >= 500 or attempt.status_code == 429


def missing(attempts: list[HookDelivery], stored: set[str]) -> list[HookDelivery]:
    """The newest attempt of each guid that no attempt delivered and that we do not hold,
    when its failure is worth retrying and it was not redelivered ``MAX_REDELIVERIES`` times."""
    delivered = {a.guid for a in attempts if a.delivered}
    redeliveries: dict[str, int] = {}
    newest: dict[str, HookDelivery] = {}
    for attempt in attempts:
        if attempt.redelivery:
            redeliveries[attempt.guid] = redeliveries.get(attempt.guid, 0) + 1
        if attempt.guid in delivered or attempt.guid in stored:
            continue
        known = newest.get(attempt.guid)
        if known is None or attempt.delivered_at > known.delivered_at:
            newest[attempt.guid] = attempt
    return sorted(
        (
            attempt
            for guid, attempt in newest.items()
            if _worth_retrying(attempt) and redeliveries.get(guid, 0) < MAX_REDELIVERIES
        ),
        key=lambda a: a.delivered_at,
    )


async def recover(
    services: Services, gateway: GitHubGateway, *, since: datetime, limit: int = MAX_PER_RUN
) -> Recovered:
    """Redeliver what GitHub failed to deliver since ``since`` and we never stored."""
    attempts = await gateway.hook_deliveries(since=since)
    guids = {a.guid for a in attempts}
    with Session(services.engine) as session:
        stored = (
            set(session.exec(select(col(Delivery.id)).where(col(Delivery.id).in_(guids))))
            if guids
            else set()
        )
    lost = missing(attempts, stored)
    done: list[str] = []
    failed: list[str] = []
    for attempt in lost[:limit]:
        try:
            await gateway.redeliver(attempt.id)
        except GitHubError as exc:
            log.warning("redelivery of %s (%s) refused: %s", attempt.guid, attempt.event, exc)
            failed.append(attempt.guid)
            continue
        done.append(attempt.guid)
        log.info(
            "asked GitHub to redeliver %s (%s.%s)", attempt.guid, attempt.event, attempt.action
        )
    if len(lost) > limit:
        log.warning("%d missed deliveries left for the next run", len(lost) - limit)
    return Recovered(len(attempts), len(lost), tuple(done), tuple(failed))


class RecoverRunner:
    """``deliveries-recover``: one run of ``recover``; then the next slot."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, job: ClaimedJob) -> None:
        services = self.services
        now = services.clock.now()
        RECOVER.queue_next_now(services.engine, now=now)
        if services.gateway is None:
            return  # no App configured: nothing to ask GitHub
        result = await recover(services, services.gateway, since=now - LOOKBACK)
        if result.missing:
            log.info(
                "missed deliveries: %d found, %d redelivered",
                result.missing,
                len(result.redelivered),
            )
