"""GitHub lists at most 250 commits of a pull request, and does not say when it stops.

``GET /repos/{o}/{r}/pulls/{n}/commits`` serves pages of 100 until the 250th commit, then no
next page, whatever the pull request holds. A snapshot built from that list is incomplete, so
it is marked truncated and ``diff-size`` fails it closed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.github.gateway import GitHubGateway
from app.policy.loader import default_policy
from app.rules import diff_size
from app.rules.model import Outcome
from tests.fakes.github import INSTALLATION_ID, NUMBER, REPO, FakeGitHub, load, reply, snapshot

PR_PATH = f"/repos/{REPO}/pulls/{NUMBER}"
# GitHub's documented limit ("lists a maximum of 250 commits"), not the gateway's constant.
GITHUB_LIMIT = 250
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)


def serve_commits(fake_github: FakeGitHub, count: int) -> None:
    """``count`` commits in pages of 100, as GitHub pages them (page 1 without ``page=``)."""
    entry = load("pull_commits_page1")[0]
    commits = [entry | {"sha": f"{n:040x}"} for n in range(count)]
    pages = [commits[start : start + 100] for start in range(0, count, 100)] or [[]]
    # Later pages first: the page-1 route matches any query, so it must be tried last.
    for number in range(len(pages), 0, -1):
        more = number < len(pages)
        fake_github.get(
            f"{PR_PATH}/commits",
            reply(
                pages[number - 1],
                next_page=f"{PR_PATH}/commits?per_page=100&page={number + 1}" if more else None,
            ),
            **({"page": str(number)} if number > 1 else {}),
        )


def serve_the_rest(fake_github: FakeGitHub) -> None:
    fake_github.get(f"{PR_PATH}/files", reply(load("pull_files")))
    fake_github.serve_checks()


async def test_250_commits_mark_the_snapshot_truncated(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    serve_commits(fake_github, GITHUB_LIMIT)
    serve_the_rest(fake_github)

    enriched = await gateway.enrich(INSTALLATION_ID, snapshot())

    assert len(enriched.commits) == 250
    assert f"GET {PR_PATH}/commits?per_page=100&page=3" in fake_github.requests
    # Both files are listed: only the commit list is cut short.
    assert len(enriched.files) == 2
    assert enriched.files_truncated
    verdict = diff_size.check(enriched, default_policy(), NOW)
    assert verdict.outcome is Outcome.FAIL


async def test_with_diff_marks_the_merge_record_truncated_too(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    serve_commits(fake_github, GITHUB_LIMIT)
    fake_github.get(f"{PR_PATH}/files", reply(load("pull_files")))

    merged = await gateway.with_diff(INSTALLATION_ID, snapshot())

    assert merged.files_truncated


@pytest.mark.parametrize("count", [1, 100, GITHUB_LIMIT - 1])
async def test_fewer_commits_are_the_whole_list(
    gateway: GitHubGateway, fake_github: FakeGitHub, count: int
) -> None:
    serve_commits(fake_github, count)
    serve_the_rest(fake_github)

    enriched = await gateway.enrich(INSTALLATION_ID, snapshot())

    assert len(enriched.commits) == count
    assert not enriched.files_truncated
    assert diff_size.check(enriched, default_policy(), NOW).outcome is Outcome.PASS
