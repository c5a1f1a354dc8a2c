"""Text a hotfix's author writes, read by policy patterns and named logins: bounded work.

A policy pattern runs on RE2 (linear time whatever the pattern) and still finds incident ids
as whole tokens; a PR naming thousands of logins leads to a handful of membership pairs, the
approver of record first; and an approver whose lookup was cut off is not authorized.
"""

from __future__ import annotations

import time

import pytest

from app.rules import approver_authorized, facts, text
from app.rules.evaluate import evaluate, wanted_memberships
from app.rules.model import LaneHistory, Outcome, Review, State
from tests.rules.factories import INCIDENT, NOW, assert_verdict, commit, hotfix_pr, policy

# Python's re needs 2^n steps to fail this on n "a"s followed by anything else.
PATHOLOGICAL = "(a+)+$"
LONG = "a" * 10_000 + "!"


def test_a_pathological_pattern_on_10000_characters_evaluates_in_under_50_ms() -> None:
    repo_policy = policy(f"incident:\n  pattern: '{PATHOLOGICAL}'\n")
    snapshot = hotfix_pr(
        title=f"HOTFIX: {LONG}",
        body=LONG,
        head_ref=f"hotfix/{LONG}",
        commits=(commit(f"fix\n\n{LONG}\napprover: @alice\ncleanup: @bob"),),
    )

    started = time.perf_counter()
    result = evaluate(snapshot, repo_policy, NOW)
    elapsed = time.perf_counter() - started

    assert elapsed < 0.050, f"{elapsed * 1000:.1f} ms"
    assert result.state is State.FAILURE  # no incident id: "a…a!" is no match of (a+)+$


TOKENS = [
    pytest.param(f"HOTFIX: {INCIDENT} x", None, [INCIDENT], id="an id between spaces"),
    pytest.param(f"{INCIDENT}2", None, [], id="an id running into a digit is none"),
    pytest.param(f"x{INCIDENT}", None, [], id="an id running on from a letter is none"),
    pytest.param(
        "INC-2026-05-20-001-INC-2026-05-21-002",
        None,
        ["INC-2026-05-20-001", "INC-2026-05-21-002"],
        id="a hyphen is an edge: two ids joined by one are both found",
    ),
    pytest.param(
        "INC-2026-05-20-001,INC-2026-05-21-002",
        None,
        ["INC-2026-05-20-001", "INC-2026-05-21-002"],
        id="two ids one comma apart are both found",
    ),
    pytest.param(
        f"({INCIDENT}) é{INCIDENT}é", None, [INCIDENT], id="any non-ASCII-alnum is an edge"
    ),
    pytest.param(
        "INC-1234", r"INC-\d{3}|INC-\d{4}", ["INC-1234"], id="a later alternative is tried"
    ),
    pytest.param(
        "[INC-1][INC-2]",
        r"\[INC-\d\]",
        ["[INC-1]", "[INC-2]"],
        id="a token ending in punctuation may be followed by the next",
    ),
    pytest.param("INC-7 inc-8", r"(?i)inc-\d", ["INC-7", "inc-8"], id="RE2's flags work"),
    pytest.param(
        "INC-1 \ud800INC-2", r"INC-\d", ["INC-1", "INC-2"], id="a lone surrogate is an edge"
    ),
]


@pytest.mark.parametrize(("words", "pattern", "expected"), TOKENS)
def test_incident_ids_are_whole_tokens(
    words: str, pattern: str | None, expected: list[str]
) -> None:
    assert text.incident_ids(words, pattern or policy().incident.pattern) == expected


FIVE_THOUSAND = "".join(f"Approver: @u{n}\n" for n in range(1, 5001))


def test_only_the_first_few_distinct_names_of_a_body_are_read() -> None:
    named = facts.approvers(hotfix_pr(body="Approver: @U1\n" + FIVE_THOUSAND), policy())
    assert named.in_body == ("u1", "u2", "u3", "u4", "u5")
    assert named.first == "alice"  # the commit's, as before


def test_only_the_first_few_distinct_names_of_the_commits_are_read() -> None:
    commits = tuple(commit(f"fix\n\napprover: @c{n}", sha=f"{n:040x}") for n in range(1, 40))
    named = facts.approvers(hotfix_pr(commits=commits), policy())
    assert named.in_commits == ("c1", "c2", "c3", "c4", "c5")


def test_five_thousand_named_approvers_want_a_dozen_memberships_the_approver_first() -> None:
    pairs = list(wanted_memberships(hotfix_pr(body=FIVE_THOUSAND), policy()))
    assert pairs == [
        (team, login)
        for login in ("alice", "u1", "u2", "u3", "u4", "u5")
        for team in ("sre-leads", "eng-managers")
    ]


def test_past_the_rate_limit_sign_offs_come_after_the_approver_once_each_never_the_author() -> None:
    snapshot = hotfix_pr(
        body="",
        history=LaneHistory(merged_in_window=3, author_this_quarter=0, quarter="2026-Q2"),
        reviews=(
            Review("Eve", "APPROVED"),
            Review("bob", "APPROVED"),  # the author
            Review("eve", "APPROVED"),
            Review("mallory", "COMMENTED"),
            Review("dave", "APPROVED"),
        ),
        team_review_comments=("carol",),
    )
    assert list(wanted_memberships(snapshot, policy())) == [
        ("sre-leads", "alice"),
        ("eng-managers", "alice"),
        ("platform-team", "carol"),
        ("platform-team", "eve"),
        ("platform-team", "dave"),
    ]


CAPPED = [
    pytest.param(
        facts.Memberships({"sre-leads": []}, unchecked=[("eng-managers", "alice")], cap=1),
        Outcome.FAIL,
        "@alice is not confirmed as a member: membership lookups were capped at 1 for this "
        "evaluation, before eng-managers: name an approver from sre-leads or eng-managers",
        id="an approver not looked up is not authorized, and the message says why",
    ),
    pytest.param(
        facts.Memberships({"sre-leads": ["alice"]}, unchecked=[("eng-managers", "alice")], cap=1),
        Outcome.PASS,
        "@alice may approve hotfixes.",
        id="an approver confirmed before the cap passes",
    ),
    pytest.param(
        facts.Memberships({"sre-leads": [], "eng-managers": []}, unchecked=[("sre-leads", "u1")]),
        Outcome.FAIL,
        "@alice is not an active member of sre-leads or eng-managers",
        id="someone else past the cap changes nothing",
    ),
]


@pytest.mark.parametrize(("teams", "outcome", "message"), CAPPED)
def test_approver_authorized_after_capped_lookups(
    teams: facts.Memberships, outcome: Outcome, message: str
) -> None:
    verdict = approver_authorized.check(hotfix_pr(teams=teams), policy(), NOW)
    assert_verdict(verdict, outcome, message)
