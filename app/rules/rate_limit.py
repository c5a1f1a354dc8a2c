"""rate-limit: past N hotfixes in the window, a review-team member signs off first.

Footgun "the hotfix became normal": more than three hotfixes in seven days calls for a team
review before the next one. The count comes from the ledger (``snapshot.history``); the
sign-off is an approving review, or a ``/hotfix team-reviewed`` comment, by a review-team
member. Reviews and the review team's memberships are only read once the limit is reached.
"""

from __future__ import annotations

from datetime import datetime

from app.policy.model import Policy
from app.rules import facts, text
from app.rules.model import Outcome, PullRequestSnapshot, Verdict

RULE_ID = "rate-limit"
TEAM_REVIEWED_COMMAND = "/hotfix team-reviewed"


def team_reviewers(snapshot: PullRequestSnapshot, policy: Policy) -> tuple[str, ...]:
    """Review-team members who approved the PR or recorded a team review, in that order."""
    team = policy.teams.review
    approving = [r.user_login for r in snapshot.reviews if r.state == "APPROVED"]
    candidates = [*approving, *snapshot.team_review_comments]
    # Signing off your own hotfix is no team review, whichever team you are on.
    author = snapshot.author_login.lower()
    members = [
        login for login in candidates if login.lower() != author and snapshot.is_member(team, login)
    ]
    return tuple(dict.fromkeys(login.lower() for login in members))


def past_limit(snapshot: PullRequestSnapshot, policy: Policy) -> bool:
    """Whether the sign-off matters: only then are reviews and the review team read."""
    history = snapshot.history
    return history is not None and history.merged_in_window >= policy.rate_limit.max_hotfixes


def wanted_memberships(snapshot: PullRequestSnapshot, policy: Policy) -> facts.MembershipPairs:
    """The (team, login) pairs ``check`` asks about, past the limit, in order: the recorded
    sign-offs (a member commented), then the approving reviewers (anyone can approve); never
    the author, whose sign-off does not count."""
    if not past_limit(snapshot, policy):
        return frozenset()
    approving = [r.user_login for r in snapshot.reviews if r.state == "APPROVED"]
    team, author = policy.teams.review, snapshot.author_login.lower()
    candidates = (*snapshot.team_review_comments, *approving)
    return facts.in_order((team, login) for login in candidates if login.lower() != author)


def check(snapshot: PullRequestSnapshot, policy: Policy, now: datetime) -> Verdict:
    if snapshot.history is None:
        # Fail closed: without the ledger's count the limit cannot be said to hold.
        return Verdict(RULE_ID, Outcome.PENDING, "The ledger's hotfix count is not available.")
    merged_in_window = snapshot.history.merged_in_window
    limit = policy.rate_limit.max_hotfixes
    days = policy.rate_limit.window_days
    scope = "organisation" if policy.rate_limit.scope == "organisation" else "repository"
    hotfixes = "hotfix" if merged_in_window == 1 else "hotfixes"
    counted = f"{merged_in_window} {hotfixes} merged in this {scope} in {days} days"
    if merged_in_window < limit:
        return Verdict(RULE_ID, Outcome.PASS, f"{counted} (limit {limit}).")
    reviewers = team_reviewers(snapshot, policy)
    if reviewers:
        return Verdict(
            RULE_ID,
            Outcome.PASS,
            f"{counted} (limit {limit}); team review by {text.handles(reviewers)}.",
        )
    return Verdict(
        RULE_ID,
        Outcome.FAIL,
        f"{counted} (limit {limit}): a member of {policy.teams.review} must approve this PR "
        f"or comment '{TEAM_REVIEWED_COMMAND}' first.",
    )
