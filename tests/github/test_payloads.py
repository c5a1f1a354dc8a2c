"""Lenient webhook models: real deliveries read, extra fields ignored, nulls tolerated."""

from __future__ import annotations

import pytest

from app.github.payloads import (
    CheckRunEvent,
    CheckSuiteEvent,
    InstallationEvent,
    IssueCommentEvent,
    PullRequest,
    PullRequestEvent,
    PullRequestReviewEvent,
    PushEvent,
    StatusEvent,
    WebhookEvent,
    parse_event,
    snapshot_from_payload,
)
from tests.conftest import load_fixture
from tests.fakes.github import INSTALLATION_ID, NUMBER, REPO, SHA, load


@pytest.mark.parametrize(
    ("event", "fixture", "model"),
    [
        ("pull_request", "pull_request.opened", PullRequestEvent),
        ("pull_request", "pull_request.synchronize", PullRequestEvent),
        ("pull_request", "pull_request.closed", PullRequestEvent),
        ("pull_request", "pull_request.labeled", PullRequestEvent),
        ("pull_request_review", "pull_request_review.submitted", PullRequestReviewEvent),
        ("pull_request_review", "pull_request_review.dismissed", PullRequestReviewEvent),
        ("check_run", "check_run.completed", CheckRunEvent),
        ("check_suite", "check_suite.completed", CheckSuiteEvent),
        ("status", "status", StatusEvent),
        ("issue_comment", "issue_comment.created", IssueCommentEvent),
        ("push", "push", PushEvent),
        ("installation", "installation.created", InstallationEvent),
        ("ping", "ping", WebhookEvent),
    ],
)
def test_every_delivery_we_handle_reads(event: str, fixture: str, model: type) -> None:
    parsed = parse_event(event, load_fixture(fixture))
    assert isinstance(parsed, model)


def test_the_fields_we_read_come_through() -> None:
    status = parse_event("status", load_fixture("status"))
    assert isinstance(status, StatusEvent)
    assert (status.sha, status.context, status.state) == (SHA, "ci/scan", "success")
    assert status.installation_id == INSTALLATION_ID
    assert status.sender is not None and status.sender.type == "Bot"

    comment = parse_event("issue_comment", load_fixture("issue_comment.created"))
    assert isinstance(comment, IssueCommentEvent)
    assert comment.issue.is_pull_request
    assert comment.comment.body == "/hotfix team-reviewed"

    review = parse_event("pull_request_review", load_fixture("pull_request_review.submitted"))
    assert isinstance(review, PullRequestReviewEvent)
    assert (review.review.state, review.review.user and review.review.user.login) == (
        "approved",
        "alice",
    )
    # A review's pull request is the short form: no diff stats to trust.
    assert not review.pull_request.has_diff_stats


def test_a_missing_required_field_reads_as_none() -> None:
    payload = load_fixture("pull_request.opened")
    del payload["pull_request"]["head"]
    assert parse_event("pull_request", payload) is None


def test_nulls_where_github_promises_values_are_tolerated() -> None:
    data = load("pull_request") | {
        "merged": None,
        "draft": None,
        "body": None,
        "user": None,
        "additions": None,
        "labels": [],
        "an_unknown_field": {"added": "by GitHub next year"},
    }
    pr = PullRequest.model_validate(data)
    snapshot = snapshot_from_payload(REPO, pr)
    assert (snapshot.merged, snapshot.draft, snapshot.body, snapshot.author_login) == (
        False,
        False,
        "",
        "",
    )
    assert snapshot.additions == 0


def test_snapshot_from_payload_copies_the_pull_request() -> None:
    event = parse_event("pull_request", load_fixture("pull_request.opened"))
    assert isinstance(event, PullRequestEvent)
    snapshot = snapshot_from_payload(REPO, event.pull_request)

    assert snapshot.repo_full_name == REPO
    assert snapshot.number == NUMBER
    assert snapshot.head_sha == SHA
    assert snapshot.head_ref == "hotfix/INC-2026-05-20-001-catalog-nil-deref"
    assert snapshot.base_ref == "main"
    assert snapshot.labels == ("hotfix",)
    assert snapshot.author_login == "bob"
    assert "Approver: @alice" in snapshot.body
    assert (snapshot.additions, snapshot.deletions, snapshot.changed_files) == (3, 1, 1)
    assert snapshot.commits == () and snapshot.files == () and snapshot.checks == ()


def test_merge_fields_are_read() -> None:
    event = parse_event("pull_request", load_fixture("pull_request.closed"))
    assert isinstance(event, PullRequestEvent)
    pr = event.pull_request
    assert pr.merged and pr.merged_by is not None
    assert pr.merged_at is not None and pr.merge_commit_sha
