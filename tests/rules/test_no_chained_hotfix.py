from __future__ import annotations

import pytest

from app.rules import no_chained_hotfix
from app.rules.model import LaneHistory, MergedHotfix, Outcome, PullRequestSnapshot
from tests.rules.factories import INCIDENT, NOW, OTHER_INCIDENT, commit, hotfix_pr, policy

MERGED_TITLE = f"HOTFIX: {INCIDENT} catalog nil-deref on missing tenant header"
MERGED = MergedHotfix("acme/catalog", 4300, MERGED_TITLE)
ELSEWHERE = MergedHotfix("acme/inventory", 77, f"HOTFIX: {INCIDENT} inventory lock")
THIS_PR = MergedHotfix("acme/catalog", 4321, MERGED_TITLE)
REVERT_TITLE = f'Revert "{MERGED_TITLE}"'
CHAINED = (
    f"{INCIDENT} already has a merged hotfix (#4300): revert it, or declare a new incident "
    "for a new fix."
)


def merged(*hotfixes: MergedHotfix, **changes: object) -> PullRequestSnapshot:
    """The factory's hotfix PR, with the ledger listing ``hotfixes`` under its incident."""
    history = LaneHistory(0, author_this_quarter=0, quarter="2026-Q2", incident_hotfixes=hotfixes)
    return hotfix_pr(history=history, **changes)


def other_incident() -> PullRequestSnapshot:
    """A hotfix PR of OTHER_INCIDENT: the ledger, asked for that incident, lists none."""
    return hotfix_pr(
        title=f"HOTFIX: {OTHER_INCIDENT} catalog timeout",
        head_ref=f"hotfix/{OTHER_INCIDENT}-catalog-timeout",
        commits=(commit(commit().message.replace(INCIDENT, OTHER_INCIDENT)),),
    )


@pytest.mark.parametrize(
    ("snapshot", "override", "outcome", "message"),
    [
        pytest.param(
            merged(),
            None,
            Outcome.PASS,
            f"No merged hotfix of {INCIDENT} yet.",
            id="no merged hotfix of the incident passes",
        ),
        pytest.param(
            merged(MERGED),
            None,
            Outcome.FAIL,
            CHAINED,
            id="a merged one with the same incident fails",
        ),
        pytest.param(
            merged(THIS_PR),
            None,
            Outcome.PASS,
            f"No merged hotfix of {INCIDENT} yet.",
            id="the PR itself never counts against itself",
        ),
        pytest.param(
            merged(MERGED, title=REVERT_TITLE),
            None,
            Outcome.PASS,
            f"Reverts #4300, a merged hotfix of {INCIDENT}: a rollback, not a chained hotfix.",
            id="a revert of the merged one passes",
        ),
        pytest.param(
            merged(MERGED, title=f'Revert "HOTFIX: {INCIDENT} something else"'),
            None,
            Outcome.FAIL,
            CHAINED,
            id="a revert of something else is still a chained hotfix",
        ),
        pytest.param(
            other_incident(),
            None,
            Outcome.PASS,
            f"No merged hotfix of {OTHER_INCIDENT} yet.",
            id="another incident's hotfix passes",
        ),
        pytest.param(
            merged(ELSEWHERE),
            None,
            Outcome.FAIL,
            f"{INCIDENT} already has a merged hotfix (acme/inventory#77): revert it, or declare "
            "a new incident for a new fix.",
            id="a merged one in another repository of the org fails and names that repository",
        ),
        pytest.param(
            merged(MERGED, ELSEWHERE, THIS_PR),
            None,
            Outcome.FAIL,
            f"{INCIDENT} already has 2 merged hotfixes (#4300, acme/inventory#77): revert them, "
            "or declare a new incident for a new fix.",
            id="several merged ones are all named",
        ),
        pytest.param(
            merged(MERGED),
            "rules: {no-chained-hotfix: {enabled: false}}",
            Outcome.SKIPPED,
            "Turned off by the policy (rules.no-chained-hotfix.enabled: false).",
            id="turned off it is skipped",
        ),
        pytest.param(
            hotfix_pr(history=None),
            None,
            Outcome.PENDING,
            "The ledger's hotfixes are not available.",
            id="without the ledger it fails closed as pending",
        ),
        pytest.param(
            hotfix_pr(title="HOTFIX: catalog", head_ref="hotfix/catalog", commits=(commit("fix"),)),
            None,
            Outcome.PASS,
            "No incident id, so no earlier hotfix to look for.",
            id="no incident id passes and leaves it to incident-id",
        ),
    ],
)
def test_no_chained_hotfix(
    snapshot: PullRequestSnapshot, override: str | None, outcome: Outcome, message: str
) -> None:
    verdict = no_chained_hotfix.check(snapshot, policy(override), NOW)

    assert (verdict.rule_id, verdict.outcome, verdict.message) == (
        no_chained_hotfix.RULE_ID,
        outcome,
        message,
    )
