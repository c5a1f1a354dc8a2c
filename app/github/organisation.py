"""Reads about the organisation and the App: team memberships, the audit log, who we are.

Team memberships are kept for ``membership_cache_seconds``; the App's slug for the process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from app.github.cache import TTLCache
from app.github.errors import GitHubNotFound
from app.github.http import PER_PAGE, GitHubHttp
from app.github.payloads import Actor
from app.github.responses import AppInfo, TeamMembership


def _json_objects(data: Any) -> list[dict[str, Any]]:
    """A page of raw JSON objects (audit-log events); anything else is not a page."""
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError("expected a JSON array of objects")
    return data


class OrganisationReads:
    """Team memberships, the organisation's audit log, and the App's own identity."""

    def __init__(self, http: GitHubHttp) -> None:
        self._http = http
        self._memberships: TTLCache[tuple[str, str, str], bool] = TTLCache(
            max_entries=4096,
            ttl=timedelta(seconds=http.settings.membership_cache_seconds),
            clock=http.clock,
        )
        self._app_slug: str | None = None

    async def team_members(
        self, installation_id: int, org: str, pairs: Iterable[tuple[str, str]]
    ) -> Mapping[str, frozenset[str]]:
        """For each ``(team slug, login)`` asked about: the logins that are active members.

        Invited (``pending``) members are not members yet; 404 means "not a member".
        """
        members: dict[str, set[str]] = {}
        for team, login in dict.fromkeys(pairs):
            members.setdefault(team, set())
            if await self.is_active_member(installation_id, org, team, login):
                members[team].add(login)
        return MappingProxyType({team: frozenset(logins) for team, logins in members.items()})

    async def is_active_member(self, installation_id: int, org: str, team: str, login: str) -> bool:
        """Whether ``login`` is an active member of ``org``'s ``team`` (cached for the TTL)."""
        key = (org.lower(), team.lower(), login.lower())
        known = self._memberships.get(key)
        if known is not None:
            return known
        url = f"orgs/{org}/teams/{team}/memberships/{login}"
        try:
            membership = await self._http.get_one(installation_id, url, TeamMembership)
            active = membership.state == "active"
        except GitHubNotFound:
            active = False
        self._memberships.put(key, active)
        return active

    async def audit_log(
        self, installation_id: int, org: str, *, phrase: str
    ) -> list[dict[str, Any]]:
        """The events of ``org``'s audit log matching ``phrase`` (GitHub's search syntax, e.g.
        ``action:protected_branch.policy_override``), newest first, every page.

        Enterprise Cloud only; the App needs the organisation permission
        ``organization_administration: read``. Events stay raw JSON: the ledger checks them.
        """
        url = f"orgs/{org}/audit-log?phrase={quote(phrase, safe='')}&per_page={PER_PAGE}"
        return await self._http.get_all(installation_id, url, _json_objects)

    async def app_slug(self) -> str:
        """The App's slug (``GET /app`` with the JWT), read once per process."""
        if self._app_slug is None:
            self._app_slug = (await self._http.get_one(None, "app", AppInfo)).slug
        return self._app_slug

    async def is_own_sender(self, sender: Actor | None) -> bool:
        """Whether a delivery's ``sender`` is this App (``<app-slug>[bot]``).

        Anyone with write access can set a status with our context; only our bot is us.
        Users need no read to be told apart.
        """
        if sender is None or (sender.type is not None and sender.type != "Bot"):
            return False
        return sender.login.lower() == f"{await self.app_slug()}[bot]".lower()
