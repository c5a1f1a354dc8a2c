"""A push to a policy file seen by one process drops the cached policy in every process.

Two gateways on one database stand for two replicas; the fake GitHub serves the file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import Engine

from app.github.gateway import GitHubGateway
from app.github.payloads import PushEvent
from app.settings import Settings
from app.store import policy_changes
from tests.conftest import load_fixture
from tests.fakes.clock import FakeClock
from tests.fakes.github import INSTALLATION_ID, REPO, FakeGitHub
from tests.lane.scenario import Repo

V1 = "rules:\n  diff-size:\n    max_lines: 40\n"
V2 = "rules:\n  diff-size:\n    max_lines: 30\n"


@pytest.fixture
def repo(fake_github: FakeGitHub) -> Repo:
    repo = Repo(repo_policy=V1)
    repo.serve(fake_github)
    return repo


async def repo_layer(gateway: GitHubGateway) -> str | None:
    layers = await gateway.policy_layers(INSTALLATION_ID, REPO, "main")
    return layers[-1].text


@pytest.fixture
async def replicas(
    settings: Settings, clock: FakeClock, engine: Engine
) -> AsyncIterator[tuple[GitHubGateway, GitHubGateway, GitHubGateway]]:

    async def sleep(_seconds: float) -> None:
        return None

    made = (
        GitHubGateway(
            settings, clock=clock, sleep=sleep, policy_changes=policy_changes.ChangeReader(engine)
        ),
        GitHubGateway(
            settings, clock=clock, sleep=sleep, policy_changes=policy_changes.ChangeReader(engine)
        ),
        GitHubGateway(settings, clock=clock, sleep=sleep),  # without the shared record
    )
    yield made
    for gateway in made:
        await gateway.aclose()


async def test_another_process_drops_its_cached_policy_after_the_push(
    replicas: tuple[GitHubGateway, GitHubGateway, GitHubGateway],
    repo: Repo,
    engine: Engine,
    clock: FakeClock,
) -> None:
    seen_push, other, unshared = replicas
    for gateway in replicas:
        assert await repo_layer(gateway) == V1

    repo.repo_policy = V2
    push = PushEvent.model_validate(load_fixture("push"))
    assert seen_push.note_push(push)
    policy_changes.record(engine, repo_full_name=REPO)
    clock.advance(seconds=2)

    assert await repo_layer(seen_push) == V2
    assert await repo_layer(other) == V2  # learnt from the store, not from the push
    assert await repo_layer(unshared) == V1  # what every other process saw before
