"""Reading audit-log events and deciding their notices: pure functions, no HTTP, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.auditlog.decisions import audit_log_url, is_bypass_team, notice_for, weakening
from app.auditlog.events import MalformedEvent, content_reference, parse_entry
from app.notify.notices import NoticeKind

AT = datetime(2026, 5, 20, 9, 30, 5, 250000, tzinfo=UTC)
MS = 1779269405250  # AT in epoch milliseconds


def raw(action: str = "repo.create", /, **fields: Any) -> dict[str, Any]:
    """An event of ``action`` at ``AT``; ``fields`` (``@timestamp`` among them) replace or add."""
    return {"action": action, "@timestamp": MS, **fields}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(raw(), AT, id="@timestamp in epoch milliseconds"),
        pytest.param(
            {"action": "x", "created_at": MS}, AT, id="created_at when @timestamp is absent"
        ),
        pytest.param(raw(**{"@timestamp": str(MS)}), AT, id="milliseconds as a string"),
        pytest.param(raw(**{"@timestamp": float(MS)}), AT, id="milliseconds as a float"),
        pytest.param(raw(**{"@timestamp": "2026-05-20T09:30:05.250Z"}), AT, id="ISO 8601 with Z"),
        pytest.param(
            raw(**{"@timestamp": "2026-05-20 11:30:05.25+02:00"}), AT, id="ISO 8601 with an offset"
        ),
        pytest.param(
            raw(**{"@timestamp": "2026-05-20 09:30:05.250"}),
            AT,
            id="a forwarder's time without zone is UTC",
        ),
        pytest.param(
            raw(**{"@timestamp": None, "created_at": MS}),
            AT,
            id="a null @timestamp falls back to created_at",
        ),
    ],
)
def test_the_event_time_is_read_in_every_form_senders_use(
    event: dict[str, Any], expected: datetime
) -> None:
    assert parse_entry(event).created_at == expected


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        pytest.param(
            raw(**{"@timestamp": True}), '"@timestamp" is a boolean, not a time', id="a boolean"
        ),
        pytest.param(
            raw(**{"@timestamp": [MS]}), '"@timestamp" is a JSON array, not a time', id="an array"
        ),
        pytest.param(
            raw(**{"@timestamp": 0}), '"@timestamp" is not a plausible time (1970-01-01)', id="zero"
        ),
        pytest.param(
            raw(**{"@timestamp": -MS}),
            '"@timestamp" is not a plausible time',
            id="before GitHub existed",
        ),
        pytest.param(
            raw(**{"@timestamp": "NaN"}), '"@timestamp" is not a finite number', id="not a number"
        ),
        pytest.param(
            raw(**{"@timestamp": 1e300}), '"@timestamp" is out of range', id="out of range"
        ),
        pytest.param(raw(actor=7), '"actor" is a JSON number, not a string', id="a numeric actor"),
        pytest.param(
            raw("a" * 129),
            '"action" is longer than 128 characters',
            id="an action too long to store",
        ),
    ],
)
def test_unusable_events_are_refused_with_the_problem_named(
    event: dict[str, Any], problem: str
) -> None:
    with pytest.raises(MalformedEvent) as refused:
        parse_entry(event)
    assert str(refused.value).startswith(problem)


def test_an_event_keeps_every_field_and_its_reference() -> None:
    entry = parse_entry(raw(_document_id=" doc-1 ", repo="acme/api", extra={"nested": [1, 2]}))

    assert (entry.document_id, entry.reference, entry.repo) == ("doc-1", "doc-1", "acme/api")
    assert entry.fields["extra"] == {"nested": [1, 2]}
    anonymous = parse_entry(raw(repo="acme/api"))
    assert anonymous.reference == content_reference(anonymous.body)
    assert anonymous.reference.startswith("sha256:")


@pytest.mark.parametrize(
    ("action", "fields", "changes"),
    [
        pytest.param(
            "protected_branch.update_pull_request_reviews_enforcement_level",
            {"pull_request_reviews_enforcement_level": 1},
            None,
            id="reviews for non-admins only is reported by admin_enforced instead",
        ),
        pytest.param(
            "protected_branch.update_pull_request_reviews_enforcement_level",
            {"pull_request_reviews_enforcement_level": "0"},
            ["required reviews off"],
            id="a level given as a numeric string",
        ),
        pytest.param(
            "protected_branch.update_admin_enforced",
            {"admin_enforced": "false"},
            ["no longer enforced for administrators"],
            id="a flag given as a string",
        ),
        pytest.param(
            "protected_branch.update_allow_deletions_enforcement_level",
            {"allow_deletions_enforcement_level": "off"},
            None,
            id="deletions blocked is a tightening",
        ),
        pytest.param(
            "protected_branch.update_allow_deletions_enforcement_level",
            {"allow_deletions_enforcement_level": "everyone"},
            ["branch deletion allowed"],
            id="deletions allowed",
        ),
        pytest.param(
            "protected_branch.dismiss_stale_reviews",
            {"dismiss_stale_reviews_on_push": 0},
            ["stale approvals no longer dismissed on push"],
            id="stale reviews kept",
        ),
        pytest.param(
            "protected_branch.update_require_code_owner_review",
            {"require_code_owner_review": False},
            ["code owner review no longer required"],
            id="code owners dropped",
        ),
        pytest.param(
            "protected_branch.update_signature_requirement_enforcement_level",
            {"signature_requirement_enforcement_level": "non_admins"},
            None,
            id="signatures still required",
        ),
        pytest.param(
            "repository_ruleset.update",
            {"ruleset_enforcement": "evaluate", "ruleset_rules_deleted": ["x"]},
            ["ruleset in evaluate mode", "rules removed"],
            id="a ruleset in evaluate mode with an unnamed rule removed",
        ),
        pytest.param(
            "repository_ruleset.update",
            {"ruleset_rules_added": [{"type": "x"}]},
            None,
            id="a rule added",
        ),
        pytest.param("repo.create", {}, None, id="not a protection change"),
    ],
)
def test_weakening(action: str, fields: dict[str, Any], changes: list[str] | None) -> None:
    assert weakening(parse_entry(raw(action, **fields))) == changes


@pytest.mark.parametrize(
    ("team", "policy_team", "expected"),
    [
        ("acme/platform-admins", "platform-admins", True),
        ("acme/Platform-Admins", "@acme/platform-admins", True),
        ("acme/platform-admins-readonly", "platform-admins", False),
        (None, "platform-admins", False),
    ],
)
def test_the_bypass_team_is_matched_by_slug(
    team: str | None, policy_team: str, expected: bool
) -> None:
    assert is_bypass_team(team, policy_team) is expected


def test_a_member_added_without_an_org_field_takes_the_team_s_org() -> None:
    entry = parse_entry(raw("team.add_member", team="acme/platform-admins", user="eve"))

    notice = notice_for(entry, bypass_team="platform-admins", link=None)

    assert notice is not None
    assert notice.kind is NoticeKind.BYPASS_TEAM_MEMBER_ADDED
    assert ("Organisation", "acme") in notice.fields
    assert notice.text == "Audit log: @unknown added @eve to @acme/platform-admins, the bypass team"


_REASON = {"code": "required_status_checks", "message": 'Required status check "e2e" is expected.'}


@pytest.mark.parametrize(
    ("fields", "overridden", "reasons"),
    [
        pytest.param(
            {"reasons": [_REASON], "overridden_codes": ["required_status_checks", "merge_queue"]},
            "required_status_checks, merge_queue",
            'Required status check "e2e" is expected.',
            id="the overridden codes, and the reasons' messages",
        ),
        pytest.param(
            {"reasons": [_REASON, _REASON]},
            "required_status_checks",
            'Required status check "e2e" is expected.',
            id="without overridden codes, the reasons' codes, each once",
        ),
        pytest.param(
            {"reasons": "broken", "overridden_codes": [3, " ", "review_policy_not_satisfied"]},
            "review_policy_not_satisfied",
            None,
            id="odd shapes from a forwarder are read leniently",
        ),
        pytest.param({}, "not given", None, id="neither said"),
    ],
)
def test_a_policy_override_is_posted_with_what_it_overrode(
    fields: dict[str, Any], overridden: str, reasons: str | None
) -> None:
    entry = parse_entry(
        raw(
            "protected_branch.policy_override",
            _document_id="doc-1",
            repo="acme/api",
            branch="refs/heads/main",
            actor="alice",
            **fields,
        )
    )

    notice = notice_for(entry, bypass_team="platform-admins", link=None)

    assert notice is not None
    assert (notice.kind, notice.subject, notice.idempotency_key) == (
        NoticeKind.POLICY_OVERRIDE,
        "audit:doc-1",
        "audit-log:doc-1",
    )
    assert notice.text == (
        f"Audit log: @alice overrode branch protection on acme/api main ({overridden})"
    )
    assert dict(notice.fields).get("Reasons") == reasons


@pytest.mark.parametrize(
    ("api_url", "org", "expected"),
    [
        (
            "https://api.github.com",
            "acme",
            "https://github.com/organizations/acme/settings/audit-log",
        ),
        (
            "https://github.acme.example/api/v3",
            "acme",
            "https://github.acme.example/organizations/acme/settings/audit-log",
        ),
        (
            "https://api.octocorp.ghe.com",
            "acme",
            "https://octocorp.ghe.com/organizations/acme/settings/audit-log",
        ),
        ("https://api.github.com", None, None),
    ],
)
def test_audit_log_url(api_url: str, org: str | None, expected: str | None) -> None:
    assert audit_log_url(api_url, org) == expected
