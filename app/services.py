"""What a handler gets: the long-lived services and the one delivery it is handling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from app.settings import Settings

if TYPE_CHECKING:
    from app.github.gateway import GitHubGateway
    from app.notify.slack import Notifier


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Created once per process (by ``create_app`` or the CLI) and passed to every handler."""

    settings: Settings
    engine: Engine
    gateway: GitHubGateway | None = None
    # None: no Slack token; notices are kept in the outbox and logged, not sent.
    notifier: Notifier | None = None
    clock: Callable[[], datetime] = utc_now
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventContext:
    """One delivery being handled."""

    services: Services
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    payload: dict[str, Any]
