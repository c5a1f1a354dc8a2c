"""Issues: the tracking issue of a hotfix, and the comments that must be posted only once.

Creating an issue or a comment is not idempotent on GitHub's side, and a job can die between
GitHub accepting the write and the store recording it. So the tracking issue is looked up
before it is created (by its exact title and label, and only if this App opened it), and a
comment that must appear once carries a hidden marker that is looked for first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import quote

from app.github.errors import GitHubUnavailable
from app.github.http import API_HEADERS, PER_PAGE, GitHubHttp, split_repo
from app.github.organisation import OrganisationReads
from app.github.payloads import Actor, Lenient


class IssueEntry(Lenient):
    number: int
    title: str = ""
    user: Actor | None = None
    pull_request: dict[str, Any] | None = None


class CommentEntry(Lenient):
    body: str | None = ""
    user: Actor | None = None


class CreatedIssue(Lenient):
    number: int


class Issues:
    """Open, find, update and close issues; comments posted once."""

    def __init__(self, http: GitHubHttp, *, organisation: OrganisationReads) -> None:
        self._http = http
        self._organisation = organisation

    async def create_issue(
        self, installation_id: int, repo: str, *, title: str, body: str, labels: Sequence[str]
    ) -> int:
        """Open an issue; returns its number."""
        owner, name = split_repo(repo)
        data = {"title": title, "body": body, "labels": list(labels)}
        response = await self._http.send(
            installation_id,
            lambda gh: gh.rest.issues.async_create(
                owner, name, headers=API_HEADERS, data=cast(Any, data)
            ),
            creates=True,
        )
        try:
            return CreatedIssue.model_validate(response.json()).number
        except ValueError as exc:
            raise GitHubUnavailable(f"POST /repos/{repo}/issues: reply carried no number") from exc

    async def update_issue(
        self,
        installation_id: int,
        repo: str,
        number: int,
        *,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> None:
        """Rewrite an issue's body and/or open or close it."""
        owner, name = split_repo(repo)
        data: dict[str, Any] = {}
        if body is not None:
            data["body"] = body
        if state is not None:
            data["state"] = state
        if state_reason is not None:
            data["state_reason"] = state_reason
        await self._http.write(
            installation_id,
            lambda gh: gh.rest.issues.async_update(
                owner, name, number, headers=API_HEADERS, data=cast(Any, data)
            ),
        )

    async def find_own_issue(
        self, installation_id: int, repo: str, *, title: str, label: str
    ) -> int | None:
        """The number of the issue this App opened with ``title`` and ``label``, if any.

        Others may open an issue with the same title and label; only ours is adopted.
        """
        url = (
            f"repos/{repo}/issues?labels={quote(label, safe='')}&state=all"
            f"&sort=created&direction=asc&per_page={PER_PAGE}"
        )
        entries = await self._http.get_all(
            installation_id, url, lambda data: [IssueEntry.model_validate(i) for i in data]
        )
        for entry in entries:
            ours = entry.pull_request is None and entry.title == title
            if ours and await self._organisation.is_own_sender(entry.user):
                return entry.number
        return None

    async def comment_once(
        self, installation_id: int, repo: str, number: int, body: str, *, marker: str
    ) -> bool:
        """Post ``body`` (with the hidden ``marker`` appended) unless a comment of ours already
        carries the marker; True if it was posted now."""
        tag = f"<!-- hotfix-lane:{marker} -->"
        url = f"repos/{repo}/issues/{number}/comments?per_page={PER_PAGE}"
        comments = await self._http.get_all(
            installation_id, url, lambda data: [CommentEntry.model_validate(c) for c in data]
        )
        for comment in comments:
            if tag in (comment.body or "") and await self._organisation.is_own_sender(comment.user):
                return False
        owner, name = split_repo(repo)
        await self._http.write(
            installation_id,
            lambda gh: gh.rest.issues.async_create_comment(
                owner, name, number, headers=API_HEADERS, body=f"{body}\n\n{tag}"
            ),
            creates=True,
        )
        return True
