"""Lenient models of the webhook payloads: only the fields hotfix-lane reads.

githubkit's typed webhook models reject many real deliveries (fields documented as required
arrive as ``null``, shapes differ between actions), so we read GitHub's JSON through models of
our own: unknown fields are ignored, optional ones may be missing, and ``null`` where GitHub
promises a boolean reads as ``False``. The pull request model is also what the REST
``GET /repos/{owner}/{repo}/pulls/{number}`` reply is read with: both have the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from app.rules.model import PullRequestSnapshot

logger = logging.getLogger(__name__)

# GitHub cuts the commit list of a push webhook at this many entries.
PUSH_COMMITS_LIMIT = 2048


class Lenient(BaseModel):
    """Ignore what we do not read; GitHub adds fields to payloads without notice."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Actor(Lenient):
    """A user, bot or organisation as payloads show it (``sender``, ``user``, ``merged_by``)."""

    login: str
    type: str | None = None


class Owner(Lenient):
    login: str


class Repository(Lenient):
    full_name: str
    # Always sent by GitHub; if it were missing, reads without a ref use the default branch.
    default_branch: str | None = None
    owner: Owner | None = None

    @property
    def owner_login(self) -> str:
        return self.owner.login if self.owner else self.full_name.split("/", 1)[0]


class InstallationRef(Lenient):
    id: int
    account: Owner | None = None


class Label(Lenient):
    name: str


class GitRef(Lenient):
    ref: str
    sha: str


class PullRequest(Lenient):
    """A pull request in a webhook or a REST reply.

    The ``pull_request`` object of ``pull_request_review`` and ``check_run`` deliveries is the
    short form, without ``merged``, ``additions``, ``deletions`` or ``changed_files``: check
    ``has_diff_stats`` before trusting those zeros.
    """

    number: int
    title: str = ""
    body: str | None = None
    user: Actor | None = None
    head: GitRef
    base: GitRef
    labels: tuple[Label, ...] = ()
    draft: bool = False
    state: str = "open"
    merged: bool = False
    merged_by: Actor | None = None
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    additions: int = 0
    deletions: int = 0
    changed_files: int = 0
    html_url: str | None = None
    # When the hotfix was opened: the start of its window in the audit-review checklist.
    created_at: datetime | None = None
    # Orders deliveries that race each other: an older copy of the PR must not win.
    updated_at: datetime | None = None

    @field_validator("draft", "merged", mode="before")
    @classmethod
    def _null_is_false(cls, value: object) -> object:
        # Older deliveries and GHES send ``"merged": null`` on open pull requests.
        return False if value is None else value

    @field_validator("additions", "deletions", "changed_files", mode="before")
    @classmethod
    def _null_is_zero(cls, value: object) -> object:
        return 0 if value is None else value

    @property
    def has_diff_stats(self) -> bool:
        """Whether the payload carried additions/deletions (the full pull request shape)."""
        return "additions" in self.model_fields_set


class WebhookEvent(Lenient):
    """What every delivery we handle may carry."""

    action: str | None = None
    installation: InstallationRef | None = None
    repository: Repository | None = None
    sender: Actor | None = None

    @property
    def installation_id(self) -> int | None:
        return self.installation.id if self.installation else None


class PullRequestEvent(WebhookEvent):
    pull_request: PullRequest


class DeploymentPayload(Lenient):
    id: int
    sha: str
    environment: str | None = None


class _AppRef(Lenient):
    slug: str | None = None


class DeploymentStatusPayload(Lenient):
    id: int
    # error, failure, inactive, pending, success, queued, in_progress
    state: str
    environment: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    creator: Actor | None = None
    performed_via_github_app: _AppRef | None = None

    @property
    def reporters(self) -> set[str]:
        """Who made the status: its creator's login and the App it was made through."""
        found = {self.creator.login.lower()} if self.creator is not None else set()
        app = self.performed_via_github_app
        if app is not None and app.slug:
            found.add(app.slug.lower())
        return found


class DeploymentStatusEvent(WebhookEvent):
    """``deployment_status``: what Argo CD's notifications (and most deploy tools) write."""

    deployment: DeploymentPayload
    deployment_status: DeploymentStatusPayload

    @property
    def environment(self) -> str:
        return self.deployment_status.environment or self.deployment.environment or "unknown"


class ReviewPayload(Lenient):
    state: str
    user: Actor | None = None
    commit_id: str | None = None
    submitted_at: datetime | None = None


class PullRequestReviewEvent(WebhookEvent):
    review: ReviewPayload
    pull_request: PullRequest


class AppRef(Lenient):
    id: int | None = None
    slug: str | None = None


class CheckRunPayload(Lenient):
    name: str
    head_sha: str
    status: str
    conclusion: str | None = None
    app: AppRef | None = None


class CheckRunEvent(WebhookEvent):
    check_run: CheckRunPayload


class CheckSuitePayload(Lenient):
    head_sha: str


class CheckSuiteEvent(WebhookEvent):
    check_suite: CheckSuitePayload


class StatusEvent(WebhookEvent):
    """A commit status was set. ``sender`` is who set it: the App's own writes come back
    here too, as ``<app-slug>[bot]``."""

    sha: str
    context: str
    state: str
    description: str | None = None
    target_url: str | None = None


class IssuePullRef(Lenient):
    """Present on an issue exactly when the issue is a pull request."""

    url: str | None = None


class IssuePayload(Lenient):
    number: int
    pull_request: IssuePullRef | None = None

    @property
    def is_pull_request(self) -> bool:
        return self.pull_request is not None


class CommentPayload(Lenient):
    body: str = ""
    user: Actor | None = None


class IssueCommentEvent(WebhookEvent):
    issue: IssuePayload
    comment: CommentPayload


class PushCommit(Lenient):
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


class PushEvent(WebhookEvent):
    ref: str
    commits: tuple[PushCommit, ...] = ()

    @property
    def to_default_branch(self) -> bool:
        repo = self.repository
        return repo is not None and self.ref == f"refs/heads/{repo.default_branch}"

    def touches(self, path: str) -> bool:
        """Whether the push may have changed ``path``.

        A force push back to an older commit lists no commits, and GitHub stops listing at
        2,048: in both cases we cannot tell, so the answer is yes.
        """
        if not self.commits or len(self.commits) >= PUSH_COMMITS_LIMIT:
            return True
        return any(
            path in commit.added or path in commit.modified or path in commit.removed
            for commit in self.commits
        )


class InstallationEvent(WebhookEvent):
    installation: InstallationRef


EVENT_MODELS: Mapping[str, type[WebhookEvent]] = {
    "pull_request": PullRequestEvent,
    "pull_request_review": PullRequestReviewEvent,
    "check_run": CheckRunEvent,
    "check_suite": CheckSuiteEvent,
    "status": StatusEvent,
    "issue_comment": IssueCommentEvent,
    "push": PushEvent,
    "installation": InstallationEvent,
    "deployment_status": DeploymentStatusEvent,
}


def parse_event(event: str, payload: Mapping[str, Any]) -> WebhookEvent | None:
    """Read a delivery's JSON as the model for ``event`` (the ``X-GitHub-Event`` header).

    Returns ``None`` when the payload lacks a field we need, so the caller can log and skip
    the delivery instead of failing it; events we have no model for read as ``WebhookEvent``.
    """
    model = EVENT_MODELS.get(event, WebhookEvent)
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        # Field locations only: payload values can hold private code or text.
        missing = ", ".join(".".join(map(str, err["loc"])) for err in exc.errors())
        logger.warning("%s payload unreadable at: %s", event, missing)
        return None


def snapshot_from_payload(repo_full_name: str, pr: PullRequest) -> PullRequestSnapshot:
    """The snapshot the rules start from; commits, files, checks and reviews come later."""
    return PullRequestSnapshot(
        repo_full_name=repo_full_name,
        number=pr.number,
        title=pr.title,
        body=pr.body or "",
        author_login=pr.user.login if pr.user else "",
        head_ref=pr.head.ref,
        head_sha=pr.head.sha,
        base_ref=pr.base.ref,
        labels=tuple(label.name for label in pr.labels),
        draft=pr.draft,
        state=pr.state,
        merged=pr.merged,
        additions=pr.additions,
        deletions=pr.deletions,
        changed_files=pr.changed_files,
    )
