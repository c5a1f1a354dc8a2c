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

from app.events.context import EventContext
from app.github.errors import GitHubError
from app.github.gateway import GitHubGateway
from app.github.payloads import PullRequest, Repository, snapshot_from_payload
from app.jobs.errors import PermanentError
from app.policy.loader import (
    DEFAULT_SOURCE,
    PolicyError,
    default_policy,
    default_policy_text,
    load_policy,
)
from app.policy.model import Policy
from app.publish.publisher import publish
from app.rules.classify import classify
from app.rules.evaluate import error_evaluation, evaluate, wanted_memberships
from app.rules.model import Evaluation, Lane
from app.store.tracking import record_evaluation, track

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


async def evaluate_pull_request(
    context: EventContext, *, installation_id: int, repository: Repository, pr: PullRequest
) -> Evaluation | None:
    """Evaluate ``pr`` at its head sha and publish the result; None if the copy was stale."""
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

    with Session(context.services.engine) as session:
        fresh = track(
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
        )
    if not fresh:
        log.info("PR #%d: a newer copy is stored; this delivery is stale", pr.number)
        return None

    if policy is not None:
        if lane is not Lane.ORDINARY:
            try:
                snapshot = await gateway.enrich(installation_id, snapshot)
                pairs = wanted_memberships(snapshot, policy)
                if pairs:
                    teams = await gateway.team_members(
                        installation_id, repository.owner_login, pairs
                    )
                    snapshot = dataclasses.replace(snapshot, teams=teams)
            except GitHubError as exc:
                await _publish_unavailable(context, installation_id, repository, pr, lane, exc)
                raise
        evaluation = evaluate(snapshot, policy, context.services.clock())

    await _publish_and_record(context, installation_id, repository.full_name, pr, evaluation)
    log.info(
        "PR #%d at %s: %s (%s)",
        pr.number,
        pr.head.sha[:12],
        evaluation.state.value,
        evaluation.description,
    )
    return evaluation


async def _publish_and_record(
    context: EventContext,
    installation_id: int,
    repo: str,
    pr: PullRequest,
    evaluation: Evaluation,
) -> None:
    gateway = require_gateway(context)
    with Session(context.services.engine) as session:
        await publish(
            gateway,
            session=session,
            installation_id=installation_id,
            repo=repo,
            head_sha=pr.head.sha,
            evaluation=evaluation,
        )
        record_evaluation(
            session,
            repo_full_name=repo,
            number=pr.number,
            head_sha=pr.head.sha,
            evaluation=evaluation,
            delivery_id=context.delivery_id,
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
