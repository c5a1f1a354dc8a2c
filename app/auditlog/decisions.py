"""Which audit notice an audit-log event calls for: pure decisions, no I/O, no clock.

Runbook step 3 lets only the bypass team merge past branch protection, and step 9 has a
platform-team member review every admin action in the hotfix window. GitHub's audit log is
where those actions show, so these events are announced in the audit channel:

- ``protected_branch.policy_override``: a merge or push past branch protection, posted as it
  arrives with the rules it overrode. Whether a hotfix is behind it needs the database: it is
  matched to the ledger's hotfix in ``app.auditlog.correlate``, which answers in its thread.
- a ruleset bypass (``RULESET_BYPASS_ACTIONS``);
- branch protection (or a ruleset) weakened or deleted: it makes the next bypass invisible;
- a member added to the bypass team: it decides who can bypass at all.

Action names and fields are GitHub's (docs.github.com, "Audit log events for your
organization"; the catalogue lives in github/docs ``src/audit-logs/data``). Every other action
is stored and announces nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from app.auditlog.events import AuditEntry
from app.notify import notices
from app.notify.notices import Notice

POLICY_OVERRIDE = "protected_branch.policy_override"
# GitHub's catalogue has no ruleset-bypass action: ruleset bypasses show in rule insights. The
# name below is the one forwarders and SIEM rules use for them, so a stream that carries it is
# announced; a bypass of classic protection is ``protected_branch.policy_override``.
RULESET_BYPASS_ACTIONS = frozenset({"repository_ruleset.bypass"})
PROTECTION_DELETED_ACTIONS = frozenset(
    {
        "protected_branch.destroy",
        "repository_ruleset.destroy",
        "repository_branch_protection_evaluation.disable",
    }
)
TEAM_ADD_MEMBER = "team.add_member"

_UNKNOWN = "unknown"


@dataclass(frozen=True)
class _Setting:
    """One branch-protection setting an ``protected_branch.update_*`` action changes."""

    field: str
    # The new value read from the event -> a description if it weakens protection, else None.
    weakens: Callable[[object], str | None]


def _level_off(label: str) -> Callable[[object], str | None]:
    """Enforcement levels: 0/"off", 1/"non_admins", 2/"everyone". Off is weaker whatever it
    was before; "non_admins" only exempts admins, which ``update_admin_enforced`` reports."""
    return lambda value: f"{label} off" if _level(value) == 0 else None


def _level_on(label: str) -> Callable[[object], str | None]:
    """For permissions (force pushes, deletions) any level above off is a loosening."""
    return lambda value: label if (_level(value) or 0) > 0 else None


def _flag_off(label: str) -> Callable[[object], str | None]:
    return lambda value: label if _flag(value) is False else None


def _no_approvals(value: object) -> str | None:
    # Step 3: protection normally requires at least one approving review.
    count = _number(value)
    return "required approving reviews 0" if count is not None and count < 1 else None


PROTECTION_SETTINGS: Mapping[str, _Setting] = {
    "protected_branch.update_admin_enforced": _Setting(
        "admin_enforced", _flag_off("no longer enforced for administrators")
    ),
    "protected_branch.update_pull_request_reviews_enforcement_level": _Setting(
        "pull_request_reviews_enforcement_level", _level_off("required reviews")
    ),
    "protected_branch.update_required_approving_review_count": _Setting(
        "required_approving_review_count", _no_approvals
    ),
    "protected_branch.update_required_status_checks_enforcement_level": _Setting(
        "required_status_checks_enforcement_level", _level_off("required status checks")
    ),
    "protected_branch.update_strict_required_status_checks_policy": _Setting(
        "strict_required_status_checks_policy",
        _flag_off("branch no longer has to be up to date before merging"),
    ),
    "protected_branch.update_signature_requirement_enforcement_level": _Setting(
        "signature_requirement_enforcement_level", _level_off("required signed commits")
    ),
    "protected_branch.update_linear_history_requirement_enforcement_level": _Setting(
        "linear_history_requirement_enforcement_level", _level_off("required linear history")
    ),
    "protected_branch.update_merge_queue_enforcement_level": _Setting(
        "merge_queue_enforcement_level", _level_off("required merge queue")
    ),
    "protected_branch.update_require_code_owner_review": _Setting(
        "require_code_owner_review", _flag_off("code owner review no longer required")
    ),
    "protected_branch.update_require_last_push_approval": _Setting(
        "require_last_push_approval", _flag_off("approval of the last push no longer required")
    ),
    "protected_branch.dismiss_stale_reviews": _Setting(
        "dismiss_stale_reviews_on_push", _flag_off("stale approvals no longer dismissed on push")
    ),
    "protected_branch.update_allow_force_pushes_enforcement_level": _Setting(
        "allow_force_pushes_enforcement_level", _level_on("force pushes allowed")
    ),
    "protected_branch.update_allow_deletions_enforcement_level": _Setting(
        "allow_deletions_enforcement_level", _level_on("branch deletion allowed")
    ),
}

# Rulesets: enforcement turned off or to "evaluate" (reported, not enforced).
_RULESET_NOT_ENFORCED = {"disabled": "ruleset disabled", "evaluate": "ruleset in evaluate mode"}


def notice_for(entry: AuditEntry, *, bypass_team: str, link: str | None) -> Notice | None:
    """The notice ``entry`` calls for when it arrives, if any (an override's later outcome
    is decided in ``correlate``)."""
    action = entry.action
    ref = entry.reference
    actor = entry.actor or _UNKNOWN
    repo = entry.repo or _UNKNOWN
    if action == POLICY_OVERRIDE:
        overridden, reasons = overridden_rules(entry.fields)
        return notices.policy_override(
            repo=repo,
            branch=protected_target(entry),
            actor=actor,
            overridden=overridden,
            reasons=reasons,
            document_id=ref,
            url=link,
        )
    if action in RULESET_BYPASS_ACTIONS:
        return notices.ruleset_bypass(
            repo=repo,
            ruleset=entry.text("ruleset_name", "name") or _UNKNOWN,
            ref=entry.text("ref", "branch") or _UNKNOWN,
            actor=actor,
            document_id=ref,
            url=link,
        )
    if action in PROTECTION_DELETED_ACTIONS:
        return notices.branch_protection_deleted(
            repo=repo, branch=protected_target(entry), actor=actor, document_id=ref, url=link
        )
    changes = weakening(entry)
    if changes is not None:
        return notices.branch_protection_weakened(
            repo=repo,
            branch=protected_target(entry),
            actor=actor,
            changes=changes,
            document_id=ref,
            url=link,
        )
    if action == TEAM_ADD_MEMBER and is_bypass_team(entry.text("team"), bypass_team):
        team = entry.text("team") or bypass_team
        return notices.bypass_team_member_added(
            org=entry.org or (team.split("/", 1)[0] if "/" in team else _UNKNOWN),
            team=team,
            member=entry.text("user") or _UNKNOWN,
            actor=actor,
            document_id=ref,
            url=link,
        )
    return None


def overridden_rules(fields: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """What an override overrode: the rule codes (``overridden_codes``, else the codes of its
    ``reasons``) and GitHub's messages about them (``Required status check "e2e" is
    expected.``). Either may be missing or oddly shaped in a forwarded event: read leniently."""
    reasons = fields.get("reasons")
    listed = reasons if isinstance(reasons, list) else []
    items = [item for item in listed if isinstance(item, dict)]
    messages = _strings(item.get("message") for item in items)
    codes = fields.get("overridden_codes")
    overridden = _strings(codes) if isinstance(codes, list) else []
    return overridden or _strings(item.get("code") for item in items), messages


def _strings(values: Iterable[object]) -> list[str]:
    """The non-empty strings among ``values``, stripped, each once, in order."""
    kept = [value.strip() for value in values if isinstance(value, str) and value.strip()]
    return list(dict.fromkeys(kept))


def weakening(entry: AuditEntry) -> list[str] | None:
    """What weakened protection, if ``entry`` did; ``[]`` when it may have but does not say.

    An event that only tightens protection (approvals set to 2, admin enforcement on) is not
    a weakening and returns ``None``.
    """
    setting = PROTECTION_SETTINGS.get(entry.action)
    if setting is not None:
        if entry.fields.get(setting.field) is None:
            return []  # the new value is missing: announce rather than guess
        change = setting.weakens(entry.fields[setting.field])
        return [change] if change is not None else None
    if entry.action == "repository_ruleset.update":
        return _ruleset_weakening(entry.fields)
    return None


def _ruleset_weakening(fields: Mapping[str, Any]) -> list[str] | None:
    changes: list[str] = []
    enforcement = fields.get("ruleset_enforcement")
    if isinstance(enforcement, str) and enforcement.lower() in _RULESET_NOT_ENFORCED:
        changes.append(_RULESET_NOT_ENFORCED[enforcement.lower()])
    if fields.get("ruleset_bypass_actors_added"):
        changes.append("bypass actors added")
    removed = fields.get("ruleset_rules_deleted")
    if removed:
        changes.append("rules removed" + _rule_types(removed))
    return changes or None


def _rule_types(rules: object) -> str:
    """``: pull_request, required_status_checks`` from the removed rules, when named."""
    items = rules if isinstance(rules, list) else [rules]
    names = [
        str(item.get("type")) if isinstance(item, dict) and item.get("type") else None
        for item in items
    ]
    known = [name for name in names if name]
    return f": {', '.join(known)}" if known and len(known) == len(names) else ""


def protected_target(entry: AuditEntry) -> str:
    """The branch (or ruleset) an event is about, as people read it (``main``)."""
    ruleset = entry.text("ruleset_name")
    if entry.action.startswith("repository_ruleset.") and ruleset:
        return f'ruleset "{ruleset}"'
    if entry.action == "repository_branch_protection_evaluation.disable":
        return "all branches"
    branch = branch_of(entry)
    if branch is None and entry.action.startswith("repository_ruleset."):
        return "a ruleset"
    return branch or _UNKNOWN


def branch_of(entry: AuditEntry) -> str | None:
    """The branch an event names, as a pull request's ``base.ref`` does (``main``)."""
    branch = entry.text("branch", "name", "ref")
    return display_branch(branch) if branch else None


def display_branch(ref: str) -> str:
    """A branch as people read it and as a pull request's ``base.ref`` names it: ``main`` for
    the audit log's ``refs/heads/main``."""
    return ref.removeprefix("refs/heads/")


def is_bypass_team(team: str | None, bypass_team: str) -> bool:
    """Whether the audit log's ``org/slug`` names the policy's bypass team (slug, any org)."""
    if not team:
        return False
    return _slug(team) == _slug(bypass_team)


def _slug(team: str) -> str:
    return team.strip().removeprefix("@").rsplit("/", 1)[-1].lower()


def audit_log_url(api_url: str, org: str | None) -> str | None:
    """The organisation's audit-log page on the GitHub that ``GITHUB_API_URL`` belongs to."""
    if not org:
        return None
    parts = urlsplit(api_url)
    host = parts.netloc
    if host == "api.github.com":
        base = "https://github.com"
    elif host.startswith("api."):  # GitHub Enterprise Cloud with data residency (api.<sub>)
        base = f"{parts.scheme}://{host.removeprefix('api.')}"
    else:  # GitHub Enterprise Server: https://<host>/api/v3
        base = f"{parts.scheme}://{host}"
    return f"{base}/organizations/{org}/settings/audit-log"


# --- lenient readers of the values GitHub and forwarders send ---------------------------------

_LEVELS = {"off": 0, "non_admins": 1, "everyone": 2}


def _level(value: object) -> int | None:
    if isinstance(value, str) and value.strip().lower() in _LEVELS:
        return _LEVELS[value.strip().lower()]
    return _number(value)


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None
