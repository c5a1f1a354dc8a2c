"""Publishing through the fake GitHub: exact requests, create-then-update, no duplicates."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from app.github.errors import GitHubError
from app.github.gateway import GitHubGateway
from app.lane.publisher import Published, Record, publish, republish_status
from app.rules.model import Evaluation, Lane, State
from app.store import publications as record
from app.store.models import Publication
from tests.fakes.clock import START
from tests.fakes.github import (
    APP_ID,
    CHECK_RUN_ID,
    INSTALLATION_ID,
    REPO,
    SHA,
    FakeGitHub,
    load,
    reply,
)
from tests.lane.samples import annotation, evaluation

STATUS_PATH = f"/repos/{REPO}/statuses/{SHA}"
CHECK_RUNS = f"/repos/{REPO}/check-runs"
RUN_ID = CHECK_RUN_ID
PUBLICATIONS = Publication.__table__  # type: ignore[attr-defined]


@dataclass
class Writes:
    """The fake GitHub and the routes that accept our writes."""

    fake: FakeGitHub
    status: respx.Route
    create: respx.Route
    update: respx.Route

    @property
    def requests(self) -> list[str]:
        """The requests after the token exchange."""
        return self.fake.requests[1:]

    def sent(self, route: respx.Route) -> list[Any]:
        return self.fake.sent_json(route)


@pytest.fixture
def github(fake_github: FakeGitHub) -> Writes:
    return Writes(
        fake_github,
        status=fake_github.accept_status(),
        create=fake_github.accept_check_run(),
        update=fake_github.accept_check_run_update(),
    )


def check_run_publication(engine: Engine) -> Publication | None:
    with Session(engine) as session:
        return record.get_publication(
            session=session, repo_full_name=REPO, head_sha=SHA, kind=record.CHECK_RUN
        )


async def send(
    gateway: GitHubGateway,
    engine: Engine,
    result: Evaluation,
    *,
    force: bool = False,
    also: Record | None = None,
) -> Published:
    return await publish(
        gateway,
        engine=engine,
        installation_id=INSTALLATION_ID,
        repo=REPO,
        head_sha=SHA,
        evaluation=result,
        now=START,
        force=force,
        also=also,
    )


async def test_the_status_request_is_exact(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    await send(gateway, memory_engine, evaluation(lane=Lane.ORDINARY))

    assert github.requests == [f"POST {STATUS_PATH}"]
    # githubkit's typed methods would say 2026-03-10, which older GHES refuse.
    assert github.status.calls.last.request.headers["x-github-api-version"] == "2022-11-28"
    assert github.sent(github.status) == [
        {
            "state": "failure",
            "context": "hotfix-lane/policy",
            "description": "Approver missing: name an SRE lead or engineering manager",
        }
    ]


async def test_the_check_run_is_created_once_then_updated(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    first = await send(gateway, memory_engine, evaluation(State.PENDING))
    second = await send(gateway, memory_engine, evaluation(State.SUCCESS))

    assert first == Published(status=True, check_run_requests=1)
    assert second == Published(status=True, check_run_requests=1)
    assert github.requests == [
        f"POST {STATUS_PATH}",
        f"POST {CHECK_RUNS}",
        f"POST {STATUS_PATH}",
        f"PATCH {CHECK_RUNS}/{RUN_ID}",
    ]
    [created], [updated] = github.sent(github.create), github.sent(github.update)
    assert created["name"] == "hotfix-lane"
    assert created["head_sha"] == SHA
    assert created["status"] == "in_progress"
    assert "conclusion" not in created
    assert updated["status"] == "completed"
    assert updated["conclusion"] == "success"
    assert updated["output"]["title"] == "Hotfix lane: all rules pass"
    row = check_run_publication(memory_engine)
    assert row is not None and row.check_run_id == RUN_ID


async def test_120_annotations_are_sent_as_50_then_50_then_20(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    many = tuple(annotation(line) for line in range(1, 121))

    await send(gateway, memory_engine, evaluation(annotations=many))

    bodies = github.sent(github.create) + github.sent(github.update)
    assert [len(body["output"]["annotations"]) for body in bodies] == [50, 50, 20]
    assert bodies[0]["output"]["annotations"][0] == {
        "path": "services/catalog/middleware/tenant.go",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "failure",
        "message": "Line 1 is outside the hotfix's one concern.",
        "title": "Unrelated change",
    }


async def test_an_identical_second_publish_sends_nothing(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    result = evaluation(annotations=(annotation(134),))
    await send(gateway, memory_engine, result)
    sent = len(github.requests)

    again = await send(gateway, memory_engine, result)

    assert again == Published(status=False, check_run_requests=0)
    assert len(github.requests) == sent


async def test_a_text_change_updates_without_resending_annotations(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    await send(gateway, memory_engine, evaluation(annotations=(annotation(134),)))
    await send(
        gateway,
        memory_engine,
        evaluation(annotations=(annotation(134),), description="Still missing"),
    )
    reworded = evaluation(annotations=(annotation(134),), description="Still missing")
    await send(gateway, memory_engine, dataclasses.replace(reworded, title="Reworded"))

    update = github.sent(github.update)[-1]
    assert update["output"]["title"] == "Reworded"
    assert "annotations" not in update["output"]


async def test_changed_annotations_get_a_fresh_check_run(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    # GitHub appends annotations on update and cannot remove them: a new run replaces the old.
    await send(gateway, memory_engine, evaluation(annotations=(annotation(10),)))
    await send(gateway, memory_engine, evaluation(annotations=(annotation(20),)))

    creates = github.sent(github.create)
    assert [c["output"]["annotations"][0]["start_line"] for c in creates] == [10, 20]


async def test_force_sends_again(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    result = evaluation(annotations=(annotation(134),))
    await send(gateway, memory_engine, result)

    forced = await send(gateway, memory_engine, result, force=True)

    assert forced == Published(status=True, check_run_requests=1)
    update = github.sent(github.update)[-1]
    assert "annotations" not in update["output"]


async def test_republish_puts_our_last_status_back(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    await send(gateway, memory_engine, evaluation(lane=Lane.ORDINARY))

    assert await republish_status(
        gateway,
        engine=memory_engine,
        installation_id=INSTALLATION_ID,
        repo=REPO,
        head_sha=SHA,
        now=START,
    )

    first, again = github.sent(github.status)
    assert again == first


async def test_republish_without_a_record_sends_nothing(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    assert not await republish_status(
        gateway,
        engine=memory_engine,
        installation_id=INSTALLATION_ID,
        repo=REPO,
        head_sha=SHA,
        now=START,
    )
    assert github.requests == []


async def test_a_check_run_created_before_a_crash_is_adopted_not_duplicated(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    # The process died after creating the run and before recording it: the next evaluation
    # reads the head's check runs (ours among them) before publishing.
    ours = {
        **load("check_runs")["check_runs"][0],
        "id": RUN_ID,
        "name": "hotfix-lane",
        "app": {"id": int(APP_ID), "slug": "hotfix-lane"},
    }
    github.fake.get(
        f"/repos/{REPO}/commits/{SHA}/check-runs", reply({"total_count": 1, "check_runs": [ours]})
    )
    github.fake.get(
        f"/repos/{REPO}/commits/{SHA}/status", reply({"state": "success", "statuses": []})
    )
    await gateway.checks(INSTALLATION_ID, REPO, SHA)

    await send(gateway, memory_engine, evaluation(State.SUCCESS))

    assert github.create.calls.call_count == 0
    assert github.update.calls.call_count == 1
    stored = check_run_publication(memory_engine)
    assert stored is not None and stored.check_run_id == RUN_ID


async def test_a_check_run_of_our_name_by_another_app_is_never_adopted(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    # Anyone who can add a workflow can create a run called hotfix-lane; ours is our App's.
    theirs = {**load("check_runs")["check_runs"][0], "id": RUN_ID, "name": "hotfix-lane"}
    github.fake.get(
        f"/repos/{REPO}/commits/{SHA}/check-runs", reply({"total_count": 1, "check_runs": [theirs]})
    )
    github.fake.get(
        f"/repos/{REPO}/commits/{SHA}/status", reply({"state": "success", "statuses": []})
    )
    checks = await gateway.checks(INSTALLATION_ID, REPO, SHA)

    await send(gateway, memory_engine, evaluation(State.SUCCESS))

    assert [(c.name, c.app_slug) for c in checks] == [("hotfix-lane", "github-actions")]
    assert github.create.calls.call_count == 1
    assert github.update.calls.call_count == 0


async def test_what_the_caller_records_is_written_with_what_was_sent(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    recorded: list[list[str]] = []

    def also(conn: Connection) -> None:
        # Inside the same transaction: both publications are already written.
        rows = conn.execute(select(PUBLICATIONS.c.kind)).scalars()
        recorded.append(sorted(rows))

    await send(gateway, memory_engine, evaluation(), also=also)

    assert recorded == [[record.CHECK_RUN, record.STATUS]]


async def test_a_status_sent_before_a_failing_check_run_is_remembered(
    gateway: GitHubGateway, memory_engine: Engine, fake_github: FakeGitHub
) -> None:
    """The status went out, then GitHub failed the check run: the retry must not send the
    status again, and what the caller records waits for a publication that completes."""
    status = fake_github.accept_status()
    create = fake_github.route(
        "POST",
        CHECK_RUNS,
        reply({"message": "Server Error"}, status=502),
        reply(load("check_run_created"), status=201),
    )
    recorded: list[str] = []
    result = evaluation()

    async def attempt() -> None:
        await send(gateway, memory_engine, result, also=lambda conn: recorded.append("evaluation"))

    with pytest.raises(GitHubError):
        await attempt()
    assert (status.call_count, create.call_count, recorded) == (1, 1, [])

    await attempt()

    assert (status.call_count, create.call_count, recorded) == (1, 2, ["evaluation"])
    row = check_run_publication(memory_engine)
    assert row is not None and row.check_run_id == RUN_ID


async def test_a_lane_prs_status_is_written_before_its_check_run_is_sent(
    gateway: GitHubGateway, memory_engine: Engine, fake_github: FakeGitHub
) -> None:
    """A merge queue may act on the status at once; what it asks is answered from our row."""
    fake_github.accept_status()
    written: list[list[str]] = []

    def create(request: httpx.Request) -> httpx.Response:
        with memory_engine.connect() as conn:
            written.append(sorted(conn.execute(select(PUBLICATIONS.c.kind)).scalars()))
        return reply(load("check_run_created"), status=201)

    fake_github.router.post(CHECK_RUNS).mock(side_effect=create)

    await send(gateway, memory_engine, evaluation())

    assert written == [[record.STATUS]]


async def test_what_was_sent_is_written_even_when_the_callers_record_fails(
    gateway: GitHubGateway, memory_engine: Engine, github: Writes
) -> None:
    def failing(conn: Connection) -> None:
        raise RuntimeError("the record could not be written")

    with pytest.raises(RuntimeError):
        await send(gateway, memory_engine, evaluation(), also=failing)

    row = check_run_publication(memory_engine)
    assert row is not None and row.check_run_id == RUN_ID
    # The retry sends nothing again: GitHub has it all.
    sent = len(github.requests)
    again = await send(gateway, memory_engine, evaluation())
    assert again == Published(status=False, check_run_requests=0)
    assert len(github.requests) == sent
