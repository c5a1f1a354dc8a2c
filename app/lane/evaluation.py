"""Evaluate one pull request: snapshot, rules, status and check run, record.

This is the only place where the GitHub gateway, the pure rules and the publisher meet.
Whatever goes wrong on the way, the pull request is never left green by accident: an invalid
policy publishes ``error`` naming the file and key, and an unreachable GitHub publishes
``error`` (when it can) and fails the job so the queue tries again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from functools import lru_cache

from sqlmodel import Session

from app.services import EventContext
from app.github.errors import GitHubError
from app.github.gateway import GitHubGateway
from app.github.payloads import PullRequest, Repository, snapshot_from_payload
from app.retry import PermanentError
from app.ledger.history import read_history
from app.lane.locks import KeyedLocks
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy.loader import (
    DEFAULT_SOURCE,
    PolicyError,
    default_policy,
    default_policy_text,
    load_policy,
)
from app.policy.model import Policy
from app.lane.publisher import publish
from app.rules import rate_limit
from app.rules.classify import classify
from app.rules.evaluate import error_evaluation, evaluate, wanted_memberships
from app.rules.model import Evaluation, Lane, Outcome, PullRequestSnapshot
from app.store.models import TrackedPullRequest
from app.lane.tracking import Tracked, get_tracked, record_evaluation, track

log = logging.getLogger(__name__)


def require_gateway(context: EventContext) -> GitHubGateway:
    gateway = context.services.gateway
    if gateway is None:
        # Retrying cannot help until an operator configures the App; replay revives the job.
        raise PermanentError(
            "GitHub App not configured (HOTFIX_LANE_GITHUB_APP_ID and _PRIVATE_KEY): "
            "replay this delivery once it is"
        )
    return gateway


@lru_cache(maxsize=256)
def _parsed(layers: tuple[tuple[str, str | None], ...]) -> Policy:
    return load_policy(layers)


async def repository_policy(
    gateway: GitHubGateway, installation_id: int, repository: Repository
) -> Policy:
    """The defaults, overridden by the organisation's or the repository's policy file."""
    layers = await gateway.policy_layers(
        installation_id, repository.full_name, repository.default_branch
    )
    # Parsing and schema validation are memoised on the exact file texts.
    return _parsed(((DEFAULT_SOURCE, default_policy_text()), *layers))


# One evaluation at a time per pull request in this process: two jobs for one PR (an edit
# and a finishing check) would otherwise read in one order and publish in the other.
_pr_locks = KeyedLocks()


async def policy_or_defaults(
    gateway: GitHubGateway, installation_id: int, repository: Repository
) -> Policy:
    """The repository's policy, or the defaults when its file is invalid.

    For what must happen whatever the file says (recording a merge, a team sign-off); the
    evaluation itself publishes ``error`` for an invalid file instead.
    """
    try:
        return await repository_policy(gateway, installation_id, repository)
    except PolicyError as exc:
        log.warning("invalid policy for %s, using the defaults here: %s", repository.full_name, exc)
        return default_policy()


async def evaluate_pull_request(
    context: EventContext,
    *,
    installation_id: int,
    repository: Repository,
    pr: PullRequest,
    force: bool = False,
) -> Evaluation | None:
    """Evaluate ``pr`` at its head sha and publish the result; None if the copy was stale.

    ``force`` publishes even an unchanged result (someone asked for a re-run).
    """
    async with _pr_locks((repository.full_name.lower(), pr.number)):
        return await _evaluate_pull_request(
            context, installation_id=installation_id, repository=repository, pr=pr, force=force
        )


async def _evaluate_pull_request(
    context: EventContext,
    *,
    installation_id: int,
    repository: Repository,
    pr: PullRequest,
    force: bool,
) -> Evaluation | None:
    gateway = require_gateway(context)
    snapshot = snapshot_from_payload(repository.full_name, pr)
    lane = classify(snapshot, default_policy())
    try:
        policy = await repository_policy(gateway, installation_id, repository)
    except PolicyError as exc:
        log.warning("invalid policy for %s: %s", repository.full_name, exc)
        policy, evaluation = None, error_evaluation(lane, str(exc))
    except GitHubError as exc:
        await _publish_unavailable(context, installation_id, repository, pr, lane, exc)
        raise
    if policy is not None:
        lane = classify(snapshot, policy)

    outcome = _remember(context, installation_id, repository, pr, lane)
    if outcome is Tracked.AMBIGUOUS:
        # Two copies from the same second with different heads: GitHub says which is current.
        try:
            pr = await gateway.pull_request(installation_id, repository.full_name, pr.number)
        except GitHubError as exc:
            await _publish_unavailable(context, installation_id, repository, pr, lane, exc)
            raise
        snapshot = snapshot_from_payload(repository.full_name, pr)
        if policy is not None:
            lane = classify(snapshot, policy)
        outcome = _remember(context, installation_id, repository, pr, lane, authoritative=True)
    if outcome is Tracked.STALE:
        log.info("PR #%d: a newer copy is stored; this delivery is stale", pr.number)
        return None

    if policy is not None:
        try:
            evaluation = await _evaluate(
                context, installation_id, repository, snapshot, policy, url=pr.html_url
            )
        except GitHubError as exc:
            await _publish_unavailable(context, installation_id, repository, pr, lane, exc)
            raise

    await _publish_and_record(
        context, installation_id, repository.full_name, pr, evaluation, force=force
    )
    log.info(
        "PR #%d at %s: %s (%s)",
        pr.number,
        pr.head.sha[:12],
        evaluation.state.value,
        evaluation.description,
    )
    return evaluation


async def _evaluate(
    context: EventContext,
    installation_id: int,
    repository: Repository,
    snapshot: PullRequestSnapshot,
    policy: Policy,
    *,
    url: str | None,
) -> Evaluation:
    """Gather what the lane's rules need (no read for ordinary PRs) and run them."""
    gateway = require_gateway(context)
    now = context.services.clock()
    lane = classify(snapshot, policy)
    if lane is Lane.ORDINARY:
        return evaluate(snapshot, policy, now)
    snapshot = await gateway.enrich(installation_id, snapshot)
    pairs = set(wanted_memberships(snapshot, policy))
    history = None
    if lane is Lane.HOTFIX:
        with Session(context.services.engine) as session:
            history = read_history(
                session,
                repo_full_name=snapshot.repo_full_name,
                number=snapshot.number,
                author=snapshot.author_login,
                policy=policy,
                now=now,
            )
        if history.merged_in_window >= policy.rate_limit.max_hotfixes:
            # Only past the limit do reviews matter: no read for them otherwise.
            reviews = await gateway.reviews(
                installation_id, snapshot.repo_full_name, snapshot.number
            )
            snapshot = dataclasses.replace(
                snapshot, reviews=reviews, team_review_comments=history.team_reviews
            )
            pairs |= {
                (policy.teams.review, login)
                for login in (
                    *(r.user_login for r in reviews if r.state == "APPROVED"),
                    *history.team_reviews,
                )
            }
    if pairs:
        teams = await gateway.team_members(installation_id, repository.owner_login, pairs)
        snapshot = dataclasses.replace(snapshot, teams=teams)
    if history is None:
        return evaluate(snapshot, policy, now)

    limit = rate_limit.check(snapshot, policy, now, merged_in_window=history.merged_in_window)
    evaluation = evaluate(snapshot, policy, now, extra=(limit,))
    if history.author_this_quarter + 1 > policy.author_quota.note_after:
        evaluation = dataclasses.replace(
            evaluation,
            notes=(
                *evaluation.notes,
                _process_bug_note(
                    snapshot.author_login, history.author_this_quarter + 1, history.quarter
                ),
            ),
        )
    if limit.outcome is Outcome.FAIL:
        notice = notices.rate_limit_tripped(
            repo=snapshot.repo_full_name,
            number=snapshot.number,
            count=history.merged_in_window,
            limit=policy.rate_limit.max_hotfixes,
            window_days=policy.rate_limit.window_days,
            review_team=policy.teams.review,
            # GitHub's own link: on Enterprise Server it is not github.com.
            url=url or f"{repository.full_name}#{snapshot.number}",
        )
        with Session(context.services.engine) as session:
            enqueue_notice(
                session, notice=notice, channel=audit_channel(context.services.settings, policy)
            )
            session.commit()
    return evaluation


def _process_bug_note(author: str, count: int, quarter: str) -> str:
    # Footgun "the hotfix became normal": the team has a process bug, not a tool problem.
    return (
        f"**Process bug?** With this one, @{author} has {count} hotfixes in {quarter}. "
        "More than one a quarter means the normal pipeline is failing the team: look at why "
        "hotfixes keep being needed (slow CI, missing rollback targets) in the postmortem."
    )


async def _publish_and_record(
    context: EventContext,
    installation_id: int,
    repo: str,
    pr: PullRequest,
    evaluation: Evaluation,
    *,
    force: bool = False,
) -> None:
    gateway = require_gateway(context)
    engine = context.services.engine
    with Session(engine) as session:
        current = get_tracked(session, repo_full_name=repo, number=pr.number)
    if current is not None and _superseded(current, pr):
        # A newer copy of the PR arrived while this one was evaluated (another job, maybe
        # another process): its evaluation speaks for the PR, not this older one.
        log.info("PR #%d changed while it was evaluated; this result is not published", pr.number)
        return
    await publish(
        gateway,
        engine=engine,
        installation_id=installation_id,
        repo=repo,
        head_sha=pr.head.sha,
        evaluation=evaluation,
        force=force,
    )
    with Session(engine) as session:
        record_evaluation(
            session,
            repo_full_name=repo,
            number=pr.number,
            head_sha=pr.head.sha,
            evaluation=evaluation,
            delivery_id=context.delivery_id,
        )


def _remember(
    context: EventContext,
    installation_id: int,
    repository: Repository,
    pr: PullRequest,
    lane: Lane,
    *,
    authoritative: bool = False,
) -> Tracked:
    with Session(context.services.engine) as session:
        return track(
            session,
            repo_full_name=repository.full_name,
            number=pr.number,
            installation_id=installation_id,
            head_sha=pr.head.sha,
            lane=lane.value,
            state=pr.state,
            default_branch=repository.default_branch,
            pull_request_json=pr.model_dump_json(),
            pr_updated_at=pr.updated_at,
            authoritative=authoritative,
        )


def _superseded(current: TrackedPullRequest, pr: PullRequest) -> bool:
    if current.head_sha != pr.head.sha:
        return True
    return (
        current.pr_updated_at is not None
        and pr.updated_at is not None
        and current.pr_updated_at > pr.updated_at
    )


async def _publish_unavailable(
    context: EventContext,
    installation_id: int,
    repository: Repository,
    pr: PullRequest,
    lane: Lane,
    exc: Exception,
) -> None:
    """Say on the PR that it cannot be evaluated yet; best effort, GitHub may be down."""
    log.warning("PR #%d cannot be evaluated now: %s", pr.number, exc)
    evaluation = error_evaluation(lane, f"GitHub API unavailable ({exc}); will retry.")
    with contextlib.suppress(Exception):
        await _publish_and_record(context, installation_id, repository.full_name, pr, evaluation)
