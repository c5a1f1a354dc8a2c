"""Evaluate one pull request: policy, snapshot, rules, then status and check run.

The orchestrator of the lane, and the only place where the gateway, the pure rules and the
publisher meet. Whatever goes wrong on the way, the pull request is never left green by
accident: an invalid policy publishes ``error`` naming the file and key, and an unreachable
GitHub publishes ``error`` (when it can) and fails the job so the queue tries again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.github.errors import GitHubError
from app.github.gateway import GitHubGateway
from app.github.payloads import PullRequest, Repository, snapshot_from_payload
from app.github.snapshot import complete
from app.lane import impostors
from app.lane.locks import KeyedLocks
from app.lane.publisher import publish
from app.lane.status import details_url
from app.lane.tracking import (
    Tracked,
    confirmations_at,
    record_evaluation,
    team_review_logins,
    track,
    tracked_head,
)
from app.ledger import incidents
from app.ledger.history import read_history
from app.notify import notices
from app.notify.outbox import audit_channel, enqueue_notice
from app.policy import lookup
from app.policy.loader import PolicyError, default_policy
from app.policy.model import Policy
from app.retry import PermanentError
from app.rules import rate_limit
from app.rules.classify import classify
from app.rules.evaluate import error_evaluation, evaluate
from app.rules.evidence import evidence
from app.rules.facts import incident_id_of, is_drill
from app.rules.model import Evaluation, Lane, LaneHistory, Outcome, PullRequestSnapshot
from app.services import EventContext
from app.store import locks

log = logging.getLogger(__name__)

# One evaluation at a time per pull request in this process: two jobs for one PR (an edit
# and a finishing check) would otherwise read in one order and publish in the other.
_pr_locks = KeyedLocks()


def require_gateway(context: EventContext) -> GitHubGateway:
    gateway = context.services.gateway
    if gateway is None:
        # Retrying cannot help until an operator configures the App; replay revives the job.
        raise PermanentError(
            "GitHub App not configured (HOTFIX_LANE_GITHUB_APP_ID and _PRIVATE_KEY): "
            "replay this delivery once it is"
        )
    return gateway


async def repository_policy(
    gateway: GitHubGateway, installation_id: int, repository: Repository
) -> Policy:
    return await lookup.repository_policy(
        gateway, installation_id, repository.full_name, repository.default_branch
    )


async def policy_or_defaults(
    gateway: GitHubGateway, installation_id: int, repository: Repository
) -> Policy:
    return await lookup.policy_or_defaults(
        gateway, installation_id, repository.full_name, repository.default_branch
    )


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
    key = (repository.full_name.lower(), pr.number)
    # In this process, then across processes (replicas on one PostgreSQL).
    async with _pr_locks(key), locks.held(context.services.engine, f"pr:{key[0]}#{key[1]}"):
        run = _Run(context, installation_id, repository)
        return await run.evaluate(pr, force=force)


class _Run:
    """One evaluation of one pull request, from the delivery's copy to the published result."""

    def __init__(self, context: EventContext, installation_id: int, repository: Repository) -> None:
        self.context = context
        self.services = context.services
        self.gateway = require_gateway(context)
        self.installation_id = installation_id
        self.repository = repository
        # What the rules saw, kept with the evaluation for the details page.
        self.evidence: dict[str, Any] | None = None

    async def evaluate(self, pr: PullRequest, *, force: bool) -> Evaluation | None:
        snapshot = snapshot_from_payload(self.repository.full_name, pr)
        lane = classify(snapshot, default_policy())
        policy: Policy | None = None
        try:
            policy = await repository_policy(self.gateway, self.installation_id, self.repository)
        except PolicyError as exc:
            log.warning("invalid policy for %s: %s", self.repository.full_name, exc)
            evaluation = error_evaluation(lane, str(exc))
        except GitHubError as exc:
            await self._publish_unavailable(pr, lane, exc)
            raise
        if policy is not None:
            lane = classify(snapshot, policy)

        outcome = self._remember(pr, lane)
        if outcome is Tracked.AMBIGUOUS:
            # Two copies from the same second with different heads: GitHub says which is
            # current.
            try:
                pr = await self.gateway.pull_request(
                    self.installation_id, self.repository.full_name, pr.number
                )
            except GitHubError as exc:
                await self._publish_unavailable(pr, lane, exc)
                raise
            snapshot = snapshot_from_payload(self.repository.full_name, pr)
            if policy is not None:
                lane = classify(snapshot, policy)
            outcome = self._remember(pr, lane, authoritative=True)
        if outcome is Tracked.STALE:
            log.info("PR #%d: a newer copy is stored; this delivery is stale", pr.number)
            return None

        if policy is not None:
            try:
                evaluation = await self._run_rules(snapshot, policy, lane, url=pr.html_url)
            except GitHubError as exc:
                await self._publish_unavailable(pr, lane, exc)
                raise

        await self._publish_and_record(pr, evaluation, force=force)
        log.info(
            "PR #%d at %s: %s (%s)",
            pr.number,
            pr.head.sha[:12],
            evaluation.state.value,
            evaluation.description,
        )
        return evaluation

    async def _run_rules(
        self, snapshot: PullRequestSnapshot, policy: Policy, lane: Lane, *, url: str | None
    ) -> Evaluation:
        """Gather what the lane's rules need (no read for ordinary PRs) and run them."""
        now = self.services.clock.now()
        if lane is Lane.ORDINARY:
            return evaluate(snapshot, policy, now)
        # Commits first: the incident id the ledger is asked about may be named only there.
        snapshot = await self.gateway.enrich(self.installation_id, snapshot)
        history: LaneHistory | None = None
        team_reviews: tuple[str, ...] = ()
        if lane is Lane.HOTFIX:
            with Session(self.services.engine) as session:
                history = read_history(
                    session,
                    repo_full_name=snapshot.repo_full_name,
                    author=snapshot.author_login,
                    incident_id=incident_id_of(snapshot, policy),
                    policy=policy,
                    now=now,
                )
                team_reviews = team_review_logins(
                    session, repo_full_name=snapshot.repo_full_name, number=snapshot.number
                )
                confirmed = confirmations_at(
                    session,
                    repo_full_name=snapshot.repo_full_name,
                    number=snapshot.number,
                    head_sha=snapshot.head_sha,
                )
            snapshot = dataclasses.replace(snapshot, approver_confirmations=confirmed)
        snapshot = await complete(
            self.gateway,
            self.installation_id,
            snapshot,
            policy,
            history=history,
            team_reviews=team_reviews,
        )
        for run in impostors.impostors(snapshot.checks):
            impostors.announce(
                self.services, repo=snapshot.repo_full_name, sha=snapshot.head_sha, app=run.app_slug
            )
        evaluation = evaluate(snapshot, policy, now)
        self.evidence = evidence(snapshot, policy)
        if lane is Lane.HOTFIX and snapshot.state == "open":
            self._declare(snapshot, policy, url=url)
        if _verdict_of(evaluation, rate_limit.RULE_ID) is Outcome.FAIL and history is not None:
            self._announce_rate_limit(snapshot, policy, history.merged_in_window, url=url)
        return evaluation

    def _declare(self, snapshot: PullRequestSnapshot, policy: Policy, *, url: str | None) -> None:
        """Runbook step 1: the first hotfix PR of an incident declares it in the status
        channel (once per incident, however often the PR is evaluated)."""
        with Session(self.services.engine) as session:
            declared = incidents.declare(
                session,
                snapshot=snapshot,
                policy=policy,
                url=url or f"{self.repository.full_name}#{snapshot.number}",
                now=self.services.clock.now(),
            )
            if declared:
                session.commit()

    def _announce_rate_limit(
        self, snapshot: PullRequestSnapshot, policy: Policy, count: int, *, url: str | None
    ) -> None:
        notice = notices.rate_limit_tripped(
            repo=snapshot.repo_full_name,
            number=snapshot.number,
            count=count,
            limit=policy.rate_limit.max_hotfixes,
            window_days=policy.rate_limit.window_days,
            review_team=policy.teams.review,
            # GitHub's own link: on Enterprise Server it is not github.com.
            url=url or f"{self.repository.full_name}#{snapshot.number}",
        )
        with Session(self.services.engine) as session:
            enqueue_notice(
                session,
                notice=notices.reported(
                    notices.drilled(notice, is_drill(snapshot, policy)), policy.mode == "report"
                ),
                channel=audit_channel(self.services.settings, policy),
                now=self.services.clock.now(),
            )
            session.commit()

    async def _publish_and_record(
        self, pr: PullRequest, evaluation: Evaluation, *, force: bool = False
    ) -> None:
        engine, repo = self.services.engine, self.repository.full_name
        with Session(engine) as session:
            current = tracked_head(session, repo_full_name=repo, number=pr.number)
        if current is not None and _superseded(current.head_sha, current.pr_updated_at, pr):
            # A newer copy of the PR arrived while this one was evaluated (another job, maybe
            # another process): its evaluation speaks for the PR, not this older one.
            log.info("PR #%d changed while it was evaluated; not published", pr.number)
            return
        clock = self.services.clock

        def record(conn: Connection) -> None:
            # Stamped once published: a merge is judged by the evaluations made before it.
            record_evaluation(
                conn,
                repo_full_name=repo,
                number=pr.number,
                head_sha=pr.head.sha,
                evaluation=evaluation,
                delivery_id=self.context.delivery_id,
                now=clock.now(),
                evidence=self.evidence,
            )

        await publish(
            self.gateway,
            engine=engine,
            installation_id=self.installation_id,
            repo=repo,
            head_sha=pr.head.sha,
            evaluation=evaluation,
            now=clock.now(),
            details_url=details_url(self.services.settings, repo, pr.number),
            force=force,
            also=record,
        )

    def _remember(self, pr: PullRequest, lane: Lane, *, authoritative: bool = False) -> Tracked:
        with Session(self.services.engine) as session:
            return track(
                session,
                repo_full_name=self.repository.full_name,
                number=pr.number,
                installation_id=self.installation_id,
                head_sha=pr.head.sha,
                lane=lane.value,
                state=pr.state,
                default_branch=self.repository.default_branch,
                pull_request_json=pr.model_dump_json(),
                pr_updated_at=pr.updated_at,
                now=self.services.clock.now(),
                authoritative=authoritative,
            )

    async def _publish_unavailable(self, pr: PullRequest, lane: Lane, exc: Exception) -> None:
        """Say on the PR that it cannot be evaluated yet; best effort, GitHub may be down."""
        log.warning("PR #%d cannot be evaluated now: %s", pr.number, exc)
        evaluation = error_evaluation(lane, f"GitHub API unavailable ({exc}); will retry.")
        with contextlib.suppress(Exception):
            await self._publish_and_record(pr, evaluation)


def _verdict_of(evaluation: Evaluation, rule_id: str) -> Outcome | None:
    return next((v.outcome for v in evaluation.verdicts if v.rule_id == rule_id), None)


def _superseded(head_sha: str, updated_at: datetime | None, pr: PullRequest) -> bool:
    """Whether the stored copy (its head and GitHub's ``updated_at``) is newer than ``pr``."""
    if head_sha != pr.head.sha:
        return True
    return updated_at is not None and pr.updated_at is not None and updated_at > pr.updated_at
