"""A policy layer: one file, where it comes from, and whether the organisation or the repository
wrote it (the organisation's file is the floor the repository's may only tighten).

Also the Probot-style ``_extends`` of the organisation's file: ``_extends: base`` or
``_extends: acme/base`` puts ``acme/base:.github/hotfix-lane.yml`` under it, one level deep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import yaml

EXTENDS_KEY = "_extends"
_REPO_NAME = re.compile(r"^(?:(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/)?(?P<repo>[A-Za-z0-9._-]+)$")


class Scope(StrEnum):
    """Who wrote a layer: the organisation (and the defaults) sets the floor."""

    ORGANISATION = "organisation"
    REPOSITORY = "repository"


@dataclass(frozen=True)
class PolicyLayer:
    """One policy file: ``source`` is ``owner/repo:path``, ``text`` None when there is none.

    ``problem`` is set when the layer an organisation file's ``_extends`` names cannot be used
    (missing, another organisation's, a cycle, a chain): ``load_policy`` raises it as a
    ``PolicyError`` on the ``_extends`` key of ``extended_by``, so that a typo in the floor fails
    closed (an ``error`` status) instead of silently dropping the floor it meant to pull in.
    """

    source: str
    text: str | None
    scope: Scope = Scope.ORGANISATION
    extended_by: str | None = None
    problem: str | None = None


def extends_of(text: str | None) -> Any:
    """The ``_extends`` value of a policy file's text; None if absent or unreadable.

    An unreadable file is reported by ``load_policy`` with its line; here it only has no base.
    """
    if text is None or EXTENDS_KEY not in text:
        return None
    try:
        data = yaml.safe_load(text)
    except Exception:  # PyYAML documents no complete list; load_policy reports it properly
        return None
    return data.get(EXTENDS_KEY) if isinstance(data, dict) else None


def resolve_extends(org_repo: str, value: Any) -> tuple[str | None, str | None]:
    """``(owner/repo, None)`` the organisation file ``org_repo`` extends, or ``(None, why not)``."""
    owner = org_repo.split("/", 1)[0]
    match = _REPO_NAME.match(value) if isinstance(value, str) else None
    if match is None:
        return None, "must name a repository: 'repo' or 'owner/repo'"
    target_owner = match.group("owner") or owner
    target = f"{target_owner}/{match.group('repo')}"
    if target_owner.lower() != owner.lower():
        return None, f"{target} is not in the organisation {owner}"
    if target.lower() == org_repo.lower():
        return None, f"{target} is the organisation's own file: a cycle"
    return target, None
