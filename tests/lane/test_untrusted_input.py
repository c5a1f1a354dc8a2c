"""What a hotfix's author or a repository's policy file writes cannot stall or flood the lane.

Two attacks, each through webhooks. A policy pattern with nested quantifiers: under Python's
backtracking ``re``, ``INC-\\d{4}-\\d{2}-\\d{2}-(\\d+)+`` took four times longer for every two
more digits of a title that almost matched, holding the GIL (webhook intake stalled too). And
a PR body naming thousands of approvers: one membership lookup per login and approver team,
8,740 requests for one evaluation of a 64 KiB body.
"""

from __future__ import annotations

from tests.lane.conftest import only
from tests.lane.scenario import Lane, Repo, commit_entry, pull_request

# A pattern that matches the runbook's ids, and backtracks exponentially where one almost
# matches: (\d+)+ can split a run of digits in 2^(n-1) ways, each tried before failing.
NESTED = r"INC-\d{4}-\d{2}-\d{2}-(\d+)+"


def almost(digits: int) -> str:
    """Almost an incident id: the digits run into a letter, so it is no whole token."""
    return f"INC-2026-05-20-{'1' * digits}x"


MESSAGE = (
    "hotfix(catalog): nil-deref on missing tenant header\n\n"
    f"INC-2026-05-20-001\n{almost(10_000)}\napprover: @alice\ncleanup: @bob opens the cleanup."
)


def membership_requests(lane: Lane) -> list[str]:
    return [request for request in lane.requests("GET") if "/memberships/" in request]


async def test_a_pattern_with_nested_quantifiers_runs_in_linear_time_on_a_long_title(
    lane: Lane, repo: Repo
) -> None:
    repo.repo_policy = f"incident:\n  pattern: '{NESTED}'\n"
    repo.commits = [commit_entry(MESSAGE)]
    # GitHub keeps titles to 256 characters: 180 digits, where 24 took re almost a second.
    title = f"HOTFIX: INC-2026-05-20-001 catalog nil-deref, not {almost(180)}"

    await lane.deliver("pull_request", pull_request(title=title))

    # The pattern still finds the incident id, and only the whole one.
    assert only(lane.statuses) == {
        "state": "success",
        "description": "Hotfix lane: all 13 rules pass.",
        "context": "hotfix-lane/policy",
    }


async def test_an_organisation_pattern_re2_cannot_run_is_an_error_naming_file_and_key(
    lane: Lane, repo: Repo
) -> None:
    repo.org_policy = "incident:\n  pattern: '(INC)-\\d+-\\1'\n"  # a backreference

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses) == {
        "state": "error",
        "description": "Cannot evaluate: acme/.github:.github/hotfix-lane.yml: incident.pattern: "
        "not a valid regular expression: invalid escape sequence: \\1…",
        "context": "hotfix-lane/policy",
    }
    assert only(lane.sent("POST", "/check-runs"))["conclusion"] == "failure"


async def test_a_body_naming_five_thousand_approvers_costs_a_few_lookups_and_fails(
    lane: Lane, repo: Repo
) -> None:
    # 82 KB: more than GitHub lets a body hold (65,536 characters), so every body fits.
    body = "".join(f"Approver: @u{n}\n" for n in range(1, 5001))

    await lane.deliver("pull_request", pull_request(body=body))

    assert only(lane.statuses) == {
        "state": "failure",
        "description": "approver-named: The PR body names @u1, @u2, @u3, @u4, @u5 as approver but "
        "the commit names @alice…",
        "context": "hotfix-lane/policy",
    }
    # The approver of record first, then the first five named in the body; each once.
    looked_up = membership_requests(lane)
    assert len(looked_up) <= lane.services.settings.max_membership_lookups
    assert sorted(looked_up) == sorted(
        f"GET /orgs/acme/teams/{team}/memberships/{login}"
        for login in ("alice", "u1", "u2", "u3", "u4", "u5")
        for team in ("sre-leads", "eng-managers")
    )


async def test_an_approver_past_the_lookup_cap_is_not_authorized_and_the_check_run_says_why(
    lane: Lane, repo: Repo
) -> None:
    # alice is in sre-leads, the 21st approver team: past the 20 lookups of an evaluation.
    teams = ", ".join([*(f"team-{n}" for n in range(1, 21)), "sre-leads"])
    # teams is locked: only the organisation's file may set it.
    repo.org_policy = f"teams:\n  approvers: [{teams}]\n"

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["description"] == (
        "approver-authorized: @alice is not confirmed as a member: membership lookups were "
        "capped at 20 for this evaluation, before sre-leads…"
    )
    assert len(membership_requests(lane)) == 20
    row = next(
        line
        for line in lane.check_runs[-1]["output"]["summary"].splitlines()
        if line.startswith("| `approver-authorized`")
    )
    assert "before sre-leads: name an approver from team-1, team-2," in row
