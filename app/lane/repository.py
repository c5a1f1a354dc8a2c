"""push and installation deliveries: keep the gateway's caches truthful."""

from __future__ import annotations

import asyncio
import logging

from app.github.payloads import InstallationEvent, PushEvent, parse_event
from app.services import EventContext
from app.store import policy_changes

log = logging.getLogger(__name__)


async def on_push(context: EventContext) -> None:
    """A push to the default branch that touches the policy file drops the cached policy."""
    gateway = context.services.gateway
    event = parse_event(context.event, context.payload)
    if gateway is None or not isinstance(event, PushEvent):
        return
    if gateway.note_push(event) and event.repository is not None:
        # Every other process drops its cached policy too, before its next lookup.
        await asyncio.to_thread(
            policy_changes.record,
            context.services.engine,
            repo_full_name=event.repository.full_name,
        )
        log.info("policy file changed in %s; cached policy dropped", event.repository.full_name)


async def on_installation_deleted(context: EventContext) -> None:
    gateway = context.services.gateway
    event = parse_event(context.event, context.payload)
    if gateway is not None and isinstance(event, InstallationEvent):
        gateway.forget_installation(event.installation.id)
        log.info("installation %d removed; its tokens and caches dropped", event.installation.id)
