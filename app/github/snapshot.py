"""Gather what the rules need about a pull request, and not a request more.

The rules say what they will look at (``wanted_memberships``, ``needs_reviews``); this module
reads exactly that: commits, files and checks of the head, the reviews only past the rate
limit, the team memberships of the logins the rules will ask about, at most
``max_membership_lookups`` of them, most needed first (the rest count as no member), and the
named approver's profile (their e-mails, to match ``Co-authored-by:`` trailers with).
"""

from __future__ import annotations

import dataclasses
import logging

from app.github.gateway import GitHubGateway
from app.policy.model import Policy
from app.rules.classify import classify
from app.rules.evaluate import needs_reviews, wanted_memberships
from app.rules.facts import named_approver
from app.rules.model import Lane, LaneHistory, PullRequestSnapshot

log = logging.getLogger(__name__)


async def complete(
    gateway: GitHubGateway,
    installation_id: int,
    snapshot: PullRequestSnapshot,
    policy: Policy,
    *,
    history: LaneHistory | None = None,
    team_reviews: tuple[str, ...] = (),
) -> PullRequestSnapshot:
    """An enriched ``snapshot`` (``gateway.enrich``: commits, files, checks) with the rest of
    what its lane's rules read: ``history`` is the ledger's count, then reviews and team
    memberships as the rules ask for them."""
    if history is not None:
        snapshot = dataclasses.replace(snapshot, history=history, team_review_comments=team_reviews)
    if needs_reviews(snapshot, policy):
        reviews = await gateway.reviews(installation_id, snapshot.repo_full_name, snapshot.number)
        snapshot = dataclasses.replace(snapshot, reviews=reviews)
    pairs = wanted_memberships(snapshot, policy)
    if pairs:
        # In the rules' order, most needed first: the gateway looks up only so many.
        teams = await gateway.team_members(installation_id, snapshot.owner, pairs)
        if teams.unchecked:
            log.warning(
                "PR #%d of %s: %d team memberships not looked up (cap %s); they count as none",
                snapshot.number,
                snapshot.repo_full_name,
                len(teams.unchecked),
                teams.cap,
            )
        snapshot = dataclasses.replace(snapshot, teams=teams)
    approver = _approver_to_read(snapshot, policy)
    if approver is not None:
        # GitHub links a trailer's e-mail to no account for us: the approver's own e-mails
        # are what a "Co-authored-by:" line naming them is recognised by.
        user = await gateway.user(installation_id, approver)
        snapshot = dataclasses.replace(
            snapshot, approver_emails=user.emails, approver_name=user.name
        )
    return snapshot


def _approver_to_read(snapshot: PullRequestSnapshot, policy: Policy) -> str | None:
    """The approver whose profile ``approver-authorized`` will match trailers against."""
    if (
        not policy.rules.approver_authorized.enabled
        or classify(snapshot, policy) is not Lane.HOTFIX
    ):
        return None
    return named_approver(snapshot, policy)
