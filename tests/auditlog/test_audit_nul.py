"""POST /api/audit-log with NUL characters: refused as malformed (400), never a 503 loop.

PostgreSQL refuses NUL in text columns; an event carrying one used to fail its insert, the
endpoint answered 503 and the forwarder resent the same batch forever. Each test runs the real
app on SQLite and on PostgreSQL (when configured), so the PostgreSQL run shows what it stores.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.auditlog.audit_lane import AuditLane, event, override
from tests.fakes.github import REPO

NUL = "\u0000"


def _with(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**body, **fields}


def _cases() -> list[Any]:
    from datetime import UTC, datetime

    at = datetime(2026, 5, 20, 9, 30, tzinfo=UTC)
    member = event("team.add_member", at, "doc-team", team="acme/platform-admins", user="mallory")
    bypass = override(at)
    return [
        pytest.param(_with(member, action=f"team.add_member{NUL}"), '"action"', id="action"),
        pytest.param(_with(member, actor=f"alice{NUL}"), '"actor"', id="actor"),
        pytest.param(_with(member, org=f"acme{NUL}"), '"org"', id="org"),
        pytest.param(_with(bypass, repo=f"{REPO}{NUL}"), '"repo"', id="repo"),
        pytest.param(_with(member, _document_id=f"doc{NUL}"), '"_document_id"', id="document id"),
        pytest.param(_with(bypass, branch=f"refs/heads/main{NUL}"), '"branch"', id="branch"),
        pytest.param(_with(member, team=f"acme/platform-admins{NUL}"), '"team"', id="team"),
        pytest.param(_with(member, user=f"{NUL}mallory"), '"user"', id="user"),
        pytest.param(_with(member, user_agent=NUL), '"user_agent"', id="a field we do not read"),
        pytest.param(
            _with(bypass, reasons=[{"code": "x", "message": f"why{NUL}"}]),
            '"reasons[0].message"',
            id="a nested value",
        ),
        pytest.param(
            _with(member, **{f"extra{NUL}": "x"}), "a field name with a NUL", id="a field name"
        ),
    ]


@pytest.mark.parametrize(("body", "field"), _cases())
async def test_an_event_with_nul_is_refused_naming_the_event_and_the_field(
    lane: AuditLane, body: dict[str, Any], field: str
) -> None:
    response = await lane.post(body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("event ")
    assert field in error
    assert "NUL" in error
    assert lane.nothing_stored()


async def test_a_batch_with_one_nul_event_is_refused_whole(lane: AuditLane) -> None:
    now = lane.clock.now()
    good = event("repo.create", now, "doc-1", repo=REPO)
    bad = event("repo.create", now, "doc-2", repo=REPO, actor=f"bob{NUL}")

    response = await lane.post([good, bad])

    assert response.status_code == 400
    assert response.json()["error"] == 'event at index 1 "actor" contains a NUL character (\\u0000)'
    assert lane.nothing_stored()
    # Without the bad event the batch goes through: the sender can fix it and resend.
    assert (await lane.post([good])).status_code == 202


async def test_an_ndjson_line_with_nul_is_named_by_its_line(lane: AuditLane) -> None:
    now = lane.clock.now()
    lines = [
        json.dumps(event("repo.create", now, "doc-1", repo=REPO)),
        json.dumps(event("repo.create", now, "doc-2", repo=f"{REPO}{NUL}")),
    ]

    response = await lane.post("\n".join(lines).encode(), content_type="application/x-ndjson")

    assert response.status_code == 400
    assert response.json()["error"] == 'line 2 "repo" contains a NUL character (\\u0000)'
    assert lane.nothing_stored()


async def test_the_text_of_an_escape_is_stored_as_received(lane: AuditLane) -> None:
    # Six characters, backslash-u-0-0-0-0, are no NUL: stored, and read back unchanged.
    sent = event("repo.create", lane.clock.now(), "doc-1", repo=REPO, note="\\u0000 stays text")

    response = await lane.post(sent)

    assert response.status_code == 202
    [row] = lane.events
    assert NUL not in row.body
    assert json.loads(row.body) == sent


async def test_an_event_nested_deeper_than_json_can_be_stored_is_refused(
    lane: AuditLane,
) -> None:
    # orjson reads 1,024 levels but writes only 255: this used to escape as a TypeError (500).
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    sent = event("repo.create", lane.clock.now(), "doc-1", repo=REPO, nested=deep)

    response = await lane.post(sent)

    assert response.status_code == 400
    assert response.json()["error"].startswith("event cannot be stored as JSON")
    assert lane.nothing_stored()
