"""The author's quarter: a note, not a rule, when one engineer keeps shipping hotfixes.

Footgun "the hotfix became normal": more than one hotfix a quarter by the same engineer means
the team has a process bug, not a tool problem. The check run says so; nothing is blocked.
"""

from __future__ import annotations

from app.policy.model import Policy
from app.rules.model import PullRequestSnapshot


def process_bug_note(snapshot: PullRequestSnapshot, policy: Policy) -> str | None:
    """The note for the check run, once this hotfix takes its author past ``note_after``."""
    history = snapshot.history
    if history is None:
        return None
    count = history.author_this_quarter + 1  # this one included
    if count <= policy.author_quota.note_after:
        return None
    return (
        f"**Process bug?** With this one, @{snapshot.author_login} has {count} hotfixes in "
        f"{history.quarter}. More than one a quarter means the normal pipeline is failing the "
        "team: look at why hotfixes keep being needed (slow CI, missing rollback targets) in "
        "the postmortem."
    )
