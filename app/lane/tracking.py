"""Pull requests we have seen, and the evaluations we made of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Connection, Row
from sqlmodel import Session, col, select

from app.rules.model import Evaluation
from app.store.models import (
    ApproverConfirmation,
    EvaluationRecord,
    TeamReview,
    TrackedPullRequest,
)
from app.store.upsert import insert_ignoring_conflict

_EVALUATIONS = EvaluationRecord.__table__  # type: ignore[attr-defined]
_TRACKED = TrackedPullRequest.__table__  # type: ignore[attr-defined]


def get_tracked(session: Session, *, repo_full_name: str, number: int) -> TrackedPullRequest | None:
    """The pull request as we last saw it, if ever."""
    return session.get(TrackedPullRequest, {"repo_full_name": repo_full_name, "number": number})


def tracked_head(session: Session, *, repo_full_name: str, number: int) -> Row[Any] | None:
    """The stored copy's ``head_sha`` and ``pr_updated_at``, if we have one: what tells an
    evaluation whether a newer copy arrived while it ran (read by every evaluation, so
    without the stored pull request itself)."""
    params = {"repo": repo_full_name, "number": number}
    return session.connection().execute(_TRACKED_HEAD, params).first()


class Tracked(StrEnum):
    STORED = "stored"
    STALE = "stale"
    AMBIGUOUS = "ambiguous"


def track(
    session: Session,
    *,
    repo_full_name: str,
    number: int,
    installation_id: int | None,
    head_sha: str,
    lane: str,
    state: str,
    default_branch: str | None,
    pull_request_json: str,
    pr_updated_at: datetime | None,
    now: datetime,
    authoritative: bool = False,
) -> Tracked:
    """Remember a pull request, unless the stored copy is newer or cannot be told apart.

    Deliveries are processed concurrently and may finish out of order: a copy older than
    the one stored is STALE and must not overwrite it. Two copies with the same
    ``updated_at`` (GitHub's resolution is a second) but different heads are AMBIGUOUS: the
    caller asks GitHub which is current and stores that one ``authoritative``-ly.
    """
    conn = session.connection()
    # Every evaluation passes here: plain statements built once, and the stored copy of the
    # pull request (tens of kilobytes of JSON) is not read back.
    key = {"repo": repo_full_name, "number": number}
    stored = conn.execute(_TRACKED_STATE, key).first()
    known = stored.pr_updated_at if stored is not None and not authoritative else None
    if stored is not None and known is not None and pr_updated_at is not None:
        if pr_updated_at < known:
            return Tracked.STALE
        if pr_updated_at == known and head_sha != stored.head_sha:
            return Tracked.AMBIGUOUS
    # What this copy does not say, the stored row keeps (a new row: NULL).
    values = {
        "head_sha": head_sha,
        "lane": lane,
        "state": state,
        "pull_request": pull_request_json,
        "updated_at": now,
        "installation_id": installation_id or (stored.installation_id if stored else None),
        "default_branch": default_branch or (stored.default_branch if stored else None),
        "pr_updated_at": pr_updated_at or (stored.pr_updated_at if stored else None),
    }
    if stored is None:
        conn.execute(_INSERT_TRACKED, {"repo_full_name": repo_full_name, "number": number} | values)
    else:
        conn.execute(_UPDATE_TRACKED, {"key_repo": repo_full_name, "key_number": number} | values)
    session.commit()
    return Tracked.STORED


def open_lane_prs_at(
    session: Session, *, repo_full_name: str, head_sha: str
) -> Sequence[TrackedPullRequest]:
    """Open hotfix and cleanup PRs whose head is ``head_sha`` (found in our store, no search)."""
    query = select(TrackedPullRequest).where(
        col(TrackedPullRequest.repo_full_name) == repo_full_name,
        col(TrackedPullRequest.head_sha) == head_sha,
        col(TrackedPullRequest.state) == "open",
        col(TrackedPullRequest.lane) != "ordinary",
    )
    return list(session.exec(query))


def record_evaluation(
    conn: Connection,
    *,
    repo_full_name: str,
    number: int,
    head_sha: str,
    evaluation: Evaluation,
    delivery_id: str | None,
    now: datetime,
    evidence: dict[str, Any] | None = None,
) -> None:
    """Keep what we concluded and why: the history behind every status we published, with
    what the verdicts were drawn from (``app.rules.evidence``) for the details page.

    A plain insert on ``conn``, inside the publisher's transaction (one per evaluation);
    the caller's transaction commits it.
    """
    verdicts = [
        {"rule": v.rule_id, "outcome": v.outcome.value, "message": v.message}
        for v in evaluation.verdicts
    ]
    conn.execute(
        _INSERT_EVALUATION,
        {
            "repo_full_name": repo_full_name,
            "number": number,
            "head_sha": head_sha,
            "lane": evaluation.lane.value,
            "state": evaluation.state.value,
            "description": evaluation.description,
            "verdicts": json.dumps(verdicts),
            "evidence": json.dumps(evidence) if evidence is not None else None,
            "delivery_id": delivery_id,
            "evaluated_at": now,
        },
    )


def evaluations_for(
    session: Session, *, repo_full_name: str, number: int
) -> Sequence[EvaluationRecord]:
    """Every evaluation of one pull request, oldest first."""
    query = (
        select(EvaluationRecord)
        .where(
            col(EvaluationRecord.repo_full_name) == repo_full_name,
            col(EvaluationRecord.number) == number,
        )
        .order_by(col(EvaluationRecord.id))
    )
    return list(session.exec(query))


def add_team_review(
    session: Session, *, repo_full_name: str, number: int, login: str, now: datetime
) -> None:
    """Record a review-team member's ``/hotfix team-reviewed`` (once per person and PR)."""
    exists = session.exec(
        select(TeamReview).where(
            col(TeamReview.repo_full_name) == repo_full_name,
            col(TeamReview.number) == number,
            col(TeamReview.login) == login,
        )
    ).first()
    if exists is None:
        session.add(
            TeamReview(repo_full_name=repo_full_name, number=number, login=login, created_at=now)
        )
        session.commit()


def team_review_logins(session: Session, *, repo_full_name: str, number: int) -> tuple[str, ...]:
    """Who recorded a team review on the pull request, oldest first."""
    params = {"repo": repo_full_name, "number": number}
    return tuple(session.connection().execute(_TEAM_REVIEW_LOGINS, params).scalars())


def open_hotfix_prs(
    session: Session, *, org: str, repo_full_name: str | None = None
) -> Sequence[TrackedPullRequest]:
    """Open hotfix PRs of an organisation (or one repository): the rate limit's scope."""
    query = select(TrackedPullRequest).where(
        col(TrackedPullRequest.state) == "open",
        col(TrackedPullRequest.lane) == "hotfix",
    )
    if repo_full_name is not None:
        query = query.where(col(TrackedPullRequest.repo_full_name) == repo_full_name)
    else:
        query = query.where(col(TrackedPullRequest.repo_full_name).startswith(f"{org}/"))
    return list(session.exec(query))


def add_confirmation(
    session: Session, *, repo_full_name: str, number: int, login: str, head_sha: str, now: datetime
) -> None:
    """Record the approver's ``/hotfix approve`` at ``head_sha`` (once per person and head)."""
    insert_ignoring_conflict(
        session.connection(),
        ApproverConfirmation,
        {
            "repo_full_name": repo_full_name,
            "number": number,
            "login": login,
            "head_sha": head_sha,
            "created_at": now,
        },
        unique=["repo_full_name", "number", "login", "head_sha"],
    )
    session.commit()


def confirmations_at(
    session: Session, *, repo_full_name: str, number: int, head_sha: str
) -> tuple[str, ...]:
    """Who confirmed the pull request at ``head_sha`` with ``/hotfix approve``."""
    params = {"repo": repo_full_name, "number": number, "head_sha": head_sha}
    return tuple(session.connection().execute(_CONFIRMATIONS_AT, params).scalars())


# What every evaluation reads and writes: built once, run as plain statements with their
# values bound at each call.
_PR_KEY = (
    _TRACKED.c.repo_full_name == bindparam("repo"),
    _TRACKED.c.number == bindparam("number"),
)
_TRACKED_STATE = select_columns(
    _TRACKED.c.head_sha,
    _TRACKED.c.installation_id,
    _TRACKED.c.default_branch,
    _TRACKED.c.pr_updated_at,
).where(*_PR_KEY)
_TRACKED_HEAD = select_columns(_TRACKED.c.head_sha, _TRACKED.c.pr_updated_at).where(*_PR_KEY)
_INSERT_TRACKED = insert(_TRACKED)
# An UPDATE binds its columns by their names: the key takes names of its own.
_UPDATE_TRACKED = update(_TRACKED).where(
    _TRACKED.c.repo_full_name == bindparam("key_repo"),
    _TRACKED.c.number == bindparam("key_number"),
)
_INSERT_EVALUATION = insert(_EVALUATIONS)
_TEAM_REVIEWS = TeamReview.__table__  # type: ignore[attr-defined]
_TEAM_REVIEW_LOGINS = (
    select_columns(_TEAM_REVIEWS.c.login)
    .where(
        _TEAM_REVIEWS.c.repo_full_name == bindparam("repo"),
        _TEAM_REVIEWS.c.number == bindparam("number"),
    )
    .order_by(_TEAM_REVIEWS.c.id)
)
_CONFIRMATIONS = ApproverConfirmation.__table__  # type: ignore[attr-defined]
_CONFIRMATIONS_AT = select_columns(_CONFIRMATIONS.c.login).where(
    _CONFIRMATIONS.c.repo_full_name == bindparam("repo"),
    _CONFIRMATIONS.c.number == bindparam("number"),
    _CONFIRMATIONS.c.head_sha == bindparam("head_sha"),
)
