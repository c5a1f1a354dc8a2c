"""Reads of a pull request: the object itself, its commits and changed files, its checks.

Commits and files of a pull request are fixed by its head and base, so they are kept per
``(head sha, base ref)`` and not read again while the head stays. A commit with two parents
is a merge of the base branch only if GitHub says its second parent is on that branch (one
compare read per such commit; a parent found on the base stays there, so that is kept).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from app.github.cache import TTLCache
from app.github.checks import CheckReads
from app.github.errors import GitHubNotFound
from app.github.http import PER_PAGE, GitHubHttp
from app.github.payloads import PullRequest
from app.github.responses import (
    CommitEntry,
    ComparedCommits,
    CompareEntry,
    DiffEntry,
    list_parser,
)
from app.rules.model import ChangedFile, Commit, PullRequestSnapshot

# GitHub lists at most 3,000 files of a pull request.
FILES_LIMIT = 3000
# ... and at most 250 of its commits, also without saying so.
COMMITS_LIMIT = 250
# Merge commits asked about per diff: past these, a merge counts as written (fail closed), so
# a branch of 250 merges costs 20 compare reads, not 250.
MAX_MERGE_CHECKS = 20


@dataclasses.dataclass(frozen=True)
class _Diff:
    commits: tuple[Commit, ...]
    files: tuple[ChangedFile, ...]
    truncated: bool


class PullRequestReads:
    """Pull request reads; ``checks`` supplies the checks part of ``enrich``."""

    def __init__(self, http: GitHubHttp, *, checks: CheckReads) -> None:
        self._http = http
        self._checks = checks
        self._diffs: TTLCache[tuple[str, int, str, str], _Diff] = TTLCache(
            max_entries=512, ttl=None, clock=http.clock
        )
        # (repo, base ref, sha) of commits found on the base branch: history only grows there.
        self._on_base: TTLCache[tuple[str, str, str], bool] = TTLCache(
            max_entries=4096, ttl=None, clock=http.clock
        )

    async def pull_request(self, installation_id: int, repo: str, number: int) -> PullRequest:
        """The pull request object itself, as webhooks carry it."""
        return await self._http.get_one(
            installation_id, f"repos/{repo}/pulls/{number}", PullRequest
        )

    async def enrich(
        self, installation_id: int, snapshot: PullRequestSnapshot
    ) -> PullRequestSnapshot:
        """Add commits, changed files and checks: four reads cold, two at a known head."""
        diff = await self._diff(installation_id, snapshot)
        checks = await self._checks.checks(
            installation_id, snapshot.repo_full_name, snapshot.head_sha
        )
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
        commits = await self._http.get_all(
            installation_id,
            f"{base}/commits?per_page={PER_PAGE}",
            list_parser(CommitEntry, CommitEntry.to_commit),
        )
        commits = await self._mark_base_merges(installation_id, repo, snapshot.base_ref, commits)
        files = await self._http.get_all(
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

    async def _mark_base_merges(
        self, installation_id: int, repo: str, base_ref: str, commits: list[Commit]
    ) -> list[Commit]:
        """``commits`` with ``base_merge`` set where there are two parents, the second on
        ``base_ref``.

        GitHub's "Update branch" and ``git merge main`` make such commits; a message saying
        "Merge branch 'main'" proves nothing, and a merge of another branch brings in code
        someone wrote, so both are judged like any other commit.
        """
        marked: list[Commit] = []
        asked = 0
        for commit in commits:
            if len(commit.parents) == 2 and asked < MAX_MERGE_CHECKS:
                asked += 1
                on_base = await self.is_on_branch(
                    installation_id, repo, base_ref, commit.parents[1]
                )
                commit = dataclasses.replace(commit, base_merge=on_base)
            marked.append(commit)
        return marked

    async def compared_messages(
        self, installation_id: int, repo: str, base: str, head: str
    ) -> tuple[str, ...]:
        """The messages of the commits ``head`` adds to ``base``: the first page, 100 of them
        (a merge group holds a handful)."""
        url = f"repos/{repo}/compare/{base}...{head}?per_page=100"
        compared = await self._http.get_one(installation_id, url, ComparedCommits)
        return compared.messages

    async def is_on_branch(self, installation_id: int, repo: str, branch: str, sha: str) -> bool:
        """Whether ``sha`` is ``branch``'s head or an ancestor of it (the compare API)."""
        key = (repo.lower(), branch, sha)
        if self._on_base.get(key):
            return True
        url = f"repos/{repo}/compare/{quote(branch, safe='/')}...{sha}?per_page=1"
        try:
            compared = await self._http.get_one(installation_id, url, CompareEntry)
        except GitHubNotFound:
            # An unknown sha or branch: not shown to be on the base, so judged as written.
            return False
        on_branch = compared.status in {"behind", "identical"}
        if on_branch:
            self._on_base.put(key, True)
        return on_branch
