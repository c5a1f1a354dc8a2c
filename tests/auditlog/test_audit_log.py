"""POST /api/audit-log end to end: auth, body formats, dedup, bad input, notices, correlation.

Each test runs the real app (on SQLite, and on PostgreSQL when configured) and reads what it
stored: audit events, the notice outbox, the ledger and the job table. Time never passes for
real: the app's and the worker's clock is moved by the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from app.auditlog.correlate import CORRELATE_JOB, settle_override
from app.notify.notices import NoticeKind
from app.notify.outbox import NOTICE_JOB
from app.policy.loader import default_policy
from app.settings import Settings
from app.store.models import NoticeRow
from tests.auditlog.audit_lane import (
    CONFIRMED,
    POSTED,
    TOKEN,
    VIOLATION,
    AuditLane,
    event,
    override,
    running,
)
from tests.fakes.github import REPO
from tests.rows import hotfix_record

ARRIVAL_KEY = "audit-log:pCtl2n0J8njxnR8oUOEpuw"
OUTCOME_KEY = "audit-outcome:pCtl2n0J8njxnR8oUOEpuw"
WINDOW = timedelta(minutes=15)  # policies/default.yml: audit.override_match_minutes


def texts(lane: AuditLane) -> list[str]:
    return [row.text for row in lane.notices]


# --- auth -------------------------------------------------------------------------------------


async def test_the_right_bearer_token_is_accepted(lane: AuditLane) -> None:
    response = await lane.post(event("repo.create", lane.clock.now(), "doc-1", repo=REPO))

    assert response.status_code == 202
    assert response.json() == {"stored": 1, "duplicates": 0}


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        pytest.param({}, 'Bearer realm="hotfix-lane audit log"', id="no Authorization header"),
        pytest.param(
            {"Authorization": f"Basic {TOKEN}"},
            'Bearer realm="hotfix-lane audit log"',
            id="a scheme other than Bearer",
        ),
        pytest.param(
            {"Authorization": "Bearer"},
            'Bearer realm="hotfix-lane audit log"',
            id="Bearer without a token",
        ),
        pytest.param(
            {"Authorization": "Bearer not-the-token"},
            'Bearer realm="hotfix-lane audit log", error="invalid_token"',
            id="a wrong token",
        ),
        pytest.param(
            {"Authorization": f"Bearer {TOKEN}x"},
            'Bearer realm="hotfix-lane audit log", error="invalid_token"',
            id="the token with a character more",
        ),
    ],
)
async def test_a_request_without_the_token_is_refused_before_its_body_is_read(
    lane: AuditLane, headers: dict[str, str], challenge: str
) -> None:
    # A malformed body: auth comes first, so the answer is still 401, not 400.
    response = await lane.post(b"not json", token=None, headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert TOKEN not in response.text
    assert lane.nothing_stored()


@pytest.mark.parametrize("token", [None, ""], ids=["token not set", "token set to empty"])
async def test_without_a_configured_token_the_endpoint_refuses_everything(
    make_settings: Callable[..., Settings], token: str | None
) -> None:
    async with running(make_settings(audit_log_token=token)) as lane:
        for sent in (TOKEN, "", None):
            response = await lane.post(event("repo.create", lane.clock.now(), "d"), token=sent)

            assert response.status_code == 403
            assert response.json() == {
                "error": "the audit-log endpoint is disabled: "
                "HOTFIX_LANE_AUDIT_LOG_TOKEN is not set"
            }
        assert lane.nothing_stored()


# --- body formats ------------------------------------------------------------------------------


async def test_a_single_json_object_is_one_event(lane: AuditLane) -> None:
    now = lane.clock.now()
    response = await lane.post(event("team.add_member", now, "doc-1", team="acme/sre", user="x"))

    assert response.json() == {"stored": 1, "duplicates": 0}
    [row] = lane.events
    assert (row.document_id, row.action, row.org, row.actor, row.created_at) == (
        "doc-1",
        "team.add_member",
        "acme",
        "alice",
        now,
    )
    # Stored whole: every field the sender gave, including those we do not read.
    assert json.loads(row.body)["actor_location"] == {"country_code": "DE"}


async def test_a_json_array_is_many_events(lane: AuditLane) -> None:
    now = lane.clock.now()
    events = [event("repo.create", now, f"doc-{n}", repo=REPO) for n in range(3)]

    response = await lane.post(events)

    assert response.json() == {"stored": 3, "duplicates": 0}
    assert [row.document_id for row in lane.events] == ["doc-0", "doc-1", "doc-2"]


async def test_an_empty_array_stores_nothing(lane: AuditLane) -> None:
    response = await lane.post([])

    assert (response.status_code, response.json()) == (202, {"stored": 0, "duplicates": 0})


@pytest.mark.parametrize(
    ("content_type", "newline"),
    [
        pytest.param("application/x-ndjson", b"\n", id="declared as NDJSON"),
        pytest.param("application/json", b"\n", id="sent as JSON, recognised as NDJSON"),
        pytest.param("application/x-ndjson; charset=utf-8", b"\r\n", id="CRLF line ends"),
    ],
)
async def test_ndjson_is_one_event_a_line(
    lane: AuditLane, content_type: str, newline: bytes
) -> None:
    now = lane.clock.now()
    lines = [
        json.dumps(event("repo.create", now, f"doc-{n}", repo=REPO)).encode() for n in range(3)
    ]
    body = newline.join([lines[0], lines[1], b"", lines[2], b""])  # a blank line and a final one

    response = await lane.post(body, content_type=content_type)

    assert response.json() == {"stored": 3, "duplicates": 0}
    assert [row.document_id for row in lane.events] == ["doc-0", "doc-1", "doc-2"]


async def test_a_forwarder_s_iso_timestamp_is_accepted(lane: AuditLane) -> None:
    body = event("repo.create", lane.clock.now(), "doc-1")
    body["@timestamp"] = "2026-05-20T09:31:05.594Z"
    del body["created_at"]

    await lane.post(body)

    assert lane.events[0].created_at.isoformat() == "2026-05-20T09:31:05.594000+00:00"


# --- deduplication -----------------------------------------------------------------------------


async def test_events_are_deduplicated_on_document_id_within_and_across_requests(
    lane: AuditLane,
) -> None:
    now = lane.clock.now()
    batch = [
        event("repo.create", now, "doc-1", repo=REPO),
        event("repo.create", now, "doc-2", repo=REPO),
        event("repo.create", now, "doc-1", repo=REPO),  # the same event twice in one request
    ]

    first = await lane.post(batch)
    again = await lane.post(batch)  # a forwarder retrying after a timeout

    assert first.json() == {"stored": 2, "duplicates": 1}
    assert again.json() == {"stored": 0, "duplicates": 3}
    assert [row.document_id for row in lane.events] == ["doc-1", "doc-2"]


async def test_events_without_a_document_id_are_all_stored_but_announced_once(
    lane: AuditLane,
) -> None:
    added = event("team.add_member", lane.clock.now(), team="acme/platform-admins", user="mallory")

    first = await lane.post([added, added])
    again = await lane.post(added)

    assert first.json() == {"stored": 2, "duplicates": 0}
    assert again.json() == {"stored": 1, "duplicates": 0}
    assert [row.document_id for row in lane.events] == [None, None, None]
    [notice] = lane.notices
    assert notice.key.startswith("audit-log:sha256:")


async def test_a_duplicate_policy_override_is_not_correlated_twice(lane: AuditLane) -> None:
    now = lane.clock.now()
    await lane.post(override(now))
    await lane.post(override(now))

    assert len(lane.jobs(CORRELATE_JOB)) == 1
    assert texts(lane) == [POSTED]


async def test_an_override_without_a_document_id_sent_twice_has_one_post_and_one_outcome(
    lane: AuditLane,
) -> None:
    at = lane.clock.now()
    lane.record_hotfix(hotfix_record(at))
    bypass = override(at, document_id=None)

    first = await lane.post(bypass)
    again = await lane.post(bypass)
    lane.clock.advance(minutes=15)
    await lane.run_due()

    assert (first.json(), again.json()) == ({"stored": 1, "duplicates": 0},) * 2
    assert texts(lane) == [POSTED, CONFIRMED]
    assert lane.jobs(CORRELATE_JOB) == []  # the second copy is not matched again


# --- bad input -------------------------------------------------------------------------------


def _lines(*events: Any) -> bytes:
    return b"\n".join(e if isinstance(e, bytes) else json.dumps(e).encode() for e in events)


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in keys}


def _bad_inputs() -> list[Any]:
    from datetime import UTC, datetime

    at = datetime(2026, 5, 20, 9, 30, tzinfo=UTC)
    good = event("repo.create", at, "doc-good", repo=REPO)
    seconds = dict(good, **{"@timestamp": 1779269400, "created_at": 1779269400})
    return [
        pytest.param(b"", "body is empty; send a JSON object, a JSON array or NDJSON", id="empty"),
        pytest.param(b"{not json", "body is not valid JSON: ", id="not JSON"),
        pytest.param(
            b'"hello"', "body is neither a JSON object, a JSON array nor NDJSON", id="a JSON string"
        ),
        pytest.param(
            [good, 42],
            "event at index 1 is a JSON number, not an object",
            id="an array item that is not an object",
        ),
        pytest.param(
            [good, _without(good, "action")],
            'event at index 1 has no "action" (a non-empty string)',
            id="an event without action",
        ),
        pytest.param(
            dict(good, action=""),
            'event has no "action" (a non-empty string)',
            id="an empty action",
        ),
        pytest.param(
            [good, _without(good, "@timestamp", "created_at")],
            'event at index 1 has no "@timestamp" or "created_at"',
            id="an event without a timestamp",
        ),
        pytest.param(
            seconds,
            'event "@timestamp" looks like epoch seconds; GitHub sends epoch milliseconds',
            id="a timestamp in seconds",
        ),
        pytest.param(
            dict(good, **{"@timestamp": "yesterday"}),
            'event "@timestamp" is neither epoch milliseconds nor an ISO 8601 time',
            id="a timestamp that is no time",
        ),
        pytest.param(
            dict(good, **{"@timestamp": 4102444800000}),
            'event "@timestamp" is not a plausible time (2100-01-01)',
            id="a timestamp in the next century",
        ),
        pytest.param(
            dict(good, _document_id=17),
            'event "_document_id" is a JSON number, not a string',
            id="a document id that is a number",
        ),
        pytest.param(
            dict(good, repo="x" * 300),
            'event "repo" is longer than 255 characters',
            id="a repository name too long to store",
        ),
        pytest.param(
            _without(override(at), "repo"),
            'event is a protected_branch.policy_override event without "repo"',
            id="a policy override without its repository",
        ),
        pytest.param(
            _lines(good, good, b'{"action": "repo.create",'),
            "line 3 is not valid JSON: ",
            id="NDJSON with a broken third line",
        ),
        pytest.param(
            _lines(good, _without(good, "action")),
            'line 2 has no "action" (a non-empty string)',
            id="NDJSON with an event without action",
        ),
    ]


@pytest.mark.parametrize(("body", "error"), _bad_inputs())
async def test_a_malformed_batch_is_refused_whole_with_the_problem_named(
    lane: AuditLane, body: Any, error: str
) -> None:
    response = await lane.post(body)

    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    assert lane.nothing_stored()  # not even the good events before the bad one


async def test_a_body_over_the_size_limit_is_refused(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(audit_log_token=TOKEN, max_body_bytes=512)
    async with running(settings) as lane:
        events = [event("repo.create", lane.clock.now(), f"doc-{n}") for n in range(10)]

        response = await lane.post(events)

        assert (response.status_code, response.json()) == (413, {"error": "body over 512 bytes"})
        assert lane.nothing_stored()


# --- notices ---------------------------------------------------------------------------------

AUDIT_URL = "https://github.com/organizations/acme/settings/audit-log"


def _notice_cases() -> list[Any]:
    protection = {"repo": REPO, "repo_id": 3001, "name": "main", "actor": "mallory"}
    ruleset = {
        "repo": REPO,
        "ruleset_id": 42,
        "ruleset_name": "main protection",
        "actor": "mallory",
    }
    weakened = f"Audit log: @mallory weakened branch protection on {REPO}"
    return [
        pytest.param(
            "repository_ruleset.bypass",
            {
                "repo": REPO,
                "ruleset_name": "main protection",
                "ref": "refs/heads/main",
                "actor": "erin",
            },
            f'Audit log: @erin bypassed ruleset "main protection" on {REPO} refs/heads/main',
            id="a ruleset bypass",
        ),
        pytest.param(
            "protected_branch.destroy",
            protection,
            f"Audit log: @mallory deleted branch protection on {REPO} main",
            id="branch protection deleted",
        ),
        pytest.param(
            "repository_ruleset.destroy",
            ruleset,
            f'Audit log: @mallory deleted branch protection on {REPO} ruleset "main protection"',
            id="a ruleset deleted",
        ),
        pytest.param(
            "repository_branch_protection_evaluation.disable",
            {"repo": REPO, "actor": "mallory"},
            f"Audit log: @mallory deleted branch protection on {REPO} all branches",
            id="branch protection switched off for the repository",
        ),
        pytest.param(
            "protected_branch.update_required_approving_review_count",
            dict(protection, required_approving_review_count=0),
            f"{weakened} main (required approving reviews 0)",
            id="required approvals lowered to none",
        ),
        pytest.param(
            "protected_branch.update_admin_enforced",
            dict(protection, admin_enforced=False),
            f"{weakened} main (no longer enforced for administrators)",
            id="administrators exempted",
        ),
        pytest.param(
            "protected_branch.update_pull_request_reviews_enforcement_level",
            dict(protection, pull_request_reviews_enforcement_level="off"),
            f"{weakened} main (required reviews off)",
            id="required reviews switched off",
        ),
        pytest.param(
            "protected_branch.update_required_status_checks_enforcement_level",
            dict(protection, required_status_checks_enforcement_level=0),
            f"{weakened} main (required status checks off)",
            id="required status checks switched off",
        ),
        pytest.param(
            "protected_branch.update_allow_force_pushes_enforcement_level",
            dict(protection, allow_force_pushes_enforcement_level=2),
            f"{weakened} main (force pushes allowed)",
            id="force pushes allowed",
        ),
        pytest.param(
            "protected_branch.update_strict_required_status_checks_policy",
            dict(protection, strict_required_status_checks_policy=False),
            f"{weakened} main (branch no longer has to be up to date before merging)",
            id="up to date with base no longer required",
        ),
        pytest.param(
            "protected_branch.update_required_approving_review_count",
            protection,
            f"{weakened} main (details not given)",
            id="a protection change whose new value is not given",
        ),
        pytest.param(
            "repository_ruleset.update",
            dict(
                ruleset,
                ruleset_enforcement="disabled",
                ruleset_bypass_actors_added=[{"actor_type": "Team", "actor_id": 7}],
                ruleset_rules_deleted=[{"type": "pull_request"}],
            ),
            f'{weakened} ruleset "main protection" '
            "(ruleset disabled; bypass actors added; rules removed: pull_request)",
            id="a ruleset disabled, bypassable and without its review rule",
        ),
        pytest.param(
            "team.add_member",
            {"team": "acme/platform-admins", "user": "mallory", "actor": "root"},
            "Audit log: @root added @mallory to @acme/platform-admins, the bypass team",
            id="a member added to the bypass team",
        ),
        pytest.param(
            "protected_branch.policy_override",
            {
                "repo": REPO,
                "branch": "refs/heads/release/2.4",
                "actor": "mallory",
                "reasons": [{"code": "required_status_checks", "message": "e2e is expected"}],
            },
            f"Audit log: @mallory overrode branch protection on {REPO} release/2.4 "
            "(required_status_checks)",
            id="a policy override, before anything is known of its hotfix",
        ),
    ]


@pytest.mark.parametrize(("action", "fields", "text"), _notice_cases())
async def test_each_audit_notice_has_its_exact_text(
    lane: AuditLane, action: str, fields: dict[str, Any], text: str
) -> None:
    await lane.post(event(action, lane.clock.now(), "doc-7", **fields))

    [notice] = lane.notices
    assert (notice.text, notice.key, notice.channel, notice.violation) == (
        text,
        "audit-log:doc-7",
        "#platform-audit",
        False,
    )
    assert json.loads(notice.notice)["link"] == AUDIT_URL
    assert [job.ref for job in lane.jobs(NOTICE_JOB)] == ["audit-log:doc-7"]


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        pytest.param(
            "team.add_member",
            {"team": "acme/sre-leads", "user": "mallory"},
            id="a member added to another team",
        ),
        pytest.param(
            "protected_branch.update_required_approving_review_count",
            {"repo": REPO, "name": "main", "required_approving_review_count": 2},
            id="more approvals required",
        ),
        pytest.param(
            "protected_branch.update_admin_enforced",
            {"repo": REPO, "name": "main", "admin_enforced": True},
            id="protection enforced for administrators",
        ),
        pytest.param(
            "repository_ruleset.update",
            {"repo": REPO, "ruleset_name": "main", "ruleset_enforcement": "active"},
            id="a ruleset made active",
        ),
        pytest.param(
            "protected_branch.create",
            {"repo": REPO, "name": "main"},
            id="branch protection created",
        ),
        pytest.param("repo.create", {"repo": REPO}, id="an unrelated action"),
    ],
)
async def test_events_that_do_not_weaken_protection_are_stored_silently(
    lane: AuditLane, action: str, fields: dict[str, Any]
) -> None:
    response = await lane.post(event(action, lane.clock.now(), "doc-8", **fields))

    assert response.json() == {"stored": 1, "duplicates": 0}
    assert lane.notices == []


# --- policy override correlation -------------------------------------------------------------


async def test_an_override_after_its_hotfix_merged_confirms_it_at_once(lane: AuditLane) -> None:
    merged_at = lane.clock.now() - timedelta(minutes=2)
    recorded = lane.record_hotfix(hotfix_record(merged_at))

    response = await lane.post(override(merged_at + timedelta(seconds=3)))

    assert response.json() == {"stored": 1, "duplicates": 0}
    posted, notice = lane.notices
    assert (posted.text, posted.key, posted.subject, posted.thread) == (
        POSTED,
        ARRIVAL_KEY,
        "audit:pCtl2n0J8njxnR8oUOEpuw",
        "top",
    )
    assert (notice.text, notice.violation, notice.key, notice.subject, notice.thread) == (
        CONFIRMED,
        False,
        OUTCOME_KEY,
        "audit:pCtl2n0J8njxnR8oUOEpuw",
        "reply",
    )
    assert json.loads(notice.notice)["link"] == f"https://github.com/{REPO}/pull/4321"
    confirmed = lane.hotfix()
    assert confirmed.audit_document_id == "pCtl2n0J8njxnR8oUOEpuw"
    assert confirmed.audit_confirmed_at == lane.clock.now()
    assert [row.hotfix_id for row in lane.events] == [recorded.id]
    assert lane.jobs(CORRELATE_JOB) == []


async def test_an_override_before_its_merge_is_claimed_by_the_merge_and_the_check_is_silent(
    lane: AuditLane,
) -> None:
    at = lane.clock.now()
    await lane.post(override(at))
    [check] = lane.jobs(CORRELATE_JOB)
    assert (check.status, check.run_at) == ("queued", (at + WINDOW).timestamp())
    assert texts(lane) == [POSTED]  # posted at once; only its outcome waits

    # The merge webhook is handled a minute later: the merge records the hotfix, and its
    # hotfix-recorded job claims the stored override.
    lane.clock.advance(minutes=1)
    claimed = lane.merge(hotfix_record(at - timedelta(seconds=5)))
    assert claimed is True
    assert texts(lane) == [POSTED, CONFIRMED]
    assert lane.hotfix().audit_document_id == "pCtl2n0J8njxnR8oUOEpuw"

    lane.clock.advance(minutes=15)
    await lane.run_due()

    assert [job.status for job in lane.jobs(CORRELATE_JOB)] == ["done"]
    assert texts(lane) == [POSTED, CONFIRMED]  # the delayed check sent nothing more


async def test_an_override_no_hotfix_matches_is_a_violation_once_the_window_has_passed(
    lane: AuditLane,
) -> None:
    await lane.post(override(lane.clock.now()))

    lane.clock.advance(minutes=14, seconds=59)
    await lane.run_due()
    assert texts(lane) == [POSTED]  # too early to tell
    assert [job.status for job in lane.jobs(CORRELATE_JOB)] == ["queued"]

    lane.clock.advance(seconds=1)
    await lane.run_due()

    posted, notice = lane.notices
    assert (posted.text, posted.violation) == (POSTED, False)
    assert (notice.text, notice.violation, notice.key, notice.subject, notice.thread) == (
        VIOLATION,
        True,
        OUTCOME_KEY,
        "audit:pCtl2n0J8njxnR8oUOEpuw",
        "reply_broadcast",
    )
    assert json.loads(notice.notice)["link"] == AUDIT_URL
    assert [job.status for job in lane.jobs(CORRELATE_JOB)] == ["done"]
    assert [row.hotfix_id for row in lane.events] == [None]


async def test_a_hotfix_recorded_without_a_claim_is_still_found_by_the_delayed_check(
    lane: AuditLane,
) -> None:
    at = lane.clock.now()
    await lane.post(override(at))
    lane.record_hotfix(hotfix_record(at + timedelta(minutes=3)))  # recorded, but nobody claimed

    lane.clock.advance(minutes=15)
    await lane.run_due()

    assert texts(lane) == [POSTED, CONFIRMED]
    assert lane.hotfix().audit_document_id == "pCtl2n0J8njxnR8oUOEpuw"


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"merged_at_minutes": -16}, id="a hotfix merged outside the window"),
        pytest.param({"repo_full_name": "acme/other"}, id="a hotfix in another repository"),
        pytest.param({"base_ref": "release/2.4"}, id="a hotfix merged into another branch"),
        pytest.param({"bypassed": False}, id="a hotfix merged without a bypass"),
    ],
)
async def test_a_hotfix_that_is_not_close_enough_does_not_match(
    lane: AuditLane, other: dict[str, Any]
) -> None:
    at = lane.clock.now()
    other = dict(other)
    minutes = other.pop("merged_at_minutes", 0)
    lane.record_hotfix(hotfix_record(at + timedelta(minutes=minutes), **other))

    await lane.post(override(at))
    lane.clock.advance(minutes=15)
    await lane.run_due()

    assert texts(lane) == [POSTED, VIOLATION]
    assert lane.hotfix(repo=other.get("repo_full_name", REPO)).audit_document_id is None


async def test_one_merge_confirms_one_override(lane: AuditLane) -> None:
    at = lane.clock.now()
    lane.record_hotfix(hotfix_record(at))

    await lane.post([override(at, "doc-a"), override(at + timedelta(seconds=30), "doc-b")])
    lane.clock.advance(minutes=15)
    await lane.run_due()

    assert texts(lane) == [POSTED, CONFIRMED, POSTED, VIOLATION]
    assert [n.key for n in lane.notices] == [
        "audit-log:doc-a",
        "audit-outcome:doc-a",
        "audit-log:doc-b",
        "audit-outcome:doc-b",
    ]


async def test_a_merge_after_the_violation_was_announced_does_not_claim_the_override(
    lane: AuditLane,
) -> None:
    at = lane.clock.now()
    await lane.post(override(at))
    lane.clock.advance(minutes=15)
    await lane.run_due()

    claimed = lane.merge(hotfix_record(at + timedelta(minutes=10)))

    assert claimed is False
    assert texts(lane) == [POSTED, VIOLATION]  # one event, one outcome
    assert lane.hotfix().audit_document_id is None


async def test_claiming_finds_nothing_without_a_stored_override(lane: AuditLane) -> None:
    claimed = lane.merge(hotfix_record(lane.clock.now()))

    assert claimed is False
    assert lane.notices == []


async def test_a_delayed_check_run_again_after_the_violation_announces_nothing_more(
    lane: AuditLane,
) -> None:
    at = lane.clock.now()
    await lane.post(override(at))
    lane.clock.advance(minutes=15)
    await lane.run_due()
    # A hotfix recorded without a claim, then the check again (a retried job).
    lane.record_hotfix(hotfix_record(at + timedelta(minutes=10)))
    [event_row] = lane.events
    assert event_row.id is not None

    with lane.session() as session:
        outcome = settle_override(
            session,
            event_id=event_row.id,
            settings=lane.services.settings,
            policy=default_policy(),
            now=lane.clock.now(),
        )
        session.commit()

    assert outcome == "settled"
    assert texts(lane) == [POSTED, VIOLATION]
    assert lane.hotfix().audit_document_id is None


async def test_an_override_announced_before_arrival_notices_existed_is_not_claimed(
    lane: AuditLane,
) -> None:
    at = lane.clock.now()
    await lane.post(override(at))
    # What an earlier version stored: the override's one notice, its violation, on this key.
    with lane.services.engine.begin() as conn:
        conn.execute(
            update(NoticeRow)
            .where(col(NoticeRow.key) == ARRIVAL_KEY)
            .values(kind=NoticeKind.POLICY_OVERRIDE_UNMATCHED.value)
        )

    claimed = lane.merge(hotfix_record(at + timedelta(minutes=1)))

    assert claimed is False
    assert lane.hotfix().audit_document_id is None
