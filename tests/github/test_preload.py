"""Start-up imports: after ``preload`` a worker's first writes to GitHub import nothing more.

Run in a fresh interpreter each, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The first status, check run and comment of a process, against GitHub faked with respx;
# prints the githubkit and anyio modules those writes imported.
FIRST_WRITES = """
import asyncio, json, sys
import httpx, respx
from cryptography.hazmat.primitives.asymmetric import rsa
from app.github.gateway import GitHubGateway
from app.github.preload import preload
from app.settings import Settings
from tests.fakes.github import pem

API = "https://github.acme.example/api/v3"
settings = Settings(
    github_app_id="12345",
    github_private_key=pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    github_api_url=API,
    webhook_secret="s",
)
if sys.argv[1] == "preload":
    preload()
before = set(sys.modules)


async def first_writes() -> None:
    gateway = GitHubGateway(settings)
    with respx.mock(base_url=API) as router:
        router.post("/app/installations/4242/access_tokens").respond(
            201, json={"token": "t", "expires_at": "2099-01-01T00:00:00Z"}
        )
        router.post(path__regex=r"/statuses/").respond(201, json={"id": 1})
        router.post("/repos/acme/api/check-runs").respond(201, json={"id": 2})
        router.post("/repos/acme/api/issues/7/comments").respond(201, json={"id": 3})
        await gateway.set_status(4242, "acme/api", "a" * 40, {"state": "success",
                                 "context": "hotfix-lane/policy", "description": "ok"})
        await gateway.create_check_run(4242, "acme/api", {"name": "hotfix-lane",
                                       "head_sha": "a" * 40, "status": "in_progress"})
        await gateway.comment(4242, "acme/api", 7, "hello")
    await gateway.aclose()


asyncio.run(first_writes())
print(json.dumps(sorted(
    m for m in set(sys.modules) - before if m.startswith(("githubkit", "anyio"))
)))
"""


def first_write_imports(mode: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", FIRST_WRITES, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return imported


@pytest.mark.parametrize("mode", ["preload", "cold"])
def test_after_preload_the_first_writes_import_nothing(mode: str) -> None:
    imported = first_write_imports(mode)
    if mode == "preload":
        assert imported == []
    else:
        # Without it, the first writes import githubkit's models and anyio's backend.
        assert any(".models." in name for name in imported), imported
        assert "anyio._backends._asyncio" in imported
