"""approver-confirmed: the named approver's own act, at the current head (runbook step 1)."""

from __future__ import annotations

import pytest

from app.rules import approver_confirmed
from app.rules.model import Outcome, PullRequestSnapshot, Review
from tests.rules.factories import NOW, hotfix_pr, policy

HEAD = "f00dfeed"


@pytest.mark.parametrize(
    ("snapshot", "outcome", "message"),
    [
        pytest.param(
            hotfix_pr(),
            Outcome.PASS,
            "@alice confirmed with `/hotfix approve` after the latest push.",
            id="the approver's command at this head confirms",
        ),
        pytest.param(
            hotfix_pr(approver_confirmations=(), reviews=(Review("alice", "APPROVED", HEAD),)),
            Outcome.PASS,
            "@alice confirmed with an approving review on the head commit.",
            id="an approving review on the head confirms",
        ),
        pytest.param(
            hotfix_pr(approver_confirmations=(), reviews=(Review("Alice", "APPROVED", "0ldhead"),)),
            Outcome.PENDING,
            "Waiting for @alice to confirm: an approving review on the head commit, or "
            "`/hotfix approve` in a comment.",
            id="an approval of an older head does not",
        ),
        pytest.param(
            hotfix_pr(approver_confirmations=(), reviews=(Review("alice", "COMMENTED", HEAD),)),
            Outcome.PENDING,
            "Waiting for @alice to confirm",
            id="a comment review is no confirmation",
        ),
        pytest.param(
            hotfix_pr(
                approver_confirmations=("dave",), reviews=(Review("dave", "APPROVED", HEAD),)
            ),
            Outcome.PENDING,
            "Waiting for @alice to confirm",
            id="someone else's confirmation does not count",
        ),
        pytest.param(
            hotfix_pr(approver_confirmations=("ALICE",)),
            Outcome.PASS,
            "@alice confirmed",
            id="logins are case-insensitive",
        ),
        pytest.param(
            hotfix_pr(body="", commits=(), approver_confirmations=()),
            Outcome.PENDING,
            "No approver named yet",
            id="with nobody named there is nobody to confirm",
        ),
    ],
)
def test_approver_confirmed(snapshot: PullRequestSnapshot, outcome: Outcome, message: str) -> None:
    verdict = approver_confirmed.check(snapshot, policy(), NOW)
    assert verdict.outcome is outcome
    assert verdict.message.startswith(message)


def test_it_can_be_turned_off() -> None:
    off = policy("rules: {approver-confirmed: {enabled: false}}")
    verdict = approver_confirmed.check(hotfix_pr(approver_confirmations=()), off, NOW)
    assert verdict.outcome is Outcome.SKIPPED
