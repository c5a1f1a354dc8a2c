"""Which code runs each kind of job."""

from __future__ import annotations

from app.events.context import Services
from app.events.dispatch import DeliveryRunner
from app.events.routing import Routes
from app.jobs.worker import JobRunner


def build_runners(services: Services, routes: Routes) -> dict[str, JobRunner]:
    return {"delivery": DeliveryRunner(services, routes)}
