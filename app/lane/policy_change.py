"""A push that changes a policy file is announced: who pushed, which effective values moved.

The policy decides what the runbook's rules are; changing it is an admin action like any
other (runbook step 9). The effective policy before and after the push are compared value by
value, with the repository's file judged against the organisation's floor, so the notice says
what really changed, what the floor ignored, and a file that no longer loads.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlmodel import Session

from app.github.names import POLICY_PATH
from app.github.payloads import PushEvent, parse_event
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.layers import PolicyLayer
from app.policy.loader import DEFAULT_SOURCE, PolicyError, default_policy_text, load_policy
from app.policy.model import Policy
from app.services import EventContext

log = logging.getLogger(__name__)

_NO_COMMIT = "0" * 40


async def announce_policy_change(context: EventContext) -> None:
    """Run after the gateway dropped its cached policy for the pushed repository."""
    event = parse_event(context.event, context.payload)
    gateway = context.services.gateway
    if gateway is None or not isinstance(event, PushEvent) or event.repository is None:
        return
    if event.installation_id is None or not event.to_default_branch:
        return
    if not event.touches(POLICY_PATH):
        return
    repo = event.repository
    before = str(context.payload.get("before") or _NO_COMMIT)
    after = str(context.payload.get("after") or "")
    layers = await gateway.policy_layers(event.installation_id, repo.full_name, repo.default_branch)
    source = f"{repo.full_name}:{POLICY_PATH}"
    old_text = None
    if before != _NO_COMMIT:
        old_text = await gateway.file_text(
            event.installation_id, repo.full_name, POLICY_PATH, ref=before
        )
    old_layers = [
        replace(layer, text=old_text) if layer.source == source else layer for layer in layers
    ]
    base = PolicyLayer(DEFAULT_SOURCE, default_policy_text())
    invalid = None
    changes: list[str] = []
    ignored: list[str] = []
    try:
        new = load_policy([base, *layers])
    except PolicyError as exc:
        invalid = str(exc)
    else:
        ignored = [f"{item.key} ({item.reason})" for item in new.ignored if item.source == source]
        try:
            old = load_policy([base, *old_layers])
        except PolicyError:
            old = None
        changes = _changes(old, new)
    pusher = (context.payload.get("pusher") or {}).get("name") or (
        event.sender.login if event.sender else None
    )
    notice = notices.policy_changed(
        repo=repo.full_name,
        source=source,
        pushed_by=pusher,
        sha=after,
        changes=changes,
        ignored=ignored,
        invalid=invalid,
        url=context.payload.get("compare")
        if isinstance(context.payload.get("compare"), str)
        else None,
    )
    with Session(context.services.engine) as session:
        enqueue_notice(
            session,
            notice=notice,
            channel=audit_channel(context.services.settings),
            now=context.services.clock.now(),
        )
        session.commit()
    log.info("policy file of %s changed by %s: %d value(s)", repo.full_name, pusher, len(changes))


def _changes(old: Policy | None, new: Policy) -> list[str]:
    """``key old → new`` for every effective value that differs (everything, when the old
    file did not load)."""
    before = _flat(old.model_dump(mode="json", by_alias=True)) if old is not None else {}
    after = _flat(new.model_dump(mode="json", by_alias=True))
    return [
        f"{key} {_shown(before.get(key))} → {_shown(value)}"
        for key, value in after.items()
        if before.get(key) != value
    ]


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "unset" if value is None else str(value)
