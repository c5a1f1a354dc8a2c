"""What a handler gets: the long-lived services, and the one delivery it is handling.

``Services`` is built by ``app.wiring`` only, once per event loop: the GitHub gateway and the
Slack client hold connection pools, and a pool must be opened and closed on the loop that
uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from app.clock import Clock
from app.github.gateway import GitHubGateway
from app.notify.slack import Notifier
from app.settings import Settings


@dataclass
class Services:
    """The process's settings, database and clock, and the clients of one event loop."""

    settings: Settings
    engine: Engine
    clock: Clock
    gateway: GitHubGateway | None = None
    # None: no Slack token; notices are kept in the outbox and logged, not sent.
    notifier: Notifier | None = None


@dataclass(frozen=True)
class EventContext:
    """One delivery being handled."""

    services: Services
    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    payload: dict[str, Any]
