"""Reads behind "who wrote the change": the commits' git identities and parents, the compare
call that tells a base merge from any other merge, and the approver's profile, read once."""

from __future__ import annotations

import copy
from typing import Any

from app.github.gateway import GitHubGateway
from app.github.snapshot import complete
from app.policy.loader import default_policy
from app.rules.model import Commit
from tests.fakes.github import INSTALLATION_ID, NUMBER, REPO, FakeGitHub, load, reply, snapshot

PR_PATH = f"/repos/{REPO}/pulls/{NUMBER}"
BASE_HEAD = "9" * 40
OTHER_TIP = "7" * 40
PREVIOUS = "aaaabbbbccccddddeeeeffff0000111122223333"
TRAILER = "Alice Liddell <alice@example.com>"


def entry(sha: str, message: str, parents: tuple[str, ...] = (PREVIOUS,)) -> dict[str, Any]:
    """An item of the commits reply (``pull_commits_page1.json``) with its sha and parents."""
    item: dict[str, Any] = copy.deepcopy(load("pull_commits_page1")[0])
    item["sha"] = sha
    item["commit"]["message"] = message
    item["parents"] = [{"sha": parent, "url": "...", "html_url": "..."} for parent in parents]
    return item


def compared(status: str) -> Any:
    return load("compare") | {"status": status}


def serve_commits(fake_github: FakeGitHub, commits: list[dict[str, Any]]) -> None:
    fake_github.get(f"{PR_PATH}/commits", reply(commits))
    fake_github.get(f"{PR_PATH}/files", reply(load("pull_files")))
    fake_github.serve_checks()


def compares(fake_github: FakeGitHub) -> list[str]:
    return [request for request in fake_github.requests if "/compare/" in request]


async def test_the_commits_reply_gives_git_identities_parents_and_co_authors(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get(
        f"{PR_PATH}/commits",
        reply([entry("1" * 40, f"fix\n\nCo-authored-by: {TRAILER}"), *load("pull_commits_page2")]),
    )
    fake_github.get(f"{PR_PATH}/files", reply(load("pull_files")))
    fake_github.serve_checks()

    enriched = await gateway.enrich(INSTALLATION_ID, snapshot())

    assert enriched.commits == (
        Commit(
            sha="1" * 40,
            message=f"fix\n\nCo-authored-by: {TRAILER}",
            author_login="bob",
            committer_login="web-flow",
            author_email="bob@acme.example",
            committer_email="noreply@github.com",
            author_name="Bob",
            committer_name="GitHub",
            parents=(PREVIOUS,),
            co_authors=(TRAILER,),
        ),
        # Its e-mail maps to no account: no logins, only what git recorded.
        Commit(
            sha="1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
            message="hotfix(catalog): add a regression test\n\nINC-2026-05-20-001",
            author_email="ghost@acme.example",
            committer_email="noreply@github.com",
            author_name="Ghost",
            committer_name="GitHub",
            parents=(PREVIOUS,),
        ),
    )
    assert compares(fake_github) == []  # no commit has two parents


async def test_only_two_parent_commits_are_compared_with_the_base_branch(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    serve_commits(
        fake_github,
        [
            entry("1" * 40, "INC-2026-05-20-001 fix"),
            entry("2" * 40, "Merge branch 'main'", (("1" * 40), BASE_HEAD)),
            entry("3" * 40, "Merge branch 'main'", (("2" * 40), OTHER_TIP)),
            entry("4" * 40, "Merge branch 'main'"),
        ],
    )
    fake_github.get(f"/repos/{REPO}/compare/main...{BASE_HEAD}", reply(compared("behind")))
    fake_github.get(f"/repos/{REPO}/compare/main...{OTHER_TIP}", reply(compared("diverged")))

    enriched = await gateway.enrich(INSTALLATION_ID, snapshot())

    assert [c.base_merge for c in enriched.commits] == [False, True, False, False]
    assert compares(fake_github) == [
        f"GET /repos/{REPO}/compare/main...{BASE_HEAD}?per_page=1",
        f"GET /repos/{REPO}/compare/main...{OTHER_TIP}?per_page=1",
    ]

    # At a known head nothing is asked again; at a new head only what was not on the base.
    fake_github.serve_checks("5" * 40)
    fake_github.router.calls.clear()
    await gateway.enrich(INSTALLATION_ID, snapshot())
    await gateway.enrich(INSTALLATION_ID, snapshot(head_sha="5" * 40))
    assert compares(fake_github) == [f"GET /repos/{REPO}/compare/main...{OTHER_TIP}?per_page=1"]


async def test_a_parent_github_does_not_know_is_not_on_the_base(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    serve_commits(fake_github, [entry("2" * 40, "Merge branch 'main'", (PREVIOUS, BASE_HEAD))])
    fake_github.get(
        f"/repos/{REPO}/compare/main...{BASE_HEAD}", reply(load("not_found"), status=404)
    )

    enriched = await gateway.enrich(INSTALLATION_ID, snapshot())

    assert [c.base_merge for c in enriched.commits] == [False]


async def test_the_approvers_profile_is_read_once_and_cached(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    user = fake_github.get("/users/alice", reply(load("user")))
    fake_github.get(f"{PR_PATH}/reviews", reply([]))
    fake_github.get(
        "/orgs/acme/teams/sre-leads/memberships/alice", reply(load("team_membership_active"))
    )
    fake_github.get(
        "/orgs/acme/teams/eng-managers/memberships/alice", reply(load("not_found"), status=404)
    )

    first = await complete(gateway, INSTALLATION_ID, snapshot(), default_policy())
    again = await complete(gateway, INSTALLATION_ID, snapshot(), default_policy())

    assert user.call_count == 1
    assert (
        first.approver_emails
        == again.approver_emails
        == {
            "alice@example.com",
            "alice@users.noreply.github.com",
            "1002+alice@users.noreply.github.com",
        }
    )
    assert first.approver_name == "Alice Liddell"


async def test_an_approver_without_a_public_e_mail_has_the_no_reply_forms_only(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.get("/users/alice", reply(load("user") | {"email": None, "name": None}))
    fake_github.get(f"{PR_PATH}/reviews", reply([]))
    fake_github.router.get(path__regex=r"/orgs/acme/teams/[^/]+/memberships/alice").mock(
        return_value=reply(load("not_found"), status=404)
    )

    completed = await complete(gateway, INSTALLATION_ID, snapshot(), default_policy())

    assert completed.approver_emails == {
        "alice@users.noreply.github.com",
        "1002+alice@users.noreply.github.com",
    }
    assert completed.approver_name is None


async def test_no_profile_is_read_without_a_named_approver_or_outside_the_hotfix_lane(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    user = fake_github.get("/users/alice", reply(load("user")))
    fake_github.get(f"{PR_PATH}/reviews", reply([]))

    unnamed = await complete(gateway, INSTALLATION_ID, snapshot(body=""), default_policy())
    ordinary = snapshot(labels=(), title="Add pagination", head_ref="feature/pagination")
    await complete(gateway, INSTALLATION_ID, ordinary, default_policy())

    assert user.call_count == 0
    assert unnamed.approver_emails == frozenset()
