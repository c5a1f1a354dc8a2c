"""Which code runs each kind of job."""

from __future__ import annotations

from app.events.context import Services
from app.events.dispatch import DeliveryRunner
from app.events.routing import Routes
from app.jobs.worker import JobRunner
from app.ledger.audit_jobs import CORRELATE_JOB, OverrideCheck
from app.notify.outbox import NOTICE_JOB, NoticeSender


def build_runners(services: Services, routes: Routes) -> dict[str, JobRunner]:
    return {
        "delivery": DeliveryRunner(services, routes),
        NOTICE_JOB: NoticeSender(services),
        CORRELATE_JOB: OverrideCheck(services),
    }
