"""The web view in a real headless Chromium against the real ``hotfix-lane serve``.

GitHub (its API and its OAuth pages) is the shared fake served on 127.0.0.1. A hotfix is
merged (its follow-ups long overdue: the fixtures' merge is in May) and another one is open;
then people sign in through GitHub and look. Screenshots land in test-artefacts/.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page
from sqlmodel import Session, col, select

from app.store.db import make_engine
from app.store.models import Job
from tests.conftest import load_fixture, webhook_headers
from tests.fakes.github import REPO, FakeGitHub
from tests.lane.scenario import Repo
from tests.web.browser import save_screenshot
from tests.web.conftest import CLIENT_ID, CLIENT_SECRET, SIGN_IN_ENV

MERGED, OPEN = 4321, 4322
OPEN_SHA = "4322" * 10


@pytest.fixture
def served_app_env() -> Mapping[str, str]:
    return SIGN_IN_ENV


@pytest.fixture
def repo(fake_github: FakeGitHub) -> Repo:
    repo = Repo()
    repo.teams["platform-admins"] = {"carol"}
    repo.serve(fake_github)
    fake_github.oauth(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        users={"alice": [REPO], "mallory": ["acme/somewhere-else"]},
    )
    return repo


def deliver(base: str, database_url: str, event: str, payload: dict[str, Any], name: str) -> None:
    """POST a signed delivery to the served app and wait (with a deadline) until every job
    it made is done."""
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{base}/api/github/webhooks", content=body, headers=webhook_headers(body, event, name)
    )
    assert response.status_code == 202, response.text
    engine = make_engine(database_url)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            with Session(engine) as session:
                busy = session.exec(
                    select(Job).where(
                        col(Job.status).in_(("queued", "running")),
                        col(Job.run_at) <= time.time(),
                    )
                ).all()
                delivered = session.exec(select(Job).where(col(Job.key) == f"delivery:{name}"))
                done = [job.status for job in delivered] == ["done"]
            if done and not busy:
                return
            time.sleep(0.05)  # polling another process, with a deadline
    finally:
        engine.dispose()
    raise AssertionError(f"the jobs of {name} did not finish within 30 s")


def pull(name: str, number: int, head_sha: str | None = None) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture(name))
    payload["pull_request"]["number"] = number
    payload["pull_request"]["html_url"] = f"https://github.com/{REPO}/pull/{number}"
    if head_sha is not None:
        payload["pull_request"]["head"]["sha"] = head_sha
    return payload


async def sign_in(page: Page, base: str, fake_github: FakeGitHub, login: str) -> None:
    fake_github.oauth_login = login
    await page.goto(f"{base}/")
    await page.wait_for_url(f"{base}/")
    assert await page.locator("nav .who span").inner_text() == f"@{login}"


async def test_a_signed_in_person_follows_the_hotfix_from_dashboard_to_ledger(
    served_app: str,
    served_app_database_url: str,
    repo: Repo,
    fake_github: FakeGitHub,
    browser_page: Page,
    tmp_path: Path,
) -> None:
    base, db = served_app, served_app_database_url
    deliver(base, db, "pull_request", pull("pull_request.opened", MERGED), "merged-opened")
    deliver(base, db, "pull_request", pull("pull_request.closed", MERGED), "merged-closed")
    deliver(base, db, "pull_request", pull("pull_request.opened", OPEN, OPEN_SHA), "open-opened")

    page = browser_page
    await sign_in(page, base, fake_github, "alice")

    open_row = page.locator(f'#open-hotfixes tr[data-pr="{REPO}#{OPEN}"]')
    assert await open_row.count() == 1
    overdue = page.locator(f'#follow-ups tr.follow-up.overdue[data-pr="{REPO}#{MERGED}"]')
    assert await overdue.count() == 3  # cleanup PR, postmortem, audit review: all past due
    assert "OVERDUE" in await overdue.first.inner_text()
    assert "cleanup PR" in await overdue.first.inner_text()
    await save_screenshot(page, "dashboard")

    # The check run's Details link opens the pull request's page.
    runs = [
        json.loads(call.request.content)
        for call in fake_github.router.calls
        if call.request.method == "POST" and call.request.url.path.endswith("/check-runs")
    ]
    details = [run["details_url"] for run in runs if "details_url" in run]
    assert f"{base}/{REPO}/pull/{OPEN}" in details
    await page.goto(f"{base}/{REPO}/pull/{OPEN}")
    assert await page.locator("h1").inner_text() == (
        f"{REPO}#{OPEN} HOTFIX: INC-2026-05-20-001 catalog nil-deref on missing tenant header"
    )
    assert await page.locator('#verdicts tr[data-rule="scan"]').count() == 1
    await save_screenshot(page, "details")

    await page.goto(f"{base}/ledger")
    async with page.expect_download() as download_info:
        await page.click("#ledger-csv")
    download = await download_info.value
    saved = tmp_path / "ledger.csv"
    await download.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("merged_at,org,repository,number,incident_id")
    assert [line.split(",")[2:4] for line in lines[1:]] == [[REPO, str(MERGED)]]


async def test_a_person_who_cannot_read_the_repository_sees_none_of_its_hotfixes(
    served_app: str,
    served_app_database_url: str,
    repo: Repo,
    fake_github: FakeGitHub,
    browser_page: Page,
) -> None:
    base, db = served_app, served_app_database_url
    deliver(base, db, "pull_request", pull("pull_request.opened", MERGED), "merged-opened")
    deliver(base, db, "pull_request", pull("pull_request.closed", MERGED), "merged-closed")

    page = browser_page
    await sign_in(page, base, fake_github, "mallory")

    assert REPO not in await page.locator("main").inner_text()
    response = await page.goto(f"{base}/{REPO}/pull/{MERGED}")
    assert response is not None and response.status == 404
    await page.goto(f"{base}/ledger")
    assert await page.locator("#ledger tr[data-pr]").count() == 0
    await save_screenshot(page, "mallory-ledger")
