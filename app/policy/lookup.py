"""A repository's policy: its layers fetched by whoever can read GitHub, parsed here once.

Fetching the files is the gateway's (this layer does no I/O of its own); parsing and schema
validation are memoised on the exact file texts, so an unchanged policy costs nothing.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Protocol

from app.policy.layers import PolicyLayer
from app.policy.loader import (
    DEFAULT_SOURCE,
    PolicyError,
    default_policy,
    default_policy_text,
    load_policy,
)
from app.policy.model import Policy

log = logging.getLogger(__name__)


class PolicyFiles(Protocol):
    """Where the policy files come from (the GitHub gateway)."""

    async def policy_layers(
        self, installation_id: int, repo_full_name: str, default_branch: str | None
    ) -> list[PolicyLayer]: ...


@lru_cache(maxsize=256)
def _parsed(layers: tuple[PolicyLayer, ...]) -> Policy:
    return load_policy(layers)


async def repository_policy(
    files: PolicyFiles, installation_id: int, repo_full_name: str, default_branch: str | None
) -> Policy:
    """The defaults, then the organisation's file, then what the repository's may tighten.

    What the repository's file may not set is on the result's ``ignored``. Raises
    ``PolicyError`` (naming file and key) for an invalid file.
    """
    layers = await files.policy_layers(installation_id, repo_full_name, default_branch)
    return _parsed((PolicyLayer(DEFAULT_SOURCE, default_policy_text()), *layers))


async def policy_or_defaults(
    files: PolicyFiles, installation_id: int, repo_full_name: str, default_branch: str | None
) -> Policy:
    """The repository's policy, or the defaults when its file is invalid.

    For what must happen whatever the file says (recording a merge, a team sign-off); the
    evaluation itself publishes ``error`` for an invalid file instead.
    """
    try:
        return await repository_policy(files, installation_id, repo_full_name, default_branch)
    except PolicyError as exc:
        log.warning("invalid policy for %s, using the defaults here: %s", repo_full_name, exc)
        return default_policy()
