"""An optional poller of the Enterprise Cloud audit log, for organisations without a forwarder.

Off unless ``HOTFIX_LANE_AUDIT_LOG_POLL_SECONDS`` is set. Every interval (a recurring job,
``app.auditlog.jobs``: one poll across every replica, never a loop per process) it asks each
organisation hotfix-lane has seen pull requests from for its recent
``protected_branch.policy_override`` events (``GET /orgs/{org}/audit-log``) and hands them to
the same ``ingest`` as ``POST /api/audit-log``, so both paths store, deduplicate and correlate
alike. No cursor is kept: the newest override already stored for an organisation is where the
next poll starts (less an overlap, since GitHub indexes events with some delay), and
``_document_id`` deduplication absorbs the overlap.

The audit-log API needs GitHub Enterprise Cloud and the App's organisation permission
``organization_administration: read``; an organisation without either is skipped with a
warning.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.auditlog.decisions import POLICY_OVERRIDE
from app.auditlog.events import AuditEntry, MalformedEvent, parse_entry
from app.auditlog.ingest import IngestResult, ingest
from app.clock import Clock
from app.github.errors import GitHubError, GitHubRejected
from app.github.gateway import GitHubGateway
from app.policy.loader import default_policy
from app.policy.model import Policy
from app.retry import Defer
from app.settings import Settings
from app.store.models import AuditEvent, TrackedPullRequest

log = logging.getLogger(__name__)

# GitHub makes events searchable some minutes after they happen: look back past the newest.
OVERLAP = timedelta(hours=1)
# With nothing stored yet, how far back the first poll looks. Older overrides predate the
# ledger and would all read as bypasses outside the lane.
FIRST_LOOKBACK = timedelta(hours=1)


@dataclass(frozen=True)
class Organisation:
    installation_id: int
    login: str


class AuditLogPoller:
    """Polls each known organisation's audit log for policy overrides (``poll_once``)."""

    def __init__(
        self,
        *,
        engine: Engine,
        settings: Settings,
        gateway: GitHubGateway,
        clock: Clock,
        policy: Policy | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.gateway = gateway
        self.clock = clock
        self.policy = policy or default_policy()
        self._refused: set[str] = set()

    async def poll_once(self) -> IngestResult:
        """One round over every organisation; the totals of what was stored."""
        stored = duplicates = notices = 0
        for org in await asyncio.to_thread(organisations, self.engine):
            try:
                result = await self.poll_organisation(org)
            except Defer as deferral:
                log.warning("audit-log poll paused until the next round: %s", deferral.reason)
                break
            except GitHubRejected as exc:
                self._note_refusal(org, exc)
                continue
            except GitHubError as exc:
                log.warning("audit log of %s not read: %s", org.login, exc)
                continue
            stored += result.stored
            duplicates += result.duplicates
            notices += result.notices
        return IngestResult(stored=stored, duplicates=duplicates, notices=notices)

    async def poll_organisation(self, org: Organisation) -> IngestResult:
        """Fetch ``org``'s overrides since the newest one stored and ingest them."""
        now = self.clock.now()
        since = await asyncio.to_thread(self._since, org.login, now)
        # The qualifier takes dates; the overlap with what is stored is filtered out below
        # and deduplicated anyway.
        phrase = f"action:{POLICY_OVERRIDE} created:>={since.date().isoformat()}"
        events = await self.gateway.audit_log(org.installation_id, org.login, phrase=phrase)
        entries = [entry for entry in self._entries(org, events) if entry.created_at >= since]
        result = await asyncio.to_thread(self._ingest, entries, now)
        self._refused.discard(org.login)
        if result.stored:
            log.info(
                "audit log of %s: %d new policy overrides, %d notices queued",
                org.login,
                result.stored,
                result.notices,
            )
        return result

    def _entries(self, org: Organisation, events: list[dict[str, object]]) -> list[AuditEntry]:
        entries: list[AuditEntry] = []
        for index, event in enumerate(events):
            try:
                entries.append(parse_entry(event))
            except MalformedEvent as exc:
                log.warning("audit log of %s: event %d skipped: it %s", org.login, index, exc)
        return entries

    def _since(self, org: str, now: datetime) -> datetime:
        with Session(self.engine) as session:
            newest = session.exec(
                select(func.max(col(AuditEvent.created_at))).where(
                    col(AuditEvent.action) == POLICY_OVERRIDE,
                    or_(
                        func.lower(col(AuditEvent.org)) == org.lower(),
                        func.lower(col(AuditEvent.repo)).like(f"{org.lower()}/%"),
                    ),
                )
            ).one()
        return newest - OVERLAP if newest is not None else now - FIRST_LOOKBACK

    def _ingest(self, entries: list[AuditEntry], now: datetime) -> IngestResult:
        with Session(self.engine) as session:
            result = ingest(
                session, entries=entries, settings=self.settings, policy=self.policy, now=now
            )
            session.commit()
        return result

    def _note_refusal(self, org: Organisation, exc: GitHubRejected) -> None:
        # Not Enterprise Cloud, or the permission is missing: say so once, not every round.
        level = logging.DEBUG if org.login in self._refused else logging.WARNING
        self._refused.add(org.login)
        log.log(
            level,
            "audit log of %s not readable (%s); it needs GitHub Enterprise Cloud and the App "
            "permission organization_administration: read",
            org.login,
            exc,
        )


def organisations(engine: Engine) -> list[Organisation]:
    """The accounts (with their installation) whose pull requests hotfix-lane has seen."""
    with Session(engine) as session:
        rows = session.exec(
            select(col(TrackedPullRequest.installation_id), col(TrackedPullRequest.repo_full_name))
            .where(col(TrackedPullRequest.installation_id).is_not(None))
            .distinct()
        ).all()
    found = {(installation, repo.split("/", 1)[0]) for installation, repo in rows if installation}
    return [Organisation(installation_id, login) for installation_id, login in sorted(found)]
