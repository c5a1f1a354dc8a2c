"""Writes: commit statuses, check runs and comments.

githubkit's typed methods validate each body against GitHub's REST description before
sending; our builders produce plain dicts, hence the casts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from app.github.errors import GitHubUnavailable
from app.github.http import API_HEADERS, GitHubHttp, split_repo


class Writes:
    """Everything the App sends to GitHub, as thin wrappers over its REST routes."""

    def __init__(self, http: GitHubHttp) -> None:
        self._http = http

    async def set_status(
        self, installation_id: int, repo: str, sha: str, body: Mapping[str, Any]
    ) -> None:
        owner, name = split_repo(repo)
        await self._http.write(
            installation_id,
            lambda gh: gh.rest.repos.async_create_commit_status(
                owner, name, sha, headers=API_HEADERS, data=cast(Any, dict(body))
            ),
        )

    async def create_check_run(
        self, installation_id: int, repo: str, body: Mapping[str, Any]
    ) -> int:
        owner, name = split_repo(repo)
        created = await self._http.write(
            installation_id,
            lambda gh: gh.rest.checks.async_create(
                owner, name, headers=API_HEADERS, data=cast(Any, dict(body))
            ),
            creates=True,
        )
        if created is None:
            raise GitHubUnavailable(f"POST /repos/{repo}/check-runs: reply carried no id")
        return created.id

    async def update_check_run(
        self, installation_id: int, repo: str, check_run_id: int, body: Mapping[str, Any]
    ) -> None:
        owner, name = split_repo(repo)
        await self._http.write(
            installation_id,
            lambda gh: gh.rest.checks.async_update(
                owner, name, check_run_id, headers=API_HEADERS, data=cast(Any, dict(body))
            ),
        )

    async def comment(self, installation_id: int, repo: str, number: int, body: str) -> None:
        """Comment on an issue or pull request."""
        owner, name = split_repo(repo)
        await self._http.write(
            installation_id,
            lambda gh: gh.rest.issues.async_create_comment(
                owner, name, number, headers=API_HEADERS, body=body
            ),
            creates=True,
        )
