"""Which code runs each kind of job."""

from __future__ import annotations

from app.services import Services
from app.dispatch import DeliveryRunner
from app.wiring import Routes
from app.jobs.worker import JobRunner
from app.auditlog.jobs import CORRELATE_JOB, OverrideCheck
from app.notify.outbox import NOTICE_JOB, NoticeSender


def build_runners(services: Services, routes: Routes) -> dict[str, JobRunner]:
    return {
        "delivery": DeliveryRunner(services, routes),
        NOTICE_JOB: NoticeSender(services),
        CORRELATE_JOB: OverrideCheck(services),
    }
