"""Runbook step 5: the hotfix shipped. ``deployment_status`` events say when, and where.

Argo CD's notifications (and most deploy tools) report each sync as a GitHub deployment
status on the commit they deployed. A successful one of a hotfix's merge commit, or of a
later commit that contains it, in an environment the policy names, is the hotfix shipped:
the ledger gets merge-to-healthy time, the incident thread hears it, and the verification
of recovery starts. A failed one (``failure``, ``error``) is said in the incident thread.

Only the repository's recent hotfixes still waiting for a deployment are looked at, at most
``MAX_CANDIDATES``, each costing at most one compare read: a busy repository's every deploy
is otherwise free.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlmodel import Session

from app.github.gateway import GitHubGateway
from app.github.payloads import DeploymentStatusEvent
from app.incidents import recovery
from app.ledger import incidents
from app.ledger.merge import refresh_tracking
from app.ledger.records import awaiting_deployment, mark_deployed
from app.notify import notices
from app.notify.outbox import enqueue_notice
from app.policy.lookup import policy_or_defaults
from app.policy.model import Policy
from app.services import EventContext
from app.store.models import HotfixRecord

log = logging.getLogger(__name__)

SUCCESS = "success"
FAILED = frozenset({"failure", "error"})
# A deployment later than this after the merge is no longer the hotfix's mitigation.
LOOKBACK = timedelta(days=14)
MAX_CANDIDATES = 5


async def on_deployment_status(context: EventContext) -> None:
    """deployment_status created: a hotfix deployed, or its deployment failed."""
    try:
        event = DeploymentStatusEvent.model_validate(context.payload)
    except ValidationError:
        log.warning("deployment_status delivery lacks the fields we read; skipped")
        return
    state = event.deployment_status.state
    if state != SUCCESS and state not in FAILED:
        return  # pending, queued, in_progress, inactive: nothing happened yet
    repository, installation_id = event.repository, event.installation_id
    gateway = context.services.gateway
    if repository is None or installation_id is None or gateway is None:
        log.warning("deployment_status without a repository, an installation or the App")
        return
    now = context.services.clock.now()
    with Session(context.services.engine, expire_on_commit=False) as session:
        candidates = awaiting_deployment(
            session,
            repo_full_name=repository.full_name,
            since=now - LOOKBACK,
            limit=MAX_CANDIDATES,
        )
    if not candidates:
        return
    policy = await policy_or_defaults(
        gateway, installation_id, repository.full_name, repository.default_branch
    )
    environment = event.environment
    if not counts(environment, policy):
        log.info("deployment to %s: not an environment the policy names", environment)
        return
    if not trusted(event, policy):
        log.warning(
            "deployment status by %s ignored: not among deploy.creators",
            ", ".join(sorted(event.deployment_status.reporters)) or "nobody named",
        )
        return
    sha = event.deployment.sha
    for record in candidates:
        if record.merge_sha is None or not await _ships(gateway, installation_id, record, sha):
            continue
        if state == SUCCESS:
            at = _at(event.deployment_status.created_at, record, now)
            _shipped(context, record, policy, environment=environment, sha=sha, at=at, now=now)
        else:
            _failed(context, record, policy, event, now=now)


def counts(environment: str, policy: Policy) -> bool:
    """Whether a deployment to ``environment`` is one the policy cares about (empty: any)."""
    wanted = {name.lower() for name in policy.deploy.environments}
    return not wanted or environment.lower() in wanted


def trusted(event: DeploymentStatusEvent, policy: Policy) -> bool:
    """Whether the status comes from someone the policy lets report deployments (anyone when
    ``deploy.creators`` is empty): anyone with write access can post a deployment status."""
    allowed = {name.lower().removesuffix("[bot]") for name in policy.deploy.creators}
    if not allowed:
        return True
    reporters = {name.removesuffix("[bot]") for name in event.deployment_status.reporters}
    return bool(reporters & allowed)


async def _ships(
    gateway: GitHubGateway, installation_id: int, record: HotfixRecord, sha: str
) -> bool:
    """Whether the deployed commit is the hotfix's merge commit or contains it."""
    assert record.merge_sha is not None
    if sha == record.merge_sha:
        return True
    # Compare deployed...merge: "behind" or "identical" puts the merge in the deployed history.
    return await gateway.is_on_branch(installation_id, record.repo_full_name, sha, record.merge_sha)


def _at(reported: datetime | None, record: HotfixRecord, now: datetime) -> datetime:
    """When it became healthy: GitHub's time of the status, never before the merge or after
    now (a deploy tool's clock can be off)."""
    if reported is None:
        return now
    return min(max(reported, record.merged_at), now)


def _shipped(
    context: EventContext,
    record: HotfixRecord,
    policy: Policy,
    *,
    environment: str,
    sha: str,
    at: datetime,
    now: datetime,
) -> None:
    assert record.id is not None
    with Session(context.services.engine, expire_on_commit=False) as session:
        if not mark_deployed(session, hotfix_id=record.id, at=at, environment=environment, sha=sha):
            return
        record.deployed_at, record.deployment_environment = at, environment
        notice = notices.deployed(
            subject=incidents.hotfix_subject(record),
            incident_id=record.incident_id,
            repo=record.repo_full_name,
            number=record.number,
            environment=environment,
            sha=sha,
            minutes_after_merge=(at - record.merged_at).total_seconds() / 60,
            url=_url(record),
        )
        enqueue_notice(
            session,
            notice=notices.drilled(notice, record.drill),
            channel=incidents.status_channel(policy),
            now=now,
        )
        recovery.deployed(session, record, policy, now=now)
        refresh_tracking(session, record.id, reason="deployed", now=now)
        session.commit()
    log.info(
        "hotfix %s#%d deployed to %s, %.1f min after the merge",
        record.repo_full_name,
        record.number,
        environment,
        (at - record.merged_at).total_seconds() / 60,
    )


def _failed(
    context: EventContext,
    record: HotfixRecord,
    policy: Policy,
    event: DeploymentStatusEvent,
    *,
    now: datetime,
) -> None:
    status = event.deployment_status
    notice = notices.deployment_failed(
        subject=incidents.hotfix_subject(record),
        incident_id=record.incident_id,
        repo=record.repo_full_name,
        number=record.number,
        environment=event.environment,
        state=status.state,
        description=status.description,
        deployment_status_id=status.id,
        url=_url(record),
    )
    with Session(context.services.engine) as session:
        enqueue_notice(
            session,
            notice=notices.drilled(notice, record.drill),
            channel=incidents.status_channel(policy),
            now=now,
        )
        session.commit()
    log.info(
        "deployment of hotfix %s#%d to %s: %s",
        record.repo_full_name,
        record.number,
        event.environment,
        status.state,
    )


def _url(record: HotfixRecord) -> str:
    return record.url or f"{record.repo_full_name}#{record.number}"
