"""The policy schema served for editors, and the command's version."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest

from app.cli import main
from app.settings import Settings
from tests.harness import running_app

SHIPPED = Path(__file__).resolve().parents[1] / "policies" / "schema.json"


async def test_the_policy_schema_is_served_for_editors(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings()) as app:
        response = await app.client.get("/schema/hotfix-lane.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/schema+json"
    schema = response.json()
    assert schema == json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert {"lane", "rules", "verify", "drill"} <= set(schema["properties"])


def test_version_names_the_installed_release(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == f"hotfix-lane {version('hotfix-lane')}\n"
