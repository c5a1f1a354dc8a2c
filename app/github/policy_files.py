"""Reads of the policy files, kept for ``policy_cache_seconds`` per repository.

A push that touches the policy file on a default branch drops what it may have changed: the
repository's entry, every entry of the organisation when it is the ``.github`` repository, and
every entry built on it when it is the repository an organisation file ``_extends``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

from app.github.cache import TTLCache
from app.github.errors import GitHubNotFound
from app.github.http import GitHubHttp, split_repo
from app.github.names import ORG_CONFIG_REPO, POLICY_PATH
from app.github.payloads import PushEvent
from app.github.responses import ContentFile
from app.policy.layers import PolicyLayer, Scope, extends_of, resolve_extends

logger = logging.getLogger(__name__)


# Changes recorded by other processes are read at most this often, before a policy lookup.
SYNC_SECONDS = 1.0

# The repositories whose policy file changed since the feed was last read.
ChangeFeed = Callable[[], list[str]]


class PolicyFiles:
    """The policy layers of a repository, cached until they expire or a push changes them.

    With a ``changes`` feed (the store's record of pushes to policy files), a push seen by
    another process drops the cache here too, before the next lookup.
    """

    def __init__(self, http: GitHubHttp, *, changes: ChangeFeed | None = None) -> None:
        self._http = http
        self._changes = changes
        self._synced_at = float("-inf")
        self._policies: TTLCache[str, tuple[PolicyLayer, ...]] = TTLCache(
            max_entries=1024,
            ttl=timedelta(seconds=http.settings.policy_cache_seconds),
            clock=http.clock,
        )
        # Repositories an organisation file has extended ("acme/base"): a push to one drops
        # the organisation's entries like a push to its .github repository.
        self._bases: set[str] = set()

    async def policy_layers(
        self, installation_id: int, repo_full_name: str, default_branch: str | None
    ) -> list[PolicyLayer]:
        """The policy files to merge over ``policies/default.yml``, lowest first.

        The organisation's (``<org>/.github``, its default branch), always: under it the file its
        ``_extends`` names, if any; then the repository's ``.github/hotfix-lane.yml`` on its
        default branch, tagged as the repository's (the one that may only tighten). A file that
        does not exist is a layer with ``None`` text. Cached per repository.
        """
        await self._sync()
        key = repo_full_name.lower()
        if (cached := self._policies.get(key)) is not None:
            return list(cached)
        org_repo = f"{split_repo(repo_full_name)[0]}/{ORG_CONFIG_REPO}"
        layers: list[PolicyLayer] = []
        if key != org_repo.lower():
            text = await self.file_text(
                installation_id, repo_full_name, POLICY_PATH, ref=default_branch
            )
            layers.append(PolicyLayer(f"{repo_full_name}:{POLICY_PATH}", text, Scope.REPOSITORY))
        # The .github repository's own file is the organisation's: read once, as the floor.
        org_text = await self.file_text(installation_id, org_repo, POLICY_PATH)
        org_source = f"{org_repo}:{POLICY_PATH}"
        layers.insert(0, PolicyLayer(org_source, org_text))
        if (value := extends_of(org_text)) is not None:
            layers.insert(0, await self._base(installation_id, org_repo, org_source, value))
        self._policies.put(key, tuple(layers))
        return layers

    async def _base(
        self, installation_id: int, org_repo: str, org_source: str, value: object
    ) -> PolicyLayer:
        """The layer the organisation's ``_extends: value`` names (one level deep)."""
        target, problem = resolve_extends(org_repo, value)
        if target is None:
            return PolicyLayer(org_source, None, extended_by=org_source, problem=problem)
        self._bases.add(target.lower())
        source = f"{target}:{POLICY_PATH}"
        text = await self.file_text(installation_id, target, POLICY_PATH)
        if text is None:
            problem = f"{source} does not exist"
        elif extends_of(text) is not None:
            problem = f"{source} has an _extends of its own; only one level is followed"
        return PolicyLayer(source, text, extended_by=org_source, problem=problem)

    def note_push(self, push: PushEvent) -> bool:
        """Drop cached policies a push to a default branch may have changed; say if it did."""
        repo = push.repository
        if repo is None or not push.to_default_branch or not push.touches(POLICY_PATH):
            return False
        self.forget(repo.full_name)
        return True

    def forget(self, repo_full_name: str) -> None:
        """Drop what a change to ``repo_full_name``'s policy file may have made stale."""
        name = repo_full_name.lower()
        if split_repo(name)[1] == ORG_CONFIG_REPO or name in self._bases:
            # Every one of the organisation's repositories stands on its file (and on the file
            # it extends): drop them all.
            prefix = f"{split_repo(name)[0]}/"
            self._policies.drop_where(lambda key: key.startswith(prefix))
        else:
            self._policies.pop(name)

    async def _sync(self) -> None:
        """Drop what pushes seen by other processes changed (read at most every second)."""
        if self._changes is None:
            return
        now = self._http.clock().timestamp()
        if now - self._synced_at < SYNC_SECONDS:
            return
        self._synced_at = now
        for repo in await asyncio.to_thread(self._changes):
            self.forget(repo)

    async def file_text(
        self, installation_id: int, repo: str, path: str, *, ref: str | None = None
    ) -> str | None:
        """A text file's content, or ``None`` if there is no such file (or it is not text).

        Policy files, and the postmortem a ``/hotfix postmortem`` link points at.
        """
        url = f"repos/{repo}/contents/{path}"
        if ref is not None:
            url += f"?ref={quote(ref, safe='')}"
        try:
            content = await self._http.get_one(installation_id, url, ContentFile)
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
