"""Gather what the rules need about a pull request, and not a request more.

The rules say what they will look at (``wanted_memberships``, ``needs_reviews``); this module
reads exactly that: commits, files and checks of the head, the reviews only past the rate
limit, and the team memberships of the logins the rules will ask about, at most
``max_membership_lookups`` of them, most needed first (the rest count as no member).
"""

from __future__ import annotations

import dataclasses
import logging

from app.github.gateway import GitHubGateway
from app.policy.model import Policy
from app.rules.evaluate import needs_reviews, wanted_memberships
from app.rules.model import LaneHistory, PullRequestSnapshot

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
    return snapshot
