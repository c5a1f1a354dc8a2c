"""Reads about the organisation and the App: team memberships, the audit log, who we are.

Team memberships are kept for ``membership_cache_seconds`` and looked up at most
``max_membership_lookups`` per call, a few at a time; so is a user's profile (the approver's
public e-mail); the App's slug is kept for the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from app.github.cache import TTLCache
from app.github.errors import GitHubNotFound
from app.github.http import PER_PAGE, GitHubHttp
from app.github.payloads import Actor
from app.github.responses import AppInfo, TeamMembership, UserEntry
from app.rules.facts import Memberships, in_order

# Membership lookups run this many at a time: one by one, twenty cost twenty round trips;
# all at once they would be a burst, which GitHub's secondary rate limit punishes.
LOOKUPS_AT_ONCE = 4


async def _a_few_at_a_time(calls: Sequence[Callable[[], Awaitable[bool]]]) -> list[bool]:
    """The results of ``calls`` in order, ``LOOKUPS_AT_ONCE`` running at a time.

    The first runs alone: it fetches the installation token the others then share (githubkit
    would fetch one per request in flight). On a failure the rest are cancelled.
    """
    if not calls:
        return []
    first = await calls[0]()
    slots = asyncio.Semaphore(LOOKUPS_AT_ONCE)

    async def run(call: Callable[[], Awaitable[bool]]) -> bool:
        async with slots:
            return await call()

    tasks = [asyncio.ensure_future(run(call)) for call in calls[1:]]
    try:
        return [first, *await asyncio.gather(*tasks)]
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


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
        self._users: TTLCache[str, UserEntry] = TTLCache(
            max_entries=1024,
            ttl=timedelta(seconds=http.settings.membership_cache_seconds),
            clock=http.clock,
        )
        self._app_slug: str | None = None

    async def team_members(
        self, installation_id: int, org: str, pairs: Iterable[tuple[str, str]]
    ) -> Memberships:
        """For each ``(team slug, login)`` asked about: the logins that are active members.

        Each pair is looked up once (logins in any case), in the order given, and only the
        first ``max_membership_lookups`` (settings): the rest are ``unchecked`` and count as
        no member, so a pull request naming thousands of people costs that many requests at
        most. Invited (``pending``) members are not members yet; 404 means "not a member".
        """
        wanted = list(in_order(pairs))
        cap = self._http.settings.max_membership_lookups
        asked = wanted[:cap]
        active = await _a_few_at_a_time(
            [
                partial(self.is_active_member, installation_id, org, team, login)
                for team, login in asked
            ]
        )
        members: dict[str, set[str]] = {team: set() for team, _ in asked}
        for (team, login), is_member in zip(asked, active, strict=True):
            if is_member:
                members[team].add(login)
        return Memberships(members, unchecked=wanted[cap:], cap=cap)

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

    async def user(self, installation_id: int, login: str) -> UserEntry:
        """``login``'s profile (``GET /users/{login}``), cached like memberships.

        Read for the named approver only: their public e-mail (often null) and name are what
        a ``Co-authored-by:`` trailer can be matched with. An unknown login has no e-mail.
        """
        key = login.lower()
        if (known := self._users.get(key)) is not None:
            return known
        try:
            user = await self._http.get_one(installation_id, f"users/{login}", UserEntry)
        except GitHubNotFound:
            user = UserEntry(login=login)
        self._users.put(key, user)
        return user

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
