"""Writes: commit statuses, check runs and comments.

Every body is validated against GitHub's REST description (githubkit's models) before it is
sent; our builders produce plain dicts, hence the casts. githubkit's typed methods do that
themselves, but build the validator of a union body anew on every call: for a check run that
is a quarter of a millisecond, twice per evaluation. Check runs therefore go through
validators built once, with what is sent made exactly as the typed method would make it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from githubkit.compat import model_dump
from githubkit.utils import exclude_unset
from githubkit_schemas.latest.models import (
    ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof0,
    ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof1,
    ReposOwnerRepoCheckRunsPostBodyOneof0,
    ReposOwnerRepoCheckRunsPostBodyOneof1,
)
from pydantic import BaseModel, TypeAdapter

from app.github.errors import GitHubUnavailable
from app.github.http import API_HEADERS, GitHubHttp, split_repo

# The unions githubkit's ``checks.create`` and ``checks.update`` validate against.
_CHECK_RUN_CREATE: TypeAdapter[Any] = TypeAdapter(
    ReposOwnerRepoCheckRunsPostBodyOneof0 | ReposOwnerRepoCheckRunsPostBodyOneof1
)
_CHECK_RUN_UPDATE: TypeAdapter[Any] = TypeAdapter(
    ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof0
    | ReposOwnerRepoCheckRunsCheckRunIdPatchBodyAnyof1
)


def _checked(adapter: TypeAdapter[Any], body: Mapping[str, Any]) -> Any:
    """``body`` validated, as githubkit would send it; a ``ValidationError`` if it is not
    what GitHub accepts (a bug of ours: the job fails rather than send it)."""
    validated = adapter.validate_python(dict(body))
    return exclude_unset(model_dump(validated) if isinstance(validated, BaseModel) else validated)


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
        url = self._http.url(f"/repos/{owner}/{name}/check-runs")
        json = _checked(_CHECK_RUN_CREATE, body)
        created = await self._http.write(
            installation_id,
            lambda gh: gh.arequest("POST", url, json=json, headers=API_HEADERS),
            creates=True,
        )
        if created is None:
            raise GitHubUnavailable(f"POST /repos/{repo}/check-runs: reply carried no id")
        return created.id

    async def update_check_run(
        self, installation_id: int, repo: str, check_run_id: int, body: Mapping[str, Any]
    ) -> None:
        owner, name = split_repo(repo)
        url = self._http.url(f"/repos/{owner}/{name}/check-runs/{check_run_id}")
        json = _checked(_CHECK_RUN_UPDATE, body)
        await self._http.write(
            installation_id,
            lambda gh: gh.arequest("PATCH", url, json=json, headers=API_HEADERS),
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
