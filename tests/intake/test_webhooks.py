"""Every intake outcome of POST /api/github/webhooks, in the order the checks run."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.logs import configure
from app.settings import Settings
from app.store.models import Delivery, Job
from tests.conftest import SECRET, load_fixture, webhook_headers
from tests.harness import RunningApp, running_app

URL = "/api/github/webhooks"


@pytest.fixture
async def app(make_settings: Callable[..., Settings]) -> AsyncIterator[RunningApp]:
    async with running_app(make_settings()) as app:
        yield app


def stored(app: RunningApp) -> tuple[list[Delivery], list[Job]]:
    return app.deliveries, app.jobs()


async def test_a_signed_delivery_is_stored_with_a_job_and_answered_202(app: RunningApp) -> None:
    payload = load_fixture("pull_request.opened")
    body = json.dumps(payload).encode()
    headers = webhook_headers(body, "pull_request", delivery="d6f1c0a0-1111-11f0-8000-000000000001")

    response = await app.client.post(URL, content=body, headers=headers)

    assert response.status_code == 202
    assert response.json() == {
        "status": "stored",
        "delivery": "d6f1c0a0-1111-11f0-8000-000000000001",
    }
    deliveries, jobs = stored(app)
    assert [(d.id, d.event, d.action, d.installation_id, d.repository) for d in deliveries] == [
        (
            "d6f1c0a0-1111-11f0-8000-000000000001",
            "pull_request",
            "opened",
            4242,
            "acme/bookstore-platform",
        )
    ]
    assert deliveries[0].body == body
    assert [(j.kind, j.key, j.status) for j in jobs] == [
        ("delivery", "delivery:d6f1c0a0-1111-11f0-8000-000000000001", "queued")
    ]


async def test_a_redelivery_with_the_same_id_is_acknowledged_without_a_second_job(
    app: RunningApp,
) -> None:
    body = json.dumps(load_fixture("pull_request.opened")).encode()
    headers = webhook_headers(body, "pull_request", delivery="same-id-twice")

    first = await app.client.post(URL, content=body, headers=headers)
    second = await app.client.post(URL, content=body, headers=headers)

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["status"] == "duplicate"
    deliveries, jobs = stored(app)
    assert len(deliveries) == 1
    assert len(jobs) == 1


async def test_ping_is_answered_200_and_not_stored(app: RunningApp) -> None:
    response = await app.post_webhook(
        "ping", {"zen": "Keep it logically awesome.", "hook_id": 471100}
    )

    assert response.status_code == 200
    assert response.json() == {"status": "pong"}
    assert stored(app) == ([], [])


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("", id="a missing signature is refused"),
        pytest.param(
            "sha1=0123456789abcdef0123456789abcdef01234567", id="a sha1 signature is refused"
        ),
        pytest.param("sha256=zz", id="a malformed sha256 signature is refused"),
        pytest.param("sha256=" + "0" * 64, id="a wrong sha256 signature is refused"),
    ],
)
async def test_bad_signatures_get_401_and_nothing_is_stored(
    app: RunningApp, signature: str
) -> None:
    response = await app.post_webhook(
        "pull_request",
        load_fixture("pull_request.opened"),
        **{"X-Hub-Signature-256": signature},
    )

    assert response.status_code == 401
    assert stored(app) == ([], [])


async def test_a_body_signed_with_another_secret_is_refused(app: RunningApp) -> None:
    body = b'{"action": "opened"}'
    headers = webhook_headers(body, "pull_request", secret="not-" + SECRET)

    assert (await app.client.post(URL, content=body, headers=headers)).status_code == 401


@pytest.mark.parametrize("missing", ["X-GitHub-Event", "X-GitHub-Delivery"])
async def test_a_missing_event_or_delivery_header_gets_400(app: RunningApp, missing: str) -> None:
    response = await app.post_webhook("pull_request", {"action": "opened"}, **{missing: ""})

    assert response.status_code == 400
    assert "X-GitHub-Event or X-GitHub-Delivery" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="a body that is not JSON gets 400"),
        pytest.param(b"[1, 2, 3]", id="a JSON array gets 400"),
        pytest.param(b'"text"', id="a JSON string gets 400"),
    ],
)
async def test_a_body_that_is_not_a_json_object_gets_400(app: RunningApp, body: bytes) -> None:
    assert (await app.post_webhook("pull_request", body)).status_code == 400
    assert stored(app) == ([], [])


async def test_a_payload_with_unexpected_shapes_is_still_stored(app: RunningApp) -> None:
    # A lenient reading: fields of an unexpected type are simply not indexed.
    payload = {"action": 7, "installation": "4242", "repository": ["acme"], "extra": None}

    response = await app.post_webhook("pull_request", payload)

    assert response.status_code == 202
    deliveries, _ = stored(app)
    assert [(d.action, d.installation_id, d.repository) for d in deliveries] == [(None, None, None)]


async def test_an_unknown_event_is_stored_too(app: RunningApp) -> None:
    assert (
        await app.post_webhook("deployment_protection_rule", {"action": "requested"})
    ).status_code == 202
    deliveries, jobs = stored(app)
    assert deliveries[0].event == "deployment_protection_rule"
    assert len(jobs) == 1


async def test_a_body_over_the_limit_gets_413_before_anything_else(
    make_settings: Callable[..., Settings],
) -> None:
    body = json.dumps({"action": "opened", "padding": "x" * 2000}).encode()
    async with running_app(make_settings(max_body_bytes=1024)) as app:
        # Even unsigned: the size is checked first, so nothing large is hashed.
        response = await app.client.post(URL, content=body, headers={"X-GitHub-Event": "push"})
        assert response.status_code == 413
        assert stored(app) == ([], [])


async def test_a_streamed_body_over_the_limit_gets_413(
    make_settings: Callable[..., Settings],
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 512

    async with running_app(make_settings(max_body_bytes=1024)) as app:
        response = await app.client.post(URL, content=chunks(), headers={"X-GitHub-Event": "push"})
        assert response.status_code == 413


async def test_the_default_limit_is_25_megabytes(app: RunningApp) -> None:
    body = b"{" + b" " * (25 * 1024 * 1024) + b"}"
    response = await app.post_webhook("push", body)
    assert response.status_code == 413

    just_under = b'{"a":"' + b"x" * (25 * 1024 * 1024 - 10) + b'"}'
    assert (await app.post_webhook("push", just_under)).status_code == 202


async def test_get_on_the_webhook_path_is_not_allowed(app: RunningApp) -> None:
    assert (await app.client.get(URL)).status_code == 405


async def test_health_readiness_and_metrics(app: RunningApp) -> None:
    await app.post_webhook("pull_request", load_fixture("pull_request.opened"))
    await app.post_webhook("pull_request", {"action": "opened"}, **{"X-Hub-Signature-256": ""})

    assert (await app.client.get("/healthz")).json() == {"status": "ok"}
    assert (await app.client.get("/readyz")).json() == {"status": "ready"}
    text = (await app.client.get("/metrics")).text
    assert 'hotfix_lane_deliveries_total{event="pull_request",outcome="stored"}' in text
    assert "hotfix_lane_signature_failures_total" in text
    assert "hotfix_lane_queue_depth 1.0" in text
    assert "hotfix_lane_dead_jobs 0.0" in text
    assert "hotfix_lane_job_seconds" in text


async def test_logs_carry_the_delivery_id_and_never_the_body(
    app: RunningApp, caplog: pytest.LogCaptureFixture
) -> None:
    payload = load_fixture("pull_request.opened")
    body = json.dumps(payload).encode()
    configure("DEBUG")
    caplog.set_level("DEBUG")

    await app.client.post(
        URL, content=body, headers=webhook_headers(body, "pull_request", delivery="log-check-1")
    )

    lines = [r for r in caplog.records if r.name.startswith("app.")]
    assert lines and all(getattr(r, "delivery", None) == "log-check-1" for r in lines)
    assert not any(payload["pull_request"]["body"][:20] in r.getMessage() for r in caplog.records)
    assert not any(SECRET in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"action": "opened", "note": "\xff\xfe"}', id="invalid UTF-8 in a field"),
        pytest.param(b'{"action": "opened", "\xed\xa0\x80": 1}', id="an encoded surrogate"),
        pytest.param(b'{"action": "opened", "x": "\\ud800"}', id="a lone surrogate escape"),
        pytest.param(b'{"action": "opened", "x": [1, 2,]}', id="a trailing comma"),
        pytest.param(b'{"action": "opened"} {}', id="trailing content"),
        pytest.param(b'{"action": 7, "x": [1, 2,]}', id="an odd shape and broken JSON"),
        pytest.param(b'{"x":' * 5000 + b"1" + b"}" * 5000, id="nesting too deep"),
        pytest.param(b"", id="an empty body"),
    ],
)
async def test_a_body_anywhere_not_json_gets_400(app: RunningApp, body: bytes) -> None:
    response = await app.post_webhook("pull_request", body)

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    assert stored(app) == ([], [])


async def test_non_ascii_text_is_stored_and_indexed(app: RunningApp) -> None:
    payload = {
        "action": "opened",
        "installation": {"id": 4242},
        "repository": {"full_name": "acme/bücher"},
        "pull_request": {"title": "Correctif urgent ✅ 🚑"},
    }
    body = json.dumps(payload, ensure_ascii=False).encode()

    assert (await app.post_webhook("pull_request", body)).status_code == 202
    deliveries, _ = stored(app)
    assert [(d.action, d.repository, d.body) for d in deliveries] == [
        ("opened", "acme/bücher", body)
    ]


@pytest.mark.parametrize(
    ("installation", "expected"),
    [
        pytest.param({"id": 2**63 - 1}, 2**63 - 1, id="the largest BIGINT"),
        pytest.param({"id": 2**63}, None, id="beyond BIGINT"),
        pytest.param({"id": -(2**70)}, None, id="far below BIGINT"),
        pytest.param({"id": True}, None, id="a boolean"),
        pytest.param({"id": 4242.0}, None, id="a float"),
        pytest.param({"id": None}, None, id="null"),
        pytest.param(None, None, id="no installation"),
    ],
)
async def test_an_installation_id_the_column_cannot_hold_is_not_indexed(
    app: RunningApp, installation: Any, expected: int | None
) -> None:
    response = await app.post_webhook(
        "pull_request", {"action": "opened", "installation": installation}
    )

    assert response.status_code == 202
    deliveries, jobs = stored(app)
    assert [d.installation_id for d in deliveries] == [expected]
    assert len(jobs) == 1


async def test_long_index_fields_are_cut_to_their_columns(app: RunningApp) -> None:
    payload = {"action": "a" * 100, "repository": {"full_name": "r" * 300}}

    assert (await app.post_webhook("pull_request", payload)).status_code == 202
    deliveries, _ = stored(app)
    assert [(d.action, d.repository) for d in deliveries] == [("a" * 64, "r" * 255)]


async def test_a_body_streamed_in_chunks_is_stored_whole(app: RunningApp) -> None:
    body = json.dumps(load_fixture("pull_request.opened")).encode()
    headers = webhook_headers(body, "pull_request", delivery="chunked-1")

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    assert (await app.client.post(URL, content=chunks(), headers=headers)).status_code == 202
    deliveries, _ = stored(app)
    assert [(d.id, d.action, d.body) for d in deliveries] == [("chunked-1", "opened", body)]


async def test_a_ping_that_is_not_json_gets_400(app: RunningApp) -> None:
    assert (await app.post_webhook("ping", b"{not json")).status_code == 400


async def test_an_unsigned_request_does_not_name_a_metric_series(
    make_settings: Callable[..., Settings],
) -> None:
    body = json.dumps({"padding": "x" * 2000}).encode()
    async with running_app(make_settings(max_body_bytes=1024)) as app:
        response = await app.client.post(
            URL, content=body, headers={"X-GitHub-Event": "made-up-event-7f3"}
        )
        assert response.status_code == 413
        assert "made-up-event-7f3" not in (await app.client.get("/metrics")).text
