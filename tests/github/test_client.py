"""The HTTP client under the gateway: no cookies kept, check-run bodies checked before sending."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.github.gateway import GitHubGateway
from tests.fakes.github import (
    INSTALLATION_ID,
    NUMBER,
    REPO,
    SHA,
    FakeGitHub,
    load,
    reply,
)


async def test_a_cookie_github_sets_is_never_sent_back(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    """One httpx client serves every request of an installation: whatever a reply sets must
    not ride along on the requests after it."""
    fake_github.get(
        f"/repos/{REPO}/pulls/{NUMBER}",
        reply(load("pull_request"), headers={"set-cookie": "session=abc; Path=/"}),
    )
    reviews = fake_github.get(f"/repos/{REPO}/pulls/{NUMBER}/reviews", reply([]))

    await gateway.pull_request(INSTALLATION_ID, REPO, NUMBER)
    await gateway.reviews(INSTALLATION_ID, REPO, NUMBER)

    assert reviews.call_count == 1
    assert "cookie" not in reviews.calls.last.request.headers


async def test_a_check_run_github_would_refuse_is_not_sent(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    """Bodies are checked against GitHub's REST description (githubkit's models) first."""
    created = fake_github.accept_check_run()

    with pytest.raises(ValidationError):
        await gateway.create_check_run(
            INSTALLATION_ID,
            REPO,
            {"name": "hotfix-lane", "head_sha": SHA, "status": "completed", "conclusion": "green"},
        )

    assert created.call_count == 0


async def test_a_check_run_is_sent_as_githubs_description_has_it(
    gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    created = fake_github.accept_check_run()
    body = {
        "name": "hotfix-lane",
        "head_sha": SHA,
        "status": "completed",
        "conclusion": "failure",
        "output": {"title": "1 rule fails", "summary": "approver-named fails"},
    }

    run_id = await gateway.create_check_run(INSTALLATION_ID, REPO, body)

    assert run_id == load("check_run_created")["id"]
    assert fake_github.sent_json(created) == [body]
