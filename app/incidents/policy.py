"""The policy the incident loop's jobs read: the repository's, or the defaults without an App."""

from __future__ import annotations

from app.policy.loader import default_policy
from app.policy.lookup import policy_or_defaults
from app.policy.model import Policy
from app.services import Services


async def policy_for(services: Services, installation_id: int | None, repo: str) -> Policy:
    """A repository's policy (its defaults when the file is broken: a job about the past must
    not stop on it), or the defaults when it cannot be read (no App configured)."""
    if services.gateway is None or installation_id is None:
        return default_policy()
    return await policy_or_defaults(services.gateway, installation_id, repo, None)
