"""Reading ``/hotfix`` commands, and the help text."""

from __future__ import annotations

import pytest

from app.rules.commands import Command, help_text, parse


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "/hotfix audit-reviewed", Command("audit-reviewed", None), id="a bare command"
        ),
        pytest.param(
            "/hotfix postmortem https://x.example/pm\nthanks",
            Command("postmortem", "https://x.example/pm"),
            id="an argument, and text after",
        ),
        pytest.param("  /HOTFIX Help  ", Command("help", None), id="any case and spacing"),
        pytest.param("/hotfix", Command("help", None), id="no name asks for help"),
        pytest.param(
            "/hotfix frobnicate",
            Command("frobnicate", None),
            id="an unknown name is still a command",
        ),
        pytest.param("please /hotfix help", None, id="not at the start of the comment"),
        pytest.param("/hotfixes help", None, id="another word"),
        pytest.param("", None, id="an empty comment"),
    ],
)
def test_parse(body: str, expected: Command | None) -> None:
    assert parse(body) == expected


def test_known_commands() -> None:
    command = parse("/hotfix postmortem x")
    assert command is not None and command.known
    assert not Command("frobnicate", None).known


def test_an_overlong_argument_is_cut() -> None:
    command = parse("/hotfix postmortem https://x.example/" + "a" * 5000)
    assert command is not None and command.argument is not None
    assert len(command.argument) == 2000


def test_the_help_lists_every_command() -> None:
    text = help_text()
    for usage in (
        "`/hotfix approve`",
        "`/hotfix team-reviewed`",
        "`/hotfix postmortem <URL>`",
        "`/hotfix audit-reviewed`",
        "`/hotfix breakglass-cleaned <URL>`",
        "`/hotfix help`",
    ):
        assert usage in text


def test_an_unknown_command_is_named_in_the_help() -> None:
    assert help_text("frobnicate").startswith("`/hotfix frobnicate` is not a command. These are:")
