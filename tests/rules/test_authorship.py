"""Who wrote the change: co-authors, commits GitHub links to no account, and real base merges.

The approver of record (@alice in the factories) must have written none of it. GitHub links a
commit's author and committer to accounts, but not a ``Co-authored-by:`` trailer's e-mail, so
those are matched against what is known of the approver: GitHub's no-reply address, the public
e-mail the gateway read (``approver_emails``) and the e-mails of the approver's own commits.
"""

from __future__ import annotations

import pytest

from app.rules import approver_authorized, facts, text
from app.rules.model import Commit, Outcome, PullRequestSnapshot
from tests.rules.factories import HOTFIX_MESSAGE, NOW, commit, hotfix_pr, policy

BASE_HEAD = "9" * 40
OTHER_BRANCH = "7" * 40
MUST_NOT = ": the approver must not have written the change."
WROTE = (
    "@alice wrote this change and cannot approve it: name an approver from sre-leads or "
    "eng-managers who did not write the change."
)


def co_authored(trailer: str, **fields: object) -> PullRequestSnapshot:
    """The runbook's hotfix commit, by @bob, with ``trailer`` added."""
    return hotfix_pr(commits=(commit(f"{HOTFIX_MESSAGE}\n\nCo-authored-by: {trailer}"),), **fields)


def after_a_trailer(**fields: str) -> PullRequestSnapshot:
    """Bob's commit naming ``A <Alice@Home.example>`` as co-author, then one with ``fields``."""
    return hotfix_pr(
        commits=(
            commit(f"{HOTFIX_MESSAGE}\n\nCo-authored-by: A <Alice@Home.example>"),
            commit("INC-2026-05-20-001 tests", sha="4f4f4f4f4f", **fields),
        )
    )


def merge(message: str, parents: tuple[str, ...], *, base_merge: bool) -> Commit:
    """A merge commit by @alice (who clicked the button) that names no incident or approver."""
    return commit(
        message, sha="3e3e3e3e3e", author_login="alice", parents=parents, base_merge=base_merge
    )


CASES = [
    pytest.param(
        co_authored("Alice <1002+alice@users.noreply.github.com>"),
        "@alice co-authored a commit (Co-authored-by: Alice "
        f"<1002+alice@users.noreply.github.com>){MUST_NOT}",
        id="a co-author by GitHub's no-reply address is an author",
    ),
    pytest.param(
        co_authored("A. <ALICE@users.noreply.github.com>"),
        f"@alice co-authored a commit (Co-authored-by: A. <ALICE@users.noreply.github.com>)"
        f"{MUST_NOT}",
        id="a co-author by the old no-reply address, in any case, is an author",
    ),
    pytest.param(
        co_authored("Al <alice@example.com>", approver_emails=frozenset({"alice@example.com"})),
        f"@alice co-authored a commit (Co-authored-by: Al <alice@example.com>){MUST_NOT}",
        id="a co-author by the approver's public e-mail is an author",
    ),
    pytest.param(
        after_a_trailer(author_login="alice", author_email="alice@home.example"),
        WROTE,
        id="a commit by the approver is said first, whatever else they co-wrote",
    ),
    pytest.param(
        after_a_trailer(committer_login="alice", committer_email="alice@home.example"),
        WROTE,
        id="a commit the approver committed counts, and so does its e-mail",
    ),
    pytest.param(
        co_authored("alice <me@elsewhere.example>"),
        f"@alice co-authored a commit (Co-authored-by: alice <me@elsewhere.example>){MUST_NOT}",
        id="a co-author named by the approver's login is an author",
    ),
    pytest.param(
        co_authored("Alice Liddell <a@elsewhere.example>", approver_name="Alice Liddell"),
        "@alice co-authored a commit (Co-authored-by: Alice Liddell <a@elsewhere.example>)"
        f"{MUST_NOT}",
        id="a co-author by the approver's profile name is an author",
    ),
    pytest.param(
        hotfix_pr(
            commits=(commit(author_login=None, author_name="A", author_email="Alice@Example.com"),),
            approver_emails=frozenset({"alice@example.com"}),
        ),
        "@alice authored commit a1b2c3d as Alice@Example.com, an e-mail GitHub links to no "
        f"account{MUST_NOT}",
        id="a commit under the approver's e-mail that GitHub links to no account is theirs",
    ),
]


@pytest.mark.parametrize(("snapshot", "message"), CASES)
def test_the_approver_among_the_authors_fails(snapshot: PullRequestSnapshot, message: str) -> None:
    verdict = approver_authorized.check(snapshot, policy(), NOW)
    assert (verdict.outcome, verdict.message) == (Outcome.FAIL, message)


def test_a_trailer_with_the_e_mail_of_the_approvers_other_commit_is_theirs() -> None:
    """@alice clicked "Update branch" (a base merge: not authorship), so GitHub linked her
    e-mail to her account on that commit; a trailer with that e-mail is @alice."""
    update = merge("Merge branch 'main'", ("a1b2c3d4e5", BASE_HEAD), base_merge=True)
    snapshot = hotfix_pr(
        commits=(
            commit(f"{HOTFIX_MESSAGE}\n\nCo-authored-by: A <Alice@Home.example>"),
            Commit(**{**update.__dict__, "author_email": "alice@home.example"}),
        )
    )

    verdict = approver_authorized.check(snapshot, policy(), NOW)

    assert "alice@home.example" in facts.known_emails(snapshot, "Alice")
    assert (verdict.outcome, verdict.message) == (
        Outcome.FAIL,
        f"@alice co-authored a commit (Co-authored-by: A <Alice@Home.example>){MUST_NOT}",
    )


PASSING = [
    pytest.param(
        co_authored("Carol <carol@example.com>", approver_emails=frozenset({"alice@example.com"})),
        id="another co-author is no problem",
    ),
    pytest.param(
        co_authored("Carol <1003+carol@users.noreply.github.com>"),
        id="another user's no-reply address is no problem",
    ),
    pytest.param(
        hotfix_pr(
            commits=(
                commit(author_login=None, author_name="Bob", author_email="bob@laptop.local"),
            ),
            approver_emails=frozenset({"alice@example.com"}),
        ),
        id="a commit under someone else's unlinked e-mail is no problem",
    ),
    pytest.param(
        hotfix_pr(
            commits=(
                commit(),
                merge(
                    "Merge branch 'main' into hotfix/x", ("a1b2c3d4e5", BASE_HEAD), base_merge=True
                ),
            ),
        ),
        id="a real base merge (two parents, the second on the base) is skipped",
    ),
]


@pytest.mark.parametrize("snapshot", PASSING)
def test_the_approver_not_among_the_authors_passes(snapshot: PullRequestSnapshot) -> None:
    verdict = approver_authorized.check(snapshot, policy(), NOW)
    assert (verdict.outcome, verdict.message) == (Outcome.PASS, "@alice may approve hotfixes.")


NOT_SKIPPED = [
    pytest.param(
        merge("Merge branch 'main' into hotfix/x", ("a1b2c3d4e5",), base_merge=False),
        id="a commit titled \"Merge branch 'main'\" with one parent is not skipped",
    ),
    pytest.param(
        merge(
            "Merge branch 'feature' into hotfix/x", ("a1b2c3d4e5", OTHER_BRANCH), base_merge=False
        ),
        id="a two-parent merge of another branch is not skipped",
    ),
]


@pytest.mark.parametrize("merge_commit", NOT_SKIPPED)
def test_a_merge_that_is_not_of_the_base_branch_is_written_by_its_author(
    merge_commit: Commit,
) -> None:
    snapshot = hotfix_pr(commits=(commit(), merge_commit))
    assert facts.authored_commits(snapshot) == snapshot.commits
    verdict = approver_authorized.check(snapshot, policy(), NOW)
    assert (verdict.outcome, verdict.message) == (Outcome.FAIL, WROTE)


TRAILERS = [
    pytest.param("Fix\n\nCo-authored-by: A <a@x.example>", ("A <a@x.example>",), id="one"),
    pytest.param(
        "Fix\n\nco-authored-by:B <b@x.example>\n  CO-AUTHORED-BY :  C <c@x.example>  ",
        ("B <b@x.example>", "C <c@x.example>"),
        id="any case and spacing",
    ),
    pytest.param("Co-authored-by: D <d@x.example>\n\nFix", ("D <d@x.example>",), id="anywhere"),
    pytest.param("Fix\n\nCo-authored-by:\nReviewed-by: E", (), id="empty values and others"),
]


@pytest.mark.parametrize(("message", "values"), TRAILERS)
def test_co_author_trailers(message: str, values: tuple[str, ...]) -> None:
    assert text.co_author_trailers(message) == values


@pytest.mark.parametrize(
    ("value", "identity"),
    [
        ("Alice <Alice@Example.com>", ("Alice", "alice@example.com")),
        ("  Alice Liddell  < a@x.example > ", ("Alice Liddell", "a@x.example")),
        ("alice", ("alice", None)),
    ],
)
def test_identity(value: str, identity: tuple[str, str | None]) -> None:
    assert text.identity(value) == identity


@pytest.mark.parametrize(
    ("email", "login"),
    [
        ("1002+Alice@users.noreply.github.com", "alice"),
        ("alice@users.noreply.github.com", "alice"),
        ("alice@users.noreply.github.com.evil.example", None),
        ("alice@example.com", None),
        (None, None),
    ],
)
def test_noreply_login(email: str | None, login: str | None) -> None:
    assert text.noreply_login(email) == login
