"""The commit status body, exactly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.lane.status import build_status, details_url
from app.rules.model import State
from app.settings import Settings
from tests.lane.samples import evaluation


def test_the_status_body_is_exact() -> None:
    assert build_status(evaluation(State.FAILURE), target_url=None) == {
        "state": "failure",
        "context": "hotfix-lane/policy",
        "description": "Approver missing: name an SRE lead or engineering manager",
    }


def test_target_url_appears_only_with_a_page_to_link() -> None:
    body = build_status(evaluation(), target_url="https://hotfix-lane.acme.example/a/b/pull/7")
    assert body["target_url"] == "https://hotfix-lane.acme.example/a/b/pull/7"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param(
            {"web_auth": "none"},
            "https://hotfix-lane.acme.example/acme/api/pull/7",
            id="the web view on: the pull request's details page",
        ),
        pytest.param(
            {
                "github_client_id": "Iv1.0123",
                "github_client_secret": "s3cr3t-client",
                "session_secret": "s3cr3t-session",
            },
            "https://hotfix-lane.acme.example/acme/api/pull/7",
            id="signed in with GitHub",
        ),
        pytest.param({}, None, id="the web view off: no link to a page that is not served"),
        pytest.param(
            {"web_auth": "none", "public_url": None}, None, id="no public address: no link"
        ),
    ],
)
def test_the_details_link_is_the_pull_requests_page_when_there_is_one(
    make_settings: Callable[..., Settings], changes: dict[str, Any], expected: str | None
) -> None:
    settings = make_settings(**{"public_url": "https://hotfix-lane.acme.example", **changes})

    assert details_url(settings, "acme/api", 7) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State.SUCCESS, "success"),
        (State.FAILURE, "failure"),
        (State.PENDING, "pending"),
        (State.ERROR, "error"),
    ],
)
def test_every_state_maps_to_a_status_state(state: State, expected: str) -> None:
    assert build_status(evaluation(state), target_url=None)["state"] == expected


def test_long_descriptions_say_less_in_whole_sentences_on_one_line() -> None:
    long = "Changed lines: 212 of at most 50.\n" + "Split the change; " * 20
    description = build_status(evaluation(description=long), target_url=None)["description"]
    assert description == "Changed lines: 212 of at most 50."


def test_a_description_with_no_piece_that_fits_points_at_the_check_run() -> None:
    description = build_status(evaluation(description="x" * 200), target_url=None)["description"]
    assert description == "See the hotfix-lane check run."
