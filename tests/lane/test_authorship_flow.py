"""The approver cannot approve their own code by hiding who wrote it: as a co-author, under an
e-mail GitHub links to no account, or in a commit that only calls itself a merge of main.
Through webhooks, GitHub faked at the HTTP layer (``Repo``)."""

from __future__ import annotations

import json
from pathlib import Path

from app.lane.local import local_snapshot
from tests.lane.conftest import only
from tests.lane.scenario import COMPLIANT_MESSAGE, Lane, Repo, commit_entry, pull_request
from tests.lane.test_local import commit_all, git, write
from tests.rules.factories import HOTFIX_MESSAGE

FIX = "1" * 40
MERGE = "2" * 40
MAIN_HEAD = "9" * 40
FEATURE_TIP = "7" * 40
MUST_NOT = ": the approver must not have written the change."
WROTE = "approver-authorized: @alice wrote this change and cannot approve it"
WROTE_WHOLE = (
    f"{WROTE}: name an approver from sre-leads or eng-managers who did not write the change."
)


def co_authored(trailer: str) -> list[dict[str, object]]:
    """Bob's compliant commit, with a ``Co-authored-by:`` trailer added."""
    return [commit_entry(f"{COMPLIANT_MESSAGE}\n\nCo-authored-by: {trailer}", sha=FIX)]


def by_alice(message: str, parents: tuple[str, ...], **fields: str) -> dict[str, object]:
    """A commit GitHub links to @alice, on top of bob's fix."""
    return commit_entry(message, author="alice", sha=MERGE, parents=parents, **fields)


async def failure(lane: Lane) -> tuple[str, str]:
    """The status description (a glance, at most 140 characters) and the whole message."""
    await lane.deliver("pull_request", pull_request())
    status = only(lane.statuses)
    assert status["state"] == "failure"
    verdicts = json.loads(only(lane.evaluations).verdicts)
    failing = [v for v in verdicts if v["outcome"] == "fail"]
    assert [v["rule"] for v in failing] == ["approver-authorized"]
    return str(status["description"]), f"approver-authorized: {failing[0]['message']}"


async def test_a_co_author_by_the_approvers_no_reply_address_fails(lane: Lane, repo: Repo) -> None:
    repo.commits = co_authored("Alice <1002+alice@users.noreply.github.com>")

    said = (
        "approver-authorized: @alice co-authored a commit (Co-authored-by: Alice "
        "<1002+alice@users.noreply.github.com>)"
    )
    assert await failure(lane) == (f"{said}…", f"{said}{MUST_NOT}")


async def test_a_co_author_by_the_approvers_public_e_mail_fails(lane: Lane, repo: Repo) -> None:
    repo.emails["alice"] = "alice@example.com"
    repo.commits = co_authored("Al <Alice@Example.com>")

    said = (
        "approver-authorized: @alice co-authored a commit (Co-authored-by: Al <Alice@Example.com>)"
    )
    assert await failure(lane) == (f"{said}{MUST_NOT}",) * 2
    assert lane.requests("GET").count("GET /users/alice") == 1


async def test_a_co_author_by_the_e_mail_of_the_approvers_update_branch_merge_fails(
    lane: Lane, repo: Repo
) -> None:
    """Alice clicked "Update branch" (a real merge of main: not authorship), which shows
    GitHub links alice@home.example to her; a trailer with that e-mail is her."""
    repo.on_main.add(MAIN_HEAD)
    repo.commits = [
        *co_authored("A <alice@home.example>"),
        by_alice("Merge branch 'main' into hotfix", (FIX, MAIN_HEAD), email="alice@home.example"),
    ]

    said = (
        "approver-authorized: @alice co-authored a commit (Co-authored-by: A <alice@home.example>)"
    )
    assert await failure(lane) == (f"{said}{MUST_NOT}",) * 2


async def test_a_commit_under_the_approvers_e_mail_linked_to_no_account_fails(
    lane: Lane, repo: Repo
) -> None:
    repo.emails["alice"] = "alice@example.com"
    repo.commits = [
        commit_entry(COMPLIANT_MESSAGE, sha=FIX),
        commit_entry(COMPLIANT_MESSAGE, author=None, sha=MERGE, email="alice@example.com"),
    ]

    said = (
        "approver-authorized: @alice authored commit 2222222 as alice@example.com, an e-mail "
        "GitHub links to no account"
    )
    assert await failure(lane) == (f"{said}…", f"{said}{MUST_NOT}")


async def test_a_commit_only_titled_as_a_merge_of_main_is_the_approvers_code(
    lane: Lane, repo: Repo
) -> None:
    repo.commits = [
        commit_entry(COMPLIANT_MESSAGE, sha=FIX),
        by_alice("Merge branch 'main' into hotfix\n\nINC-2026-05-20-001", (FIX,)),
    ]

    assert await failure(lane) == (f"{WROTE}…", WROTE_WHOLE)
    assert not [r for r in lane.requests("GET") if "/compare/" in r]  # one parent: no merge


async def test_a_merge_of_another_branch_is_the_approvers_code(lane: Lane, repo: Repo) -> None:
    repo.commits = [
        commit_entry(COMPLIANT_MESSAGE, sha=FIX),
        by_alice("Merge branch 'main' into hotfix\n\nINC-2026-05-20-001", (FIX, FEATURE_TIP)),
    ]

    assert await failure(lane) == (f"{WROTE}…", WROTE_WHOLE)
    assert [r for r in lane.requests("GET") if "/compare/" in r] == [
        f"GET /repos/acme/bookstore-platform/compare/main...{FEATURE_TIP}"
    ]


async def test_the_approver_updating_the_branch_from_main_is_no_authorship(
    lane: Lane, repo: Repo
) -> None:
    repo.on_main.add(MAIN_HEAD)
    repo.commits = [
        commit_entry(COMPLIANT_MESSAGE, sha=FIX),
        by_alice("Merge branch 'main' into hotfix", (FIX, MAIN_HEAD)),
    ]

    await lane.deliver("pull_request", pull_request())

    assert only(lane.statuses)["state"] == "success"


def test_the_local_check_tells_a_merge_of_main_by_its_parents(tmp_path: Path) -> None:
    """``hotfix-lane check`` marks base merges with git the way the gateway asks GitHub."""
    git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path, "services/catalog/handler.go", 20)
    commit_all(tmp_path, "initial")
    git(tmp_path, "checkout", "-q", "-b", "hotfix/x")
    write(tmp_path, "services/catalog/handler.go", 21)
    commit_all(tmp_path, f"{HOTFIX_MESSAGE}\n\nCo-authored-by: A <a@example.com>")
    git(tmp_path, "checkout", "-q", "main")
    write(tmp_path, "services/catalog/other.go", 3)
    commit_all(tmp_path, "main moves on")
    git(tmp_path, "checkout", "-q", "hotfix/x")
    git(tmp_path, "merge", "-q", "--no-edit", "main")
    write(tmp_path, "services/catalog/handler.go", 22)
    commit_all(tmp_path, "Merge branch 'main' (one parent: not a merge)")

    commits = local_snapshot(tmp_path, "main").commits

    assert [(len(c.parents), c.base_merge) for c in commits] == [(1, False), (2, True), (1, False)]
    assert commits[0].co_authors == ("A <a@example.com>",)
    assert (commits[0].author_name, commits[0].author_email) == ("Bob", "bob@example.com")
