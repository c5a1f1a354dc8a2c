"""The web view's pure parts: what to do next, who may read what, where sign-in returns to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.web.auth import ANONYMOUS, Viewer, local_page
from app.web.queries import Evaluated, Verdict

AT = datetime(2026, 5, 20, 9, 50, tzinfo=UTC)


def evaluated(*verdicts: tuple[str, str, str]) -> Evaluated:
    return Evaluated(
        head_sha="f00d",
        state="failure",
        description="",
        evaluated_at=AT,
        verdicts=tuple(Verdict(*v) for v in verdicts),
    )


def test_next_steps_are_the_failing_rules_advice_then_the_pending() -> None:
    found = evaluated(
        ("scan", "pending", "Waiting for the scan."),
        ("markers", "pass", "Markers present."),
        ("diff-size", "fail", "Too large: split it."),
        ("single-concern", "neutral", "Touches two directories."),
    )

    assert found.next_steps == ("Too large: split it.", "Waiting for the scan.")
    assert evaluated(("markers", "pass", "ok")).next_steps == ()


def test_a_viewer_reads_only_the_repositories_github_listed() -> None:
    alice = Viewer(login="alice", readable=frozenset({"acme/api"}))

    assert alice.can_read("Acme/API")
    assert not alice.can_read("acme/web")
    assert ANONYMOUS.can_read("anything/at-all")


@pytest.mark.parametrize(
    ("asked", "returned"),
    [
        ("/ledger?org=acme", "/ledger?org=acme"),
        ("/acme/api/pull/7", "/acme/api/pull/7"),
        ("https://evil.example/", "/"),
        ("//evil.example/path", "/"),
        ("/\\\\evil.example", "/"),
        ("ledger", "/"),
        (None, "/"),
    ],
)
def test_sign_in_returns_only_to_a_page_of_this_site(asked: str | None, returned: str) -> None:
    assert local_page(asked) == returned
