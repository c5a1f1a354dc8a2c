"""``GitHubGateway``: the one place where hotfix-lane talks to GitHub (REST only).

Reads fill a ``PullRequestSnapshot`` for the rules and fetch the policy files; writes publish
statuses, check runs, comments and issues. Every request goes through ``_send``, which retries
5xx replies, timeouts and connection errors, renews a rejected installation token once, and
turns rate limits into ``Defer`` (see ``ratelimit``). What cannot be answered raises (see
``errors``): the job fails and the queue retries it, so no evaluation is lost or turned green.

API economy, with warm caches:

- every GET is conditional (``If-None-Match``); a 304 costs nothing against the rate limit;
- commits and files of a pull request are fixed by its head and base, so they are kept per
  ``(head sha, base ref)`` and not read again while the head stays;
- team memberships and policy files are kept for ``membership_cache_seconds`` and
  ``policy_cache_seconds``; a push that touches the policy file drops that repository's entry.

Re-evaluating a hotfix pull request at a known head therefore reads check runs, the combined
status and the reviews: three requests (four at most with a membership to refresh).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httpx
from githubkit import GitHub, Response
from githubkit.exception import GitHubException
from pydantic import BaseModel, ValidationError

from app.github.cache import ETagEntry, TTLCache
from app.github.client import CountingTransport, TokenCache, build_github
from app.github.errors import GitHubNotFound, GitHubUnavailable
from app.github.names import CHECK_RUN_NAME, ORG_CONFIG_REPO, POLICY_PATH, STATUS_CONTEXT
from app.github.payloads import Actor, PullRequest, PushEvent, snapshot_from_payload
from app.github.ratelimit import Action, classify
from app.github.responses import (
    AppInfo,
    BranchInfo,
    BranchRule,
    CheckRunPage,
    CombinedStatusPage,
    CommitEntry,
    ContentFile,
    Created,
    DiffEntry,
    ReviewEntry,
    TeamMembership,
    list_parser,
)
from app.rules.model import ChangedFile, CheckResult, Commit, PullRequestSnapshot, Review
from app.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# GitHub.com and every GHES with API versions know 2022-11-28 (and default to it); githubkit's
# typed methods would send 2026-03-10, which older GHES releases refuse.
API_HEADERS: Mapping[str, str] = {"X-GitHub-Api-Version": "2022-11-28"}
PER_PAGE = 100
# GitHub lists at most 3,000 files of a pull request.
FILES_LIMIT = 3000
# ... and at most 250 of its commits, also without saying so.
COMMITS_LIMIT = 250
# Default pause before the 2nd and 3rd try of a request that failed transiently.
RETRY_DELAYS: tuple[float, ...] = (0.5, 2.0)

# A policy layer: where it comes from ("owner/repo:path") and its text (None: no such file).
PolicyLayer = tuple[str, str | None]
Sleep = Callable[[float], Awaitable[None]]
Call = Callable[[GitHub[Any]], Awaitable[Response[Any]]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _split(repo_full_name: str) -> tuple[str, str]:
    owner, _, name = repo_full_name.partition("/")
    if not owner or not name:
        raise ValueError(f"not an owner/name repository: {repo_full_name!r}")
    return owner, name


def _json_objects(data: Any) -> list[dict[str, Any]]:
    """A page of raw JSON objects (audit-log events); anything else is not a page."""
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError("expected a JSON array of objects")
    return data


@dataclasses.dataclass(frozen=True)
class _Diff:
    commits: tuple[Commit, ...]
    files: tuple[ChangedFile, ...]
    truncated: bool


@dataclass(frozen=True)
class BranchRequirements:
    classic_protection: bool
    required_checks: frozenset[str]
    ruleset_approvals: int


class GitHubGateway:
    """Installation-scoped access to GitHub for one process; create once, ``aclose`` at exit.

    ``clock`` drives every cache and ``Defer`` time; ``sleep`` and ``retry_delays`` the pause
    between tries (tests pass a sleep that returns at once); ``transport`` replaces the HTTP
    transport under the counting wrapper.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Sleep = asyncio.sleep,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._retry_delays = tuple(retry_delays)
        self._transport = CountingTransport(transport)
        self._tokens = TokenCache(clock=clock)
        self._app = build_github(settings, token_cache=self._tokens, transport=self._transport)
        self._installations: TTLCache[int, GitHub[Any]] = TTLCache(
            max_entries=512, ttl=None, clock=clock
        )
        self._etags: TTLCache[tuple[int | None, str], ETagEntry] = TTLCache(
            max_entries=4096, ttl=None, clock=clock
        )
        self._diffs: TTLCache[tuple[str, int, str, str], _Diff] = TTLCache(
            max_entries=512, ttl=None, clock=clock
        )
        self._memberships: TTLCache[tuple[str, str, str], bool] = TTLCache(
            max_entries=4096,
            ttl=timedelta(seconds=settings.membership_cache_seconds),
            clock=clock,
        )
        self._policies: TTLCache[str, tuple[PolicyLayer, ...]] = TTLCache(
            max_entries=1024,
            ttl=timedelta(seconds=settings.policy_cache_seconds),
            clock=clock,
        )
        self._own_runs: TTLCache[tuple[str, str], int] = TTLCache(
            max_entries=1024, ttl=timedelta(hours=1), clock=clock
        )
        self._app_slug: str | None = None

    @property
    def public_url(self) -> str | None:
        """``PUBLIC_URL``, for ``target_url`` / ``details_url`` links."""
        return self._settings.public_url

    async def aclose(self) -> None:
        await self._transport.close_pool()

    # -- plumbing -------------------------------------------------------------------------

    def _client(self, installation_id: int | None) -> GitHub[Any]:
        """The App client (JWT) for ``None``, else the installation's (installation token)."""
        if installation_id is None:
            return self._app
        client = self._installations.get(installation_id)
        if client is None:
            client = self._app.with_auth(self._app.auth.as_installation(installation_id))
            self._installations.put(installation_id, client)
        return client

    async def _send(self, installation_id: int | None, call: Call) -> httpx.Response:
        """Run ``call`` with retries, one token renewal, and rate limits raised as ``Defer``."""
        tries = 0
        renewed = False
        while True:
            try:
                response = await call(self._client(installation_id))
            except GitHubException as exc:
                failure = classify(exc, self._clock())
                if failure is None:
                    raise
                if failure.action is Action.RETRY and tries < len(self._retry_delays):
                    delay = self._retry_delays[tries]
                    tries += 1
                    logger.warning("%s; try %d in %.1fs", failure.reason, tries + 1, delay)
                    await self._sleep(delay)
                    continue
                if failure.action is Action.RENEW and not renewed:
                    renewed = True
                    logger.warning("%s; renewing the installation token", failure.reason)
                    self._tokens.forget(installation_id)
                    continue
                raise failure.to_exception() from exc
            return response.raw_response

    async def _get(
        self, installation_id: int | None, url: str, parse: Callable[[Any], T]
    ) -> tuple[T, str | None]:
        """A conditional GET: the parsed reply and the ``next`` page link.

        A 304 answers from the ETag cache, which holds what ``parse`` made of the last reply.
        """
        key = (installation_id, url)
        cached = self._etags.get(key)
        headers = dict(API_HEADERS)
        if cached is not None:
            headers["If-None-Match"] = cached.etag

        response = await self._send(
            installation_id, lambda gh: gh.arequest("GET", url, headers=headers)
        )
        if response.status_code == 304 and cached is not None:
            return cast(T, cached.value), cached.next_url
        try:
            value = parse(response.json())
        except (ValueError, ValidationError) as exc:
            raise GitHubUnavailable(
                f"GET {response.request.url.path}: reply not shaped as expected"
            ) from exc
        next_url = response.links.get("next", {}).get("url")
        if etag := response.headers.get("etag"):
            self._etags.put(key, ETagEntry(etag, value, next_url))
        return value, next_url

    async def _get_all(
        self, installation_id: int, url: str, parse: Callable[[Any], list[T]]
    ) -> list[T]:
        """Every page, following the ``Link: rel="next"`` header GitHub sends."""
        items: list[T] = []
        next_url: str | None = url
        while next_url is not None:
            page, next_url = await self._get(installation_id, next_url, parse)
            items.extend(page)
        return items

    async def _get_one(self, installation_id: int | None, url: str, model: type[M]) -> M:
        value, _ = await self._get(installation_id, url, model.model_validate)
        return value

    async def _write(self, installation_id: int, call: Call) -> Created | None:
        """Send a write; the id of what it created, when the reply names one."""
        response = await self._send(installation_id, call)
        try:
            return Created.model_validate(response.json())
        except (ValueError, ValidationError):
            return None

    # -- pull requests --------------------------------------------------------------------

    async def get_pull_request(
        self, installation_id: int, repo: str, number: int
    ) -> PullRequestSnapshot:
        """The pull request as the REST API has it now (for events that carry none)."""
        return snapshot_from_payload(repo, await self.pull_request(installation_id, repo, number))

    async def pull_request(self, installation_id: int, repo: str, number: int) -> PullRequest:
        """The pull request object itself, as webhooks carry it."""
        return await self._get_one(installation_id, f"repos/{repo}/pulls/{number}", PullRequest)

    async def enrich(
        self, installation_id: int, snapshot: PullRequestSnapshot
    ) -> PullRequestSnapshot:
        """Add commits, changed files and checks: four reads cold, two at a known head."""
        diff = await self._diff(installation_id, snapshot)
        checks = await self.checks(installation_id, snapshot.repo_full_name, snapshot.head_sha)
        return dataclasses.replace(
            snapshot,
            commits=diff.commits,
            files=diff.files,
            files_truncated=diff.truncated,
            checks=checks,
        )

    async def with_diff(
        self, installation_id: int, snapshot: PullRequestSnapshot
    ) -> PullRequestSnapshot:
        """Add commits and changed files only (cached per head): what a merge record needs."""
        diff = await self._diff(installation_id, snapshot)
        return dataclasses.replace(
            snapshot, commits=diff.commits, files=diff.files, files_truncated=diff.truncated
        )

    async def _diff(self, installation_id: int, snapshot: PullRequestSnapshot) -> _Diff:
        repo, number = snapshot.repo_full_name, snapshot.number
        key = (repo.lower(), number, snapshot.head_sha, snapshot.base_ref)
        if (known := self._diffs.get(key)) is not None:
            return known
        base = f"repos/{repo}/pulls/{number}"
        commits = await self._get_all(
            installation_id,
            f"{base}/commits?per_page={PER_PAGE}",
            list_parser(CommitEntry, CommitEntry.to_commit),
        )
        files = await self._get_all(
            installation_id,
            f"{base}/files?per_page={PER_PAGE}",
            list_parser(DiffEntry, DiffEntry.to_file),
        )
        # GitHub stops listing at 3,000 files and at 250 commits without saying so. Past the
        # commit limit the rules would judge trailers and incident ids on a partial history
        # (a commit naming another incident could be the one left out), so the snapshot is
        # incomplete either way and diff-size fails it closed.
        truncated = (
            len(files) >= FILES_LIMIT
            or snapshot.changed_files > len(files)
            or len(commits) >= COMMITS_LIMIT
        )
        diff = _Diff(tuple(commits), tuple(files), truncated)
        self._diffs.put(key, diff)
        return diff

    async def checks(self, installation_id: int, repo: str, sha: str) -> tuple[CheckResult, ...]:
        """Check runs and commit statuses on ``sha``, in one shape, without our own.

        Our own check run and status are left out: a rule about "other checks" must not wait
        for the result it is computing.
        """
        runs_with_ids = await self._get_all(
            installation_id,
            f"repos/{repo}/commits/{sha}/check-runs?per_page={PER_PAGE}",
            lambda data: CheckRunPage.model_validate(data).parse(),
        )
        for run, run_id in runs_with_ids:
            if run.name == CHECK_RUN_NAME and run_id is not None:
                # Ours, created before a crash could record it: the publisher adopts it
                # instead of creating a second one.
                self._own_runs.put((repo.lower(), sha), run_id)
        runs = [run for run, _ in runs_with_ids]
        statuses = await self._get_all(
            installation_id,
            f"repos/{repo}/commits/{sha}/status?per_page={PER_PAGE}",
            lambda data: [s.to_check() for s in CombinedStatusPage.model_validate(data).statuses],
        )
        return tuple(
            check
            for check in (*runs, *statuses)
            if check.name not in (CHECK_RUN_NAME, STATUS_CONTEXT)
        )

    def own_check_run(self, repo: str, sha: str) -> int | None:
        """Our check run on ``sha`` as last seen by ``checks`` (None: not seen)."""
        return self._own_runs.get((repo.lower(), sha))

    async def reviews(self, installation_id: int, repo: str, number: int) -> tuple[Review, ...]:
        reviews = await self._get_all(
            installation_id,
            f"repos/{repo}/pulls/{number}/reviews?per_page={PER_PAGE}",
            list_parser(ReviewEntry, ReviewEntry.to_review),
        )
        return tuple(reviews)

    async def branch_requirements(
        self, installation_id: int, repo: str, branch: str
    ) -> BranchRequirements:
        """What a merge into ``branch`` had to satisfy: classic protection and rulesets.

        Both reads need only the App's contents/metadata access. Classic protection's review
        rule is not visible without admin access (the caller decides what to assume); rulesets
        show theirs. A branch deleted since the merge reads as unprotected.
        """
        ref = quote(branch, safe="")
        try:
            info = await self._get_one(installation_id, f"repos/{repo}/branches/{ref}", BranchInfo)
        except GitHubNotFound:
            info = BranchInfo()
        try:
            rules = await self._get_all(
                installation_id,
                f"repos/{repo}/rules/branches/{ref}?per_page={PER_PAGE}",
                list_parser(BranchRule, lambda rule: rule),
            )
        except GitHubNotFound:
            rules = []
        checks = set(info.required_checks)
        approvals = 0
        for rule in rules:
            if rule.parameters is None:
                continue
            checks.update(check.context for check in rule.parameters.required_status_checks)
            if rule.type == "pull_request":
                approvals = max(approvals, rule.parameters.required_approving_review_count or 0)
        return BranchRequirements(
            classic_protection=info.protected,
            required_checks=frozenset(checks),
            ruleset_approvals=approvals,
        )

    # -- organisation ---------------------------------------------------------------------

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
            membership = await self._get_one(installation_id, url, TeamMembership)
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
        return await self._get_all(installation_id, url, _json_objects)

    async def app_slug(self) -> str:
        """The App's slug (``GET /app`` with the JWT), read once per process."""
        if self._app_slug is None:
            self._app_slug = (await self._get_one(None, "app", AppInfo)).slug
        return self._app_slug

    async def is_own_sender(self, sender: Actor | None) -> bool:
        """Whether a delivery's ``sender`` is this App (``<app-slug>[bot]``).

        Anyone with write access can set a status with our context; only our bot is us.
        Users need no read to be told apart.
        """
        if sender is None or (sender.type is not None and sender.type != "Bot"):
            return False
        return sender.login.lower() == f"{await self.app_slug()}[bot]".lower()

    # -- policy ---------------------------------------------------------------------------

    async def file_text(
        self, installation_id: int, repo: str, path: str, *, ref: str | None = None
    ) -> str | None:
        """A text file's content, or ``None`` if there is no such file (or it is not text)."""
        url = f"repos/{repo}/contents/{path}"
        if ref is not None:
            url += f"?ref={quote(ref, safe='')}"
        try:
            content = await self._get_one(installation_id, url, ContentFile)
        except GitHubNotFound:
            return None
        if content.type != "file" or content.encoding != "base64" or content.content is None:
            # Directories, symlinks and files over 1 MB (encoding "none") carry no text.
            logger.warning("%s:%s is not a readable text file", repo, path)
            return None
        try:
            return base64.b64decode(content.content).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            logger.warning("%s:%s is not UTF-8 text", repo, path)
            return None

    async def policy_layers(
        self, installation_id: int, repo_full_name: str, default_branch: str | None
    ) -> list[PolicyLayer]:
        """The policy file texts to merge over ``policies/default.yml``, lowest first.

        The repository's ``.github/hotfix-lane.yml`` on its default branch; only when it has
        none, the organisation's (``<org>/.github``, its default branch): then the list is
        ``[(org source, text or None), (repo source, None)]``. Cached per repository.
        """
        key = repo_full_name.lower()
        if (cached := self._policies.get(key)) is not None:
            return list(cached)
        repo_source = f"{repo_full_name}:{POLICY_PATH}"
        text = await self.file_text(
            installation_id, repo_full_name, POLICY_PATH, ref=default_branch
        )
        layers: tuple[PolicyLayer, ...]
        if text is not None:
            layers = ((repo_source, text),)
        else:
            org_repo = f"{_split(repo_full_name)[0]}/{ORG_CONFIG_REPO}"
            org_text = await self.file_text(installation_id, org_repo, POLICY_PATH)
            layers = ((f"{org_repo}:{POLICY_PATH}", org_text), (repo_source, None))
        self._policies.put(key, layers)
        return list(layers)

    def forget_policy(self, repo_full_name: str) -> None:
        self._policies.pop(repo_full_name.lower())

    def forget_org_policy(self, org: str) -> None:
        """Drop every cached policy of ``org``'s repositories (its ``.github`` repo changed)."""
        prefix = f"{org.lower()}/"
        self._policies.drop_where(lambda key: key.startswith(prefix))

    def note_push(self, push: PushEvent) -> bool:
        """Drop cached policies a push to a default branch may have changed; say if it did."""
        repo = push.repository
        if repo is None or not push.to_default_branch or not push.touches(POLICY_PATH):
            return False
        if _split(repo.full_name)[1].lower() == ORG_CONFIG_REPO:
            self.forget_org_policy(repo.owner_login)
        else:
            self.forget_policy(repo.full_name)
        return True

    def forget_installation(self, installation_id: int) -> None:
        """Drop the token, client and conditional-read entries of an installation."""
        self._tokens.forget(installation_id)
        self._installations.pop(installation_id)
        self._etags.drop_where(lambda key: key[0] == installation_id)

    # -- writes ---------------------------------------------------------------------------
    # githubkit's typed methods validate each body against GitHub's REST description before
    # sending; our builders produce plain dicts, hence the casts.

    async def set_status(
        self, installation_id: int, repo: str, sha: str, body: Mapping[str, Any]
    ) -> None:
        owner, name = _split(repo)
        await self._write(
            installation_id,
            lambda gh: gh.rest.repos.async_create_commit_status(
                owner, name, sha, headers=API_HEADERS, data=cast(Any, dict(body))
            ),
        )

    async def create_check_run(
        self, installation_id: int, repo: str, body: Mapping[str, Any]
    ) -> int:
        owner, name = _split(repo)
        created = await self._write(
            installation_id,
            lambda gh: gh.rest.checks.async_create(
                owner, name, headers=API_HEADERS, data=cast(Any, dict(body))
            ),
        )
        if created is None:
            raise GitHubUnavailable(f"POST /repos/{repo}/check-runs: reply carried no id")
        return created.id

    async def update_check_run(
        self, installation_id: int, repo: str, check_run_id: int, body: Mapping[str, Any]
    ) -> None:
        owner, name = _split(repo)
        await self._write(
            installation_id,
            lambda gh: gh.rest.checks.async_update(
                owner, name, check_run_id, headers=API_HEADERS, data=cast(Any, dict(body))
            ),
        )

    async def comment(self, installation_id: int, repo: str, number: int, body: str) -> None:
        """Comment on an issue or pull request."""
        owner, name = _split(repo)
        await self._write(
            installation_id,
            lambda gh: gh.rest.issues.async_create_comment(
                owner, name, number, headers=API_HEADERS, body=body
            ),
        )

    async def create_issue(
        self,
        installation_id: int,
        repo: str,
        *,
        title: str,
        body: str,
        labels: Sequence[str] = (),
        assignees: Sequence[str] = (),
    ) -> int:
        """Open an issue; returns its number."""
        owner, name = _split(repo)
        data: dict[str, Any] = {"title": title, "body": body}
        if labels:
            data["labels"] = list(labels)
        if assignees:
            data["assignees"] = list(assignees)
        created = await self._write(
            installation_id,
            lambda gh: gh.rest.issues.async_create(
                owner, name, headers=API_HEADERS, data=cast(Any, data)
            ),
        )
        if created is None or created.number is None:
            raise GitHubUnavailable(f"POST /repos/{repo}/issues: reply carried no number")
        return created.number
