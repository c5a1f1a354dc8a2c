"""Lenient models of the REST replies the gateway reads, and their mapping to rule values.

githubkit's ``.parsed_data`` validates whole replies against the OpenAPI description and fails
on the odd ``null``; we read the few fields the rules use and ignore the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import TypeAdapter

from app.github.payloads import Actor, AppRef, Lenient
from app.rules.model import ChangedFile, CheckResult, Commit, Review
from app.rules.text import co_author_trailers

T = TypeVar("T")
L = TypeVar("L", bound=Lenient)


def list_parser(model: type[L], convert: Callable[[L], T | None]) -> Callable[[Any], list[T]]:
    """A parser of a JSON array of ``model`` that keeps what ``convert`` makes of each item
    (``None``: skip it)."""
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]

    def parse(data: Any) -> list[T]:
        items = (convert(item) for item in adapter.validate_python(data))
        return [item for item in items if item is not None]

    return parse


class GitIdentity(Lenient):
    """A commit's git author or committer: what was typed into git, not a GitHub account."""

    name: str | None = None
    email: str | None = None


class CommitDetail(Lenient):
    message: str = ""
    author: GitIdentity | None = None
    committer: GitIdentity | None = None


class ParentRef(Lenient):
    sha: str


class CommitEntry(Lenient):
    """An item of ``GET /pulls/{n}/commits``; ``author``/``committer`` are null when the
    commit's e-mail matches no GitHub account (``commit.author``/``commit.committer`` still
    carry the name and e-mail git recorded)."""

    sha: str
    commit: CommitDetail
    author: Actor | None = None
    committer: Actor | None = None
    parents: tuple[ParentRef, ...] = ()

    def to_commit(self) -> Commit:
        """The commit, ``base_merge`` not yet known (the gateway asks GitHub about merges)."""
        git_author = self.commit.author or GitIdentity()
        git_committer = self.commit.committer or GitIdentity()
        return Commit(
            sha=self.sha,
            message=self.commit.message,
            author_login=self.author.login if self.author else None,
            committer_login=self.committer.login if self.committer else None,
            author_email=git_author.email,
            committer_email=git_committer.email,
            author_name=git_author.name,
            committer_name=git_committer.name,
            parents=tuple(parent.sha for parent in self.parents),
            co_authors=co_author_trailers(self.commit.message),
        )


class DiffEntry(Lenient):
    """An item of ``GET /pulls/{n}/files`` (the ``patch`` text is deliberately not read)."""

    filename: str
    additions: int = 0
    deletions: int = 0
    status: str = "modified"

    def to_file(self) -> ChangedFile:
        return ChangedFile(
            path=self.filename,
            additions=self.additions,
            deletions=self.deletions,
            status=self.status,
        )


class CheckRunEntry(Lenient):
    id: int | None = None
    name: str
    status: str
    conclusion: str | None = None
    app: AppRef | None = None
    completed_at: datetime | None = None

    def to_check(self) -> CheckResult:
        return CheckResult(
            name=self.name,
            status=self.status,
            conclusion=self.conclusion,
            source="check_run",
            app_slug=self.app.slug if self.app else None,
            app_id=self.app.id if self.app else None,
            completed_at=self.completed_at,
        )


class CheckRunPage(Lenient):
    check_runs: tuple[CheckRunEntry, ...] = ()

    def parse(self) -> list[tuple[CheckResult, int | None]]:
        return [(run.to_check(), run.id) for run in self.check_runs]


# Commit status states in the shape of check runs (see ``CheckResult``).
_STATUS_AS_CHECK: dict[str, tuple[str, str | None]] = {
    "pending": ("in_progress", None),
    "success": ("completed", "success"),
    "failure": ("completed", "failure"),
    "error": ("completed", "failure"),
}


class StatusEntry(Lenient):
    context: str
    state: str
    updated_at: datetime | None = None

    def to_check(self) -> CheckResult:
        status, conclusion = _STATUS_AS_CHECK.get(self.state, ("completed", "failure"))
        return CheckResult(
            name=self.context,
            status=status,
            conclusion=conclusion,
            source="status",
            completed_at=self.updated_at,
        )


class CombinedStatusPage(Lenient):
    """``GET /commits/{sha}/status``: the latest status per context (paginated)."""

    statuses: tuple[StatusEntry, ...] = ()


class ReviewEntry(Lenient):
    """An item of ``GET /pulls/{n}/reviews``; ``user`` is null for deleted accounts."""

    user: Actor | None = None
    state: str
    commit_id: str | None = None
    submitted_at: datetime | None = None

    def to_review(self) -> Review | None:
        if self.user is None:
            return None
        return Review(
            user_login=self.user.login,
            state=self.state,
            commit_id=self.commit_id,
            submitted_at=self.submitted_at,
        )


class UserEntry(Lenient):
    """``GET /users/{login}``: ``email`` is the public e-mail, null unless the user shows one."""

    login: str
    id: int | None = None
    email: str | None = None
    name: str | None = None

    @property
    def emails(self) -> frozenset[str]:
        """The public e-mail and GitHub's no-reply forms for the account, lower-cased."""
        login = self.login.lower()
        emails = {f"{login}@users.noreply.github.com"}
        if self.id is not None:
            emails.add(f"{self.id}+{login}@users.noreply.github.com")
        if self.email:
            emails.add(self.email.strip().lower())
        return frozenset(emails)


class CompareEntry(Lenient):
    """``GET /repos/{o}/{r}/compare/{base}...{head}``: ``behind`` or ``identical`` means the
    head is the base or an ancestor of it."""

    status: str


class _CommitText(Lenient):
    message: str = ""


class _ComparedCommit(Lenient):
    sha: str
    commit: _CommitText


class ComparedCommits(Lenient):
    """``GET /repos/{o}/{r}/compare/{base}...{head}``: the commits the head adds, oldest
    first (one page of them)."""

    status: str
    commits: list[_ComparedCommit] = []

    @property
    def messages(self) -> tuple[str, ...]:
        return tuple(entry.commit.message for entry in self.commits)


class TeamMembership(Lenient):
    """``GET /orgs/{org}/teams/{team}/memberships/{user}``: ``pending`` means invited only."""

    state: str


class ContentFile(Lenient):
    """``GET /repos/{owner}/{repo}/contents/{path}``: base64 text, or ``encoding: none`` for
    files over 1 MB (whose content GitHub leaves out)."""

    type: str = "file"
    encoding: str | None = None
    content: str | None = None


class AppInfo(Lenient):
    slug: str


class Created(Lenient):
    """The ``id`` of something we created."""

    id: int


class _RequiredChecks(Lenient):
    contexts: tuple[str, ...] = ()


class _BranchProtection(Lenient):
    enabled: bool = False
    required_status_checks: _RequiredChecks | None = None


class BranchInfo(Lenient):
    """``GET /repos/{owner}/{repo}/branches/{branch}``: classic protection's required checks
    are visible here with read access (the protection endpoint itself needs admin)."""

    protected: bool = False
    protection: _BranchProtection | None = None

    @property
    def required_checks(self) -> tuple[str, ...]:
        checks = self.protection.required_status_checks if self.protection else None
        return checks.contexts if checks else ()


class _RuleCheck(Lenient):
    context: str


class _RuleParameters(Lenient):
    required_status_checks: tuple[_RuleCheck, ...] = ()
    required_approving_review_count: int | None = None


class BranchRule(Lenient):
    """An item of ``GET /repos/{owner}/{repo}/rules/branches/{branch}`` (active rulesets)."""

    type: str
    parameters: _RuleParameters | None = None
