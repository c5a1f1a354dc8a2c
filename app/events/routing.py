"""The routing table: which handler runs for which ``(event, action)``.

This is the one place to read to see everything the app reacts to. ``"*"`` matches any action.
Events with no entry are stored and marked done with a debug line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from app.events.context import EventContext

Handler = Callable[[EventContext], Awaitable[None]]
Routes = Mapping[tuple[str, str], Handler]

ROUTES: Routes = {}


def find_handler(routes: Routes, event: str, action: str | None) -> Handler | None:
    return routes.get((event, action or "*")) or routes.get((event, "*"))
