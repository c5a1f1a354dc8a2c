"""Reads of the policy files, kept for ``policy_cache_seconds`` per repository.

A push that touches the policy file on a default branch drops what it may have changed: the
repository's entry, or every entry of the organisation when it is the ``.github`` repository.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import timedelta
from urllib.parse import quote

from app.github.cache import TTLCache
from app.github.errors import GitHubNotFound
from app.github.http import GitHubHttp, split_repo
from app.github.names import ORG_CONFIG_REPO, POLICY_PATH
from app.github.payloads import PushEvent
from app.github.responses import ContentFile

logger = logging.getLogger(__name__)

# A policy layer: where it comes from ("owner/repo:path") and its text (None: no such file).
PolicyLayer = tuple[str, str | None]


class PolicyFiles:
    """The policy layers of a repository, cached until they expire or a push changes them."""

    def __init__(self, http: GitHubHttp) -> None:
        self._http = http
        self._policies: TTLCache[str, tuple[PolicyLayer, ...]] = TTLCache(
            max_entries=1024,
            ttl=timedelta(seconds=http.settings.policy_cache_seconds),
            clock=http.clock,
        )

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
            org_repo = f"{split_repo(repo_full_name)[0]}/{ORG_CONFIG_REPO}"
            org_text = await self.file_text(installation_id, org_repo, POLICY_PATH)
            layers = ((f"{org_repo}:{POLICY_PATH}", org_text), (repo_source, None))
        self._policies.put(key, layers)
        return list(layers)

    def note_push(self, push: PushEvent) -> bool:
        """Drop cached policies a push to a default branch may have changed; say if it did."""
        repo = push.repository
        if repo is None or not push.to_default_branch or not push.touches(POLICY_PATH):
            return False
        if split_repo(repo.full_name)[1].lower() == ORG_CONFIG_REPO:
            # Any of the organisation's repositories may fall back to its file: drop them all.
            prefix = f"{repo.owner_login.lower()}/"
            self._policies.drop_where(lambda key: key.startswith(prefix))
        else:
            self._policies.pop(repo.full_name.lower())
        return True

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
