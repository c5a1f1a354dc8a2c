"""The tables. Every schema change here comes with an Alembic revision under ``migrations/``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from app.store.types import UTCDateTime


class Delivery(SQLModel, table=True):
    """A webhook delivery exactly as GitHub sent it. Stored before we answer 202."""

    id: str = Field(sa_column=Column(String(64), primary_key=True))  # X-GitHub-Delivery
    event: str = Field(max_length=64)
    action: str | None = Field(default=None, max_length=64)
    installation_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    repository: str | None = Field(default=None, max_length=255)
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Job(SQLModel, table=True):
    """A unit of work for the worker: process a delivery, send a notice, check a deadline.

    Times are epoch seconds (floats): they are compared on every claim and need no zone.
    ``key`` makes enqueueing idempotent (``delivery:<id>``), so a redelivery adds no second job.
    """

    __table_args__ = (Index("ix_job_claim", "status", "run_at"),)

    # SQLite only autoincrements an INTEGER PRIMARY KEY, hence the variant.
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    kind: str = Field(max_length=32)
    key: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    ref: str = Field(max_length=255)
    status: str = Field(default="queued", max_length=16)  # queued, running, done, dead
    run_at: float
    attempts: int = 0
    max_attempts: int = 8
    lease_until: float | None = None
    locked_by: str | None = Field(default=None, max_length=128)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: float
    updated_at: float


class TrackedPullRequest(SQLModel, table=True):
    """The pull requests we have seen, so check and status events find theirs by head sha
    without searching GitHub."""

    __table_args__ = (Index("ix_tracked_pr_head", "repo_full_name", "head_sha"),)

    repo_full_name: str = Field(sa_column=Column(String(255), primary_key=True))
    number: int = Field(primary_key=True)
    installation_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    head_sha: str = Field(max_length=64)
    lane: str = Field(max_length=16)
    state: str = Field(max_length=16)  # open, closed
    default_branch: str | None = Field(default=None, max_length=255)
    # The webhook's pull_request object, trimmed to the fields we read (JSON text).
    pull_request: str = Field(sa_column=Column(Text, nullable=False))
    # GitHub's updated_at of that object: a delivery carrying an older copy is stale.
    pr_updated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # When the reconcile sweep last compared it with GitHub (None: never).
    swept_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Publication(SQLModel, table=True):
    """What we last published for a head sha, so an identical publish sends nothing."""

    repo_full_name: str = Field(sa_column=Column(String(255), primary_key=True))
    head_sha: str = Field(sa_column=Column(String(64), primary_key=True))
    kind: str = Field(sa_column=Column(String(16), primary_key=True))  # status, check_run
    fingerprint: str = Field(max_length=64)
    check_run_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    state: str = Field(max_length=32)
    description: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class EvaluationRecord(SQLModel, table=True):
    """One evaluation of one pull request at one head sha: the verdicts and the outcome.

    The stored history of ``app.rules.model.Evaluation`` results.
    """

    __tablename__ = "evaluation"
    __table_args__ = (Index("ix_evaluation_pr", "repo_full_name", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    repo_full_name: str = Field(max_length=255)
    number: int
    head_sha: str = Field(max_length=64)
    lane: str = Field(max_length=16)
    state: str = Field(max_length=16)  # success, failure, pending, error
    description: str = Field(sa_column=Column(Text, nullable=False))
    verdicts: str = Field(sa_column=Column(Text, nullable=False))  # JSON list
    # What the verdicts were drawn from (app.rules.evidence), for the details page (JSON).
    evidence: str | None = Field(default=None, sa_column=Column(Text))
    delivery_id: str | None = Field(default=None, max_length=64)
    evaluated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class HotfixRecord(SQLModel, table=True):
    """The ledger: one row per merged hotfix PR, kept after every other tool forgets it.

    It drives the rate limit (merges per window), the author quota (per quarter) and the
    follow-up deadlines, and is what an audit-log policy override is matched against.
    """

    __table_args__ = (
        UniqueConstraint("repo_full_name", "number"),
        Index("ix_hotfix_org_merged", "org", "merged_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(max_length=255)
    repo_full_name: str = Field(max_length=255)
    number: int
    title: str = Field(sa_column=Column(Text, nullable=False))
    incident_id: str | None = Field(default=None, max_length=64)
    author: str = Field(max_length=255)
    approver: str | None = Field(default=None, max_length=255)
    cleanup_owner: str | None = Field(default=None, max_length=255)
    merged_by: str | None = Field(default=None, max_length=255)
    merged_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    head_sha: str = Field(max_length=64)
    merge_sha: str | None = Field(default=None, max_length=64)
    base_ref: str = Field(max_length=255)
    url: str | None = Field(default=None, max_length=512)
    policy_state: str = Field(max_length=16)  # our published state at merge, or "none"
    scan_state: str = Field(max_length=16)  # passed, failed, running, missing
    bypassed: bool = False
    bypass_reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON
    # Set when GitHub's audit log reports the matching protected_branch.policy_override.
    audit_document_id: str | None = Field(default=None, max_length=255)
    audit_confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # What the follow-ups need later, when the pull request is long gone from our events.
    installation_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    opened_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    breakglass: bool = False
    # A game-day drill (runbook: "a fake P0 + the team runs the full sequence in dry-run
    # mode"): kept in the ledger, never counted by the rate limit or the author quota.
    drill: bool = False
    # The first successful deployment of the merge commit (or a descendant) in an environment
    # the policy names (runbook step 5): what merge-to-healthy time is measured to.
    deployed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    deployment_environment: str | None = Field(default=None, max_length=255)
    deployment_sha: str | None = Field(default=None, max_length=64)


class CleanupRecord(SQLModel, table=True):
    """A merged cleanup PR (runbook step 7): what closes a hotfix's ``cleanup PR`` follow-up."""

    __table_args__ = (UniqueConstraint("repo_full_name", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    repo_full_name: str = Field(max_length=255)
    number: int
    title: str = Field(sa_column=Column(Text, nullable=False))
    incident_id: str | None = Field(default=None, max_length=64)
    # The hotfix PR numbers it links (JSON list of ints).
    hotfix_numbers: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    merged_by: str | None = Field(default=None, max_length=255)
    merged_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    url: str | None = Field(default=None, max_length=512)
    policy_state: str = Field(max_length=16)  # our published state at merge, or "none"
    bypassed: bool = False
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class FollowUp(SQLModel, table=True):
    """One obligation of a merged hotfix: its cleanup PR, postmortem, audit review, breakglass
    cleanup; with its owner, due time and state (open, done, overdue, waived)."""

    __tablename__ = "follow_up"
    __table_args__ = (
        UniqueConstraint("hotfix_id", "kind"),
        Index("ix_follow_up_state", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    hotfix_id: int = Field(index=True)
    kind: str = Field(max_length=32)
    owner: str | None = Field(default=None, max_length=255)
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    state: str = Field(default="open", max_length=16)
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    done_by: str | None = Field(default=None, max_length=255)
    evidence: str | None = Field(default=None, sa_column=Column(Text))
    reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    overdue_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class TrackingIssue(SQLModel, table=True):
    """The one GitHub issue that tracks a hotfix's follow-ups, in the hotfix's repository."""

    __tablename__ = "tracking_issue"

    hotfix_id: int = Field(primary_key=True)
    repo_full_name: str = Field(max_length=255)
    number: int | None = Field(default=None)  # None until GitHub has created it
    state: str = Field(default="open", max_length=16)  # open, closed
    body_digest: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class NoticeRow(SQLModel, table=True):
    """The outbox: an audit notice stored before it is sent, sent once by the worker."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    kind: str = Field(max_length=64)
    violation: bool = False
    channel: str = Field(max_length=255)
    text: str = Field(sa_column=Column(Text, nullable=False))
    notice: str = Field(sa_column=Column(Text, nullable=False))  # JSON of the Notice
    status: str = Field(default="pending", max_length=16)  # pending, sent, stored, failed
    slack_ts: str | None = Field(default=None, max_length=64)
    # The hotfix it is about (owner/repo#number); replies find their thread by it.
    subject: str | None = Field(default=None, max_length=255, index=True)
    thread: str = Field(default="top", max_length=16)  # top, reply, reply_broadcast
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class AuditEvent(SQLModel, table=True):
    """An event from GitHub's audit log, stored whole, deduplicated on ``_document_id``."""

    __table_args__ = (Index("ix_audit_event_repo", "repo", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str | None = Field(
        default=None, sa_column=Column(String(255), nullable=True, unique=True)
    )
    action: str = Field(max_length=128)
    org: str | None = Field(default=None, max_length=255)
    repo: str | None = Field(default=None, max_length=255)
    actor: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    hotfix_id: int | None = Field(default=None)  # the ledger row it confirmed, if any


class ApproverConfirmation(SQLModel, table=True):
    """The named approver's ``/hotfix approve`` on a pull request, at the head it confirmed.

    A push moves the head: a confirmation counts for the head it was given at only.
    """

    __tablename__ = "approver_confirmation"
    __table_args__ = (UniqueConstraint("repo_full_name", "number", "login", "head_sha"),)

    id: int | None = Field(default=None, primary_key=True)
    repo_full_name: str = Field(max_length=255)
    number: int
    login: str = Field(max_length=255)
    head_sha: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class TeamReview(SQLModel, table=True):
    """A review-team member's ``/hotfix team-reviewed`` comment on a pull request."""

    __table_args__ = (UniqueConstraint("repo_full_name", "number", "login"),)

    id: int | None = Field(default=None, primary_key=True)
    repo_full_name: str = Field(max_length=255)
    number: int
    login: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Declaration(SQLModel, table=True):
    """A hotfix declared in the status channel (runbook step 1): one per incident.

    ``key`` names the incident (``acme:INC-2026-05-20-001``), or the pull request when it names
    no incident (``acme/api#12``), so two PRs of one incident declare it once.
    """

    __tablename__ = "declaration"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    org: str = Field(max_length=255)
    incident_id: str | None = Field(default=None, max_length=64)
    repo_full_name: str = Field(max_length=255)
    number: int
    drill: bool = False
    declared_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Recovery(SQLModel, table=True):
    """Whether the symptom recovered after a hotfix shipped (runbook step 6), asked of
    Prometheus until the value crosses the policy's threshold or the window ends.

    ``state``: waiting (for a deployment), verifying, recovered, not_recovered, unverified
    (Prometheus never answered usefully within the window).
    """

    hotfix_id: int = Field(primary_key=True)
    state: str = Field(max_length=16)
    query: str = Field(sa_column=Column(Text, nullable=False))
    # When the window started (the deployment, or the merge) and ends.
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    deadline: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_value: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    checks: int = 0
    checked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    concluded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class PolicyChange(SQLModel, table=True):
    """The last push that changed a repository's policy file: how every process (not only the
    one that saw the push) knows to drop its cached policy."""

    __tablename__ = "policy_change"

    repo_full_name: str = Field(sa_column=Column(String(255), primary_key=True))  # lower-cased
    changed_at: float = Field(index=True)  # epoch seconds
