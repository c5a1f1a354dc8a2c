from __future__ import annotations

from dataclasses import replace

import pytest

from app.rules import rate_limit
from app.rules.model import LaneHistory, Outcome, PullRequestSnapshot, Review
from tests.rules.factories import NOW, hotfix_pr, policy, teams

REVIEW_TEAM = teams(sre_leads=["alice"], platform_team=["dave"])


def counted(snapshot: PullRequestSnapshot, merged_in_window: int) -> PullRequestSnapshot:
    """The snapshot with the ledger's count of hotfixes merged in the window."""
    history = LaneHistory(merged_in_window, author_this_quarter=0, quarter="2026-Q2")
    return replace(snapshot, history=history)


@pytest.mark.parametrize(
    ("merged", "reviews", "comments", "outcome"),
    [
        pytest.param(0, (), (), Outcome.PASS, id="no recent hotfix passes"),
        pytest.param(2, (), (), Outcome.PASS, id="two in the window pass"),
        pytest.param(3, (), (), Outcome.FAIL, id="three in the window fail without a review"),
        pytest.param(
            3,
            (Review("dave", "APPROVED"),),
            (),
            Outcome.PASS,
            id="an approval by a review-team member passes",
        ),
        pytest.param(
            3,
            (Review("eve", "APPROVED"),),
            (),
            Outcome.FAIL,
            id="an approval by someone outside the team does not",
        ),
        pytest.param(
            3,
            (Review("dave", "COMMENTED"),),
            (),
            Outcome.FAIL,
            id="a comment review by a member is not an approval",
        ),
        pytest.param(
            3, (), ("dave",), Outcome.PASS, id="a team-reviewed comment by a member passes"
        ),
        pytest.param(
            3, (), ("eve",), Outcome.FAIL, id="a team-reviewed comment by a non-member does not"
        ),
        pytest.param(
            7,
            (Review("dave", "APPROVED"),),
            (),
            Outcome.PASS,
            id="far past the limit a member's approval still unlocks it",
        ),
    ],
)
def test_rate_limit(
    merged: int, reviews: tuple[Review, ...], comments: tuple[str, ...], outcome: Outcome
) -> None:
    snapshot = hotfix_pr(reviews=reviews, team_review_comments=comments, teams=REVIEW_TEAM)

    verdict = rate_limit.check(counted(snapshot, merged), policy(), NOW)

    assert verdict.outcome is outcome


def test_the_failure_says_who_may_unlock_it() -> None:
    verdict = rate_limit.check(counted(hotfix_pr(teams=REVIEW_TEAM), 3), policy(), NOW)
    assert verdict.message == (
        "3 hotfixes merged in this organisation in 7 days (limit 3): a member of platform-team "
        "must approve this PR or comment '/hotfix team-reviewed' first."
    )


def test_the_author_cannot_sign_off_their_own_hotfix() -> None:
    snapshot = hotfix_pr(reviews=(Review("bob", "APPROVED"),), teams=teams(platform_team=["bob"]))
    verdict = rate_limit.check(counted(snapshot, 3), policy(), NOW)
    assert verdict.outcome is Outcome.FAIL


def test_the_scope_and_limit_come_from_the_policy() -> None:
    strict = policy("rate_limit:\n  max_hotfixes: 1\n  scope: repository\n")
    verdict = rate_limit.check(counted(hotfix_pr(), 1), strict, NOW)
    assert verdict.outcome is Outcome.FAIL
    assert verdict.message.startswith("1 hotfix merged in this repository in 7 days (limit 1)")


def test_the_author_cannot_sign_off_with_a_comment_either() -> None:
    snapshot = hotfix_pr(team_review_comments=("bob",), teams=teams(platform_team=["bob"]))
    verdict = rate_limit.check(counted(snapshot, 3), policy(), NOW)
    assert verdict.outcome is Outcome.FAIL
