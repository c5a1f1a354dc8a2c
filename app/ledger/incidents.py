"""Declared incidents: the status channel's "DECLARING HOTFIX" message, once per incident.

The declaration is what the runbook's "When this runbook last worked" table measures from
(declaration to merge), so it is kept beside the hotfixes it announced.
"""

from __future__ import annotations


def declaration_key(org: str, incident_id: str | None, repo: str, number: int) -> str:
    """What makes a declaration one per incident: ``acme:INC-2026-05-20-001``, or the pull
    request (``acme/api#12``) when it names no incident. Organisations differ in case only on
    GitHub's side, so the organisation is lower-cased."""
    if incident_id:
        return f"{org.lower()}:{incident_id}"
    return f"{repo.lower()}#{number}"


def incident_subject(key: str) -> str:
    """The notice subject of an incident's thread in the status channel."""
    return f"incident:{key}"
