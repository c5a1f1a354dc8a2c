"""The author's quarter: a note, not a rule, when one engineer keeps shipping hotfixes.

Footgun "the hotfix became normal": more than one hotfix a quarter by the same engineer means
the team has a process bug, not a tool problem. The check run says so; nothing is blocked.
"""

from __future__ import annotations

from app.policy.model import Policy
from app.rules.model import PullRequestSnapshot
from app.rules.text import plural


def process_bug_note(snapshot: PullRequestSnapshot, policy: Policy) -> str | None:
    """The note for the check run, once this hotfix takes its author past ``note_after``.

    The author's overdue follow-ups this quarter count too: a cleanup PR or postmortem left
    undone is the same process bug as another hotfix.
    """
    history = snapshot.history
    if history is None:
        return None
    count = history.author_this_quarter + 1  # this one included
    overdue = history.author_overdue_this_quarter
    if count + overdue <= policy.author_quota.note_after:
        return None
    hotfixes = f"{count} hotfix" if count == 1 else f"{count} hotfixes"
    owed = f" and {plural(overdue, 'overdue follow-up')}" if overdue else ""
    return (
        f"**Process bug?** With this one, @{snapshot.author_login} has "
        f"{hotfixes}{owed} in {history.quarter}. More than one a quarter means "
        "the normal pipeline is failing the team: look at why hotfixes keep being needed (slow "
        "CI, missing rollback targets) in the postmortem."
    )
