"""The commit status description: at most 140 characters, said shorter in whole pieces.

GitHub refuses longer descriptions, and a description cut at 140 characters can end in
``@ali…`` or ``/hotfix team-…``. So a long one says less instead: fewer sentences, then fewer
clauses, then only which rules block. The check run keeps every message whole.
"""

from __future__ import annotations

import re

import pytest

from app.lane.status import build_status
from app.rules.evaluate import (
    HOTFIX_RULES,
    MAX_DESCRIPTION,
    aggregate,
    error_evaluation,
    fit_description,
)
from app.rules.model import Evaluation, Lane, Outcome, State, Verdict
from tests.lane.samples import evaluation

LANE_RULES = [rule.id for rule in HOTFIX_RULES]
HUGE = "x" * 300


def failing(rule: str, message: str, outcome: Outcome = Outcome.FAIL) -> Verdict:
    return Verdict(rule, outcome, message)


# Each message is longer than 140 characters with its rule id, and a cut at 140 would fall
# inside the token named in the row's id.
ROWS = [
    pytest.param(
        [
            failing(
                "rate-limit",
                "4 hotfixes merged in this organisation in 7 days (limit 3); a member of "
                "@acme/platform-team must approve it, or comment `/hotfix team-reviewed` first.",
            )
        ],
        "rate-limit: 4 hotfixes merged in this organisation in 7 days (limit 3); a member of "
        "@acme/platform-team must approve it…",
        id="a backticked command at the cut drops its clause",
    ),
    pytest.param(
        [
            failing(
                "rate-limit",
                "4 hotfixes merged in this organisation in 7 days (limit 3): a member of "
                "platform-team must approve this PR, or comment '/hotfix team-reviewed' first.",
            )
        ],
        "rate-limit: 4 hotfixes merged in this organisation in 7 days (limit 3): a member of "
        "platform-team must approve this PR…",
        id="a quoted command at the cut drops its clause",
    ),
    pytest.param(
        [
            failing(
                "postmortem",
                "The postmortem for INC-2026-05-20-001 is overdue by 3 days; the incident "
                "commander should write it up and comment /hotfix postmortem <URL> on the "
                "tracking issue.",
            )
        ],
        "postmortem: The postmortem for INC-2026-05-20-001 is overdue by 3 days…",
        id="a bare command and its argument at the cut drop their clause",
    ),
    pytest.param(
        [
            failing(
                "approver-authorized",
                "@alice wrote this change and cannot approve it; @bob is not an active member "
                "of sre-leads or eng-managers, nor is @alexandra-the-long-login: name another.",
            )
        ],
        "approver-authorized: @alice wrote this change and cannot approve it; @bob is not an "
        "active member of sre-leads or eng-managers…",
        id="a login at the cut drops its clause",
    ),
    pytest.param(
        [
            failing(
                "scan",
                "trivy comes from a workflow, and this PR changes the container scanner's "
                "configuration in .github/workflows/security/container-image-scan.yml: a scan "
                "that counts must come from the app.",
            )
        ],
        "scan: trivy comes from a workflow…",
        id="a path at the cut drops every clause it ends",
    ),
    pytest.param(
        [
            failing(
                "diff-size",
                "72 changed lines; a hotfix must stay under 50. Ship the smallest fix that stops "
                "the incident and move every refactor, rename and test to the cleanup PR.",
            )
        ],
        "diff-size: 72 changed lines; a hotfix must stay under 50.",
        id="a second sentence that does not fit is dropped whole",
    ),
    pytest.param(
        [
            failing(
                "scan",
                "Waiting for a security scan (scan, trivy or snyk) on the head commit "
                "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c of this pull request, from the "
                "scanner's own app.",
                Outcome.PENDING,
            )
        ],
        "scan: Waiting for a security scan (scan, trivy or snyk) on the head commit "
        "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c of this pull request…",
        id="a pending rule says less the same way",
    ),
    pytest.param(
        [failing("diff-size", HUGE)],
        "diff-size fails; see the check run",
        id="one huge word leaves only the rule that fails",
    ),
    pytest.param(
        [failing("scan", HUGE, Outcome.PENDING)],
        "scan is pending; see the check run",
        id="one huge word of a pending rule leaves only the rule",
    ),
    pytest.param(
        [failing("diff-size", HUGE), failing("scan", "Scan did not pass.")],
        "2 rules fail: diff-size, scan; see the check run",
        id="two failing rules are both named when the first message cannot be said",
    ),
    pytest.param(
        [failing(rule, HUGE) for rule in LANE_RULES],
        "13 rules fail: markers, incident-id, no-chained-hotfix, approver-named, "
        "approver-authorized and 8 more; see the check run",
        id="many failing rules are named as far as they fit",
    ),
    pytest.param(
        [failing("r" * 150, HUGE), failing("s" * 150, HUGE)],
        "2 rules fail; see the check run",
        id="rule ids too long to name are counted",
    ),
    pytest.param(
        [failing("r" * 150, HUGE)],
        "1 rule fails; see the check run",
        id="a rule id too long to name is counted",
    ),
    pytest.param(
        [failing("diff-size", "y" * 129)],
        "diff-size: " + "y" * 129,
        id="a description of exactly 140 characters is kept",
    ),
]


@pytest.mark.parametrize(("verdicts", "expected"), ROWS)
def test_a_long_message_is_said_in_whole_pieces(verdicts: list[Verdict], expected: str) -> None:
    description = aggregate(Lane.HOTFIX, tuple(verdicts)).description

    assert description == expected
    first = verdicts[0]
    assert_said_in_whole_pieces(description, f"{first.rule_id}: {first.message}")


ERRORS = [
    pytest.param(
        "acme/bookstore-platform:.github/hotfix-lane.yml: rules.diff-size.max_lines: Input "
        "should be a valid integer, unable to parse string as an integer (got 'fifty')",
        "Cannot evaluate: acme/bookstore-platform:.github/hotfix-lane.yml: "
        "rules.diff-size.max_lines: Input should be a valid integer…",
        id="an invalid policy keeps its file and key",
    ),
    pytest.param(
        "GitHub API unavailable (GET /api/v3/repos/acme/bookstore-platform/contents/.github/"
        "hotfix-lane.yml answered 502: Server Error); will retry.",
        "Cannot evaluate: GitHub API unavailable…",
        id="a parenthesis with a path at the cut is dropped whole",
    ),
    pytest.param(
        HUGE,
        "Cannot evaluate the hotfix rules; see the check run",
        id="a reason with no piece that fits points at the check run",
    ),
]


@pytest.mark.parametrize(("reason", "expected"), ERRORS)
def test_a_long_error_is_said_in_whole_pieces(reason: str, expected: str) -> None:
    result = error_evaluation(Lane.HOTFIX, reason)

    assert result.description == expected
    assert result.notes == (reason,)
    assert_said_in_whole_pieces(result.description, f"Cannot evaluate: {reason}")


def test_advisory_rules_are_counted_when_their_names_do_not_fit() -> None:
    advisory = tuple(Verdict(f"advisory-rule-{n:02}", Outcome.NEUTRAL, "ok") for n in range(10))
    result = aggregate(Lane.HOTFIX, (Verdict("scan", Outcome.PASS, "ok"), *advisory))

    assert result.description == "Hotfix lane: 1 rule passes, 10 advisory."
    assert result.title.startswith("1 rule passes, 10 advisory (advisory-rule-00, ")


def test_the_status_body_says_a_long_description_in_whole_pieces() -> None:
    long = (
        "rate-limit: 4 hotfixes merged in this organisation in 7 days (limit 3); a member of\n"
        "@acme/platform-team must approve it, or comment `/hotfix team-reviewed` first."
    )
    body = build_status(evaluation(description=long), target_url=None)

    assert body["description"] == (
        "rate-limit: 4 hotfixes merged in this organisation in 7 days (limit 3); a member of "
        "@acme/platform-team must approve it…"
    )


@pytest.mark.parametrize(
    "description",
    ["", "   "],
    ids=["an empty description stays empty", "a blank one is empty"],
)
def test_the_status_body_keeps_an_empty_description_empty(description: str) -> None:
    made = Evaluation(Lane.HOTFIX, State.SUCCESS, description, "title")
    assert build_status(made, target_url=None)["description"] == ""


def test_without_a_fallback_nothing_that_fits_is_empty_never_half() -> None:
    assert fit_description(HUGE) == ""


_MULTI_WORD_TOKENS = re.compile(r"`[^`]*`|'[^']*'|/hotfix [\w-]+(?: <[^>\s]+>)?")
_FALLBACK = re.compile(
    r"^(?:\S+ fails|\S+ is pending|\d+ rules? fails?.*|Cannot evaluate the hotfix rules)"
    r"; see the check run$"
)


def assert_said_in_whole_pieces(description: str, full: str) -> None:
    """At most 140 characters, either a fallback or a start of ``full`` that ends where a
    piece ends, and every word and multi-word token in it whole."""
    assert len(description) <= MAX_DESCRIPTION
    assert description.count("`") % 2 == 0
    if _FALLBACK.match(description):
        return
    kept = description.removesuffix("…")
    assert full.startswith(kept)
    assert full[len(kept) : len(kept) + 1] in ("", " ", ",", ";", ":")
    full_words = {word.rstrip(".,;:") for word in full.split()}
    assert all(word.rstrip(".,;:") in full_words for word in kept.split())
    for token in _MULTI_WORD_TOKENS.findall(kept):
        assert token in _MULTI_WORD_TOKENS.findall(full)
