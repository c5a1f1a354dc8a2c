"""The values rules read and return: a frozen snapshot of a pull request, and verdicts.

The GitHub gateway builds a ``PullRequestSnapshot``; rules never fetch anything themselves.
Everything here is immutable so a snapshot can be shared between rules without surprises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class Outcome(StrEnum):
    """What one rule concluded about one pull request."""

    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    PENDING = "pending"
    # Advisory finding: shown to the author, never blocks the merge.
    NEUTRAL = "neutral"
    SKIPPED = "skipped"


class Lane(StrEnum):
    """Which part of the runbook a pull request falls under."""

    HOTFIX = "hotfix"
    CLEANUP = "cleanup"
    ORDINARY = "ordinary"


@dataclass(frozen=True)
class Commit:
    """One commit of a pull request, as the gateway (or ``git``) describes it.

    A login is ``None`` when the commit's e-mail maps to no GitHub account: then only the
    e-mail and the name say who wrote it.
    """

    sha: str
    message: str
    author_login: str | None = None
    committer_login: str | None = None
    author_email: str | None = None
    committer_email: str | None = None
    author_name: str | None = None
    committer_name: str | None = None
    parents: tuple[str, ...] = ()
    # The message's ``Co-authored-by:`` values as written (``text.co_author_trailers``).
    co_authors: tuple[str, ...] = ()
    # A merge of the base branch into the PR (two parents, the second on the base branch, as
    # the gateway asked GitHub): written by git, so it carries no trailers and no author.
    base_merge: bool = False


@dataclass(frozen=True)
class ChangedFile:
    path: str
    additions: int
    deletions: int
    status: str = "modified"

    @property
    def changes(self) -> int:
        return self.additions + self.deletions


@dataclass(frozen=True)
class CheckResult:
    """A check run or a commit status on the head sha, in one shape.

    ``status`` is ``queued``, ``in_progress`` or ``completed``; ``conclusion`` is GitHub's check
    conclusion (``success``, ``failure``, ``neutral``, ``cancelled``, ``skipped``, ``timed_out``,
    ``action_required``, ``stale``) or ``None`` while not completed. Commit statuses are mapped:
    pending -> in_progress, success -> completed/success, failure and error -> completed/failure.
    """

    name: str
    status: str
    conclusion: str | None
    source: str = "check_run"  # or "status"
    app_slug: str | None = None
    app_id: int | None = None
    # When it completed (a status: when it was last set); what a merge is judged as of.
    completed_at: datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "completed" and self.conclusion in {"success", "neutral", "skipped"}

    @property
    def finished_unsuccessfully(self) -> bool:
        return self.status == "completed" and not self.succeeded


@dataclass(frozen=True)
class Review:
    user_login: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_id: str | None = None
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class MergedHotfix:
    """A hotfix PR the ledger recorded as merged."""

    repo_full_name: str
    number: int
    title: str


@dataclass(frozen=True)
class LaneHistory:
    """What the ledger says about a new hotfix: the rate-limit count, the author's quarter and
    the incident's earlier hotfixes."""

    merged_in_window: int  # hotfixes merged in the rate-limit window and scope
    author_this_quarter: int  # hotfixes the PR's author merged this calendar quarter
    quarter: str  # e.g. 2026-Q2
    # Overdue follow-ups of the hotfixes the PR's author merged this quarter.
    author_overdue_this_quarter: int = 0
    # Hotfixes merged in the organisation under the PR's incident id (the PR itself included,
    # once it merged), oldest first.
    incident_hotfixes: tuple[MergedHotfix, ...] = ()


def _empty_teams() -> Mapping[str, frozenset[str]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class PullRequestSnapshot:
    """Everything the rules may look at for one pull request at one head sha."""

    repo_full_name: str
    number: int
    title: str
    body: str
    author_login: str
    head_ref: str
    head_sha: str
    base_ref: str
    labels: tuple[str, ...] = ()
    draft: bool = False
    state: str = "open"
    merged: bool = False
    additions: int = 0
    deletions: int = 0
    changed_files: int = 0
    commits: tuple[Commit, ...] = ()
    files: tuple[ChangedFile, ...] = ()
    # GitHub lists at most 3,000 files of a pull request; past that the list is incomplete.
    files_truncated: bool = False
    checks: tuple[CheckResult, ...] = ()
    reviews: tuple[Review, ...] = ()
    # team slug -> logins confirmed as *active* members (only the logins the handler asked about).
    teams: Mapping[str, frozenset[str]] = field(default_factory=_empty_teams)
    # Team-review overrides recorded by us (e.g. "/hotfix team-reviewed" comments): logins.
    team_review_comments: tuple[str, ...] = ()
    # Logins who commented "/hotfix approve" at this head (the named approver's confirmation).
    approver_confirmations: tuple[str, ...] = ()
    # The ledger's counts for a hotfix (None: not read, e.g. a local check before pushing).
    history: LaneHistory | None = None
    # The named approver's known e-mails, lower-cased (their public one and GitHub's no-reply
    # forms) and their profile name: read only for a hotfix whose approver is named.
    approver_emails: frozenset[str] = frozenset()
    approver_name: str | None = None

    @property
    def owner(self) -> str:
        return self.repo_full_name.split("/", 1)[0]

    def is_member(self, team: str, login: str) -> bool:
        return login.lower() in {m.lower() for m in self.teams.get(team, frozenset())}


@dataclass(frozen=True)
class Annotation:
    """A pointer at lines of a file, shown by GitHub on the check run's diff view."""

    path: str
    start_line: int
    end_line: int
    level: str  # notice, warning, failure
    message: str
    title: str | None = None


@dataclass(frozen=True)
class Verdict:
    """One rule's conclusion: a stable id, an outcome and a message that says how to fix it."""

    rule_id: str
    outcome: Outcome
    message: str
    annotations: tuple[Annotation, ...] = ()


class State(StrEnum):
    """The overall result for a pull request, as a commit status state."""

    SUCCESS = "success"
    FAILURE = "failure"
    PENDING = "pending"
    # The rules could not be evaluated (GitHub unreachable, invalid policy): never green.
    ERROR = "error"


@dataclass(frozen=True)
class Evaluation:
    """The rules' verdicts for one pull request at one head sha, aggregated.

    ``description`` is the commit-status text (at most 140 characters) and names the first
    problem in plain words; ``title`` heads the check run; ``notes`` are extra markdown
    paragraphs for the check run summary (advice that is not a rule of its own).
    """

    lane: Lane
    state: State
    description: str
    title: str
    verdicts: tuple[Verdict, ...] = ()
    notes: tuple[str, ...] = ()
    # Published without blocking (policy ``mode: report``): ``state`` is success, the
    # verdicts and the title say what enforcing would have said.
    report_only: bool = False
