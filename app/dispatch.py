"""The job runner for stored deliveries: load, decode, route, handle."""

from __future__ import annotations

import asyncio
import logging

import orjson
from sqlmodel import Session

from app.services import EventContext, Services
from app.wiring import Routes, find_handler
from app.retry import PermanentError
from app.jobs.queue import ClaimedJob
from app.store.deliveries import get_delivery
from app.store.models import Delivery

log = logging.getLogger(__name__)


class DeliveryRunner:
    """Runs the handler for one stored delivery; an exception makes the queue retry it."""

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
