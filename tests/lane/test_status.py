"""The commit status body, exactly."""

from __future__ import annotations

import pytest

from app.lane.status import build_status
from app.rules.model import State
from tests.lane.samples import evaluation


def test_the_status_body_is_exact() -> None:
    assert build_status(evaluation(State.FAILURE), public_url=None) == {
        "state": "failure",
        "context": "hotfix-lane/policy",
        "description": "Approver missing: name an SRE lead or engineering manager",
    }


def test_target_url_appears_only_with_a_public_url() -> None:
    body = build_status(evaluation(), public_url="https://hotfix-lane.acme.example")
    assert body["target_url"] == "https://hotfix-lane.acme.example"


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
    assert build_status(evaluation(state), public_url=None)["state"] == expected


def test_long_descriptions_say_less_in_whole_sentences_on_one_line() -> None:
    long = "Changed lines: 212 of at most 50.\n" + "Split the change; " * 20
    description = build_status(evaluation(description=long), public_url=None)["description"]
    assert description == "Changed lines: 212 of at most 50."


def test_a_description_with_no_piece_that_fits_points_at_the_check_run() -> None:
    description = build_status(evaluation(description="x" * 200), public_url=None)["description"]
    assert description == "See the hotfix-lane check run."
