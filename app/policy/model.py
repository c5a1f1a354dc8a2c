"""The policy, typed: what ``policies/default.yml`` and a repository's override decide.

The model mirrors the YAML one section per class. It has no defaults of its own: the defaults
live in ``policies/default.yml`` only, and ``app.policy.loader`` always merges overrides over that
file, so there is one place to read (and change) what the runbook asks for. Rules import this
module and nothing else from ``app.policy``, because the loader reads files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    # Frozen so a policy can be cached and shared between evaluations; extra="forbid" mirrors
    # the schema's additionalProperties: false.
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class LaneMarkers(_Section):
    """The three markers of a hotfix PR (runbook steps 2-4)."""

    label: str
    branch_prefix: str
    title_prefix: str


class CleanupLane(_Section):
    """The return-to-normal-flow PR (runbook step 7)."""

    branch_prefix: str
    test_globs: tuple[str, ...]


class Incident(_Section):
    """How an incident id looks (runbook step 1)."""

    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        incident_regex(value)
        return value


# A policy file is written by whoever can push to a repository, and its patterns run on text
# the pull request's author writes: with Python's backtracking `re`, `(a+)+$` takes exponential
# time, holding the GIL (every job and webhook intake stall). RE2 runs in time linear in the
# text whatever the pattern; it has no backreferences or look-around and spells `\Z` as `\z`.
_RE2 = re2.Options()
_RE2.log_errors = False  # RE2 would print every pattern it refuses to stderr
# RE2 has no look-around either, so a whole token's neighbours are matched instead: a
# character that is no ASCII letter or digit, or an end of the text.
_EDGE = "[^A-Za-z0-9]"


def _re2(pattern: str) -> Any:
    try:
        return re2.compile(pattern, _RE2)
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args else "refused"
        raise ValueError(
            f"not a valid regular expression: {reason} (RE2 syntax: no backreferences "
            "or look-around)"
        ) from None


class TokenRegex:
    """A policy pattern, found only as a whole token: ``INC-2026-05-20-001`` is not in
    ``INC-2026-05-20-0012``. Raises ``ValueError`` for a pattern RE2 cannot run."""

    def __init__(self, pattern: str) -> None:
        # On its own first: "a)(b" is no pattern, but compiles inside the group below.
        _re2(pattern)
        self.pattern = pattern
        self._regex = _re2(rf"(?:^|{_EDGE})({pattern})(?:{_EDGE}|$)")

    def tokens(self, text: str) -> Iterator[str]:
        """Every occurrence in ``text``, in order; linear in the text whatever the pattern."""
        # Bytes: RE2's str API encodes the whole text again for every search.
        data = text.encode("utf-8", "surrogatepass")
        pos = 0
        while (match := self._regex.search(data, pos)) is not None:
            start, end = match.span(1)
            token = data[start:end].decode("utf-8", "surrogatepass")
            yield token
            # The edge matched after a token may be the next one's leading edge, and so may a
            # token's own last character (look-behind would see it): search again from there.
            last = token[-1:]
            pos = end - len(last.encode("utf-8", "surrogatepass")) if _edge(last) else end
            pos = max(pos, match.start() + 1)


def _edge(char: str) -> bool:
    return bool(char) and not (char.isascii() and char.isalnum())


@lru_cache(maxsize=32)
def incident_regex(pattern: str) -> TokenRegex:
    """The policy's incident pattern as a ``TokenRegex`` (compiled once per pattern)."""
    return TokenRegex(pattern)


class PeopleKeys(_Section):
    """The keys of the ``key: @login`` lines that name the approver and the cleanup owner."""

    approver: str
    cleanup_owner: str


class Trailers(_Section):
    commit: PeopleKeys
    body: PeopleKeys


class Teams(_Section):
    """Team slugs: who approves, who may bypass branch protection, who reviews the audit."""

    approvers: tuple[str, ...]
    bypass: str
    review: str


class Toggle(_Section):
    """A rule that only needs switching on or off."""

    enabled: bool


class DiffSize(Toggle):
    max_lines: int
    ignore: tuple[str, ...]


class SingleConcern(Toggle):
    max_top_level_dirs: int
    blocking: bool


class Scan(_Section):
    """The scan has no ``enabled``: the runbook never lets a hotfix skip it."""

    checks: tuple[str, ...]
    # When set, only check runs of these GitHub Apps count: anyone with write access can set a
    # commit status named "scan", but only the scanner's App can write its check run.
    apps: tuple[str, ...]
    # Commit statuses count as the scan only when this is true: anyone who can push can set one.
    allow_statuses: bool = False
    # A github-actions check run does not count as the scan when the PR changes these paths:
    # the PR could have written the workflow that reports its own scan.
    untrusted_when_changed: tuple[str, ...] = (".github/workflows/", ".github/actions/")


class FastPath(Toggle):
    checks: tuple[str, ...]


class Rules(_Section):
    """One section per rule, under the rule's id (hyphenated in YAML)."""

    markers: Toggle
    incident_id: Toggle = Field(alias="incident-id")
    no_chained_hotfix: Toggle = Field(alias="no-chained-hotfix")
    approver_named: Toggle = Field(alias="approver-named")
    approver_authorized: Toggle = Field(alias="approver-authorized")
    approver_confirmed: Toggle = Field(alias="approver-confirmed")
    cleanup_owner: Toggle = Field(alias="cleanup-owner")
    preflight: Toggle
    diff_size: DiffSize = Field(alias="diff-size")
    single_concern: SingleConcern = Field(alias="single-concern")
    scan: Scan
    fast_path: FastPath = Field(alias="fast-path")
    cleanup_links_hotfix: Toggle = Field(alias="cleanup-links-hotfix")
    cleanup_full_pipeline: Toggle = Field(alias="cleanup-full-pipeline")
    cleanup_has_tests: Toggle = Field(alias="cleanup-has-tests")


class RateLimit(_Section):
    """More than ``max_hotfixes`` merged in ``window_days`` calls for a team review."""

    max_hotfixes: int
    window_days: int
    scope: Literal["organisation", "repository"]


class AuthorQuota(_Section):
    """Hotfixes by one author in a calendar quarter ("the hotfix became normal")."""

    # Past this many, the check run carries a "process bug" note.
    note_after: int
    # Past this many, the audit channel gets a code-yellow notice.
    code_yellow_after: int


class FollowUps(_Section):
    """Deadlines counted from the merge of a hotfix (runbook steps 7-9).

    Durations may be fractions (``cleanup_hours: 0.01`` is 36 seconds), so a drill can run the
    whole cycle in minutes.
    """

    cleanup_hours: float
    postmortem_hours: float
    audit_review_days: float
    # Only for a hotfix that used the breakglass role.
    breakglass_hours: float
    # How long before a deadline its owner is reminded; None: a quarter of the window.
    remind_before_hours: float | None = None
    # Labels that mark a hotfix as having used the breakglass role (besides a ticked box).
    breakglass_labels: list[str]
    # Headings a postmortem must have (runbook step 8): each entry's words must all appear in
    # one heading, in any case ("why hotfix" matches "## Why was a hotfix needed?").
    postmortem_sections: list[str]


class Audit(_Section):
    channel: str
    # When true, the named approver must be the one who merges.
    approver_merges: bool
    # How far apart a merge and GitHub's audit-log policy override may be and still match.
    override_match_minutes: int
    # Approvals assumed required on a branch under classic protection (not readable by Apps).
    classic_protection_approvals: int


class StatusChannel(_Section):
    """Where hotfixes are declared (runbook step 1): one thread per incident."""

    channel: str


class Deploy(_Section):
    """Which deployments count as the hotfix shipped (runbook step 5)."""

    # GitHub deployment environments, matched case-insensitively; empty: any environment.
    environments: tuple[str, ...]
    # Who may report a deployment: App slugs or logins (the status's creator, or the App it
    # was made through); empty: anyone with write access (any status counts).
    creators: tuple[str, ...] = ()


Comparison = Literal["<", "<=", ">", ">="]


class Verify(_Section):
    """Re-querying the symptom metric after the hotfix shipped (runbook step 6); off while
    ``query`` is unset."""

    # PromQL, with ``{{ repo }}`` (owner/name), ``{{ name }}`` and ``{{ sha }}`` filled in.
    query: str | None
    # Recovered when the value (every series of it) compares to the threshold like this.
    threshold: float
    comparison: Comparison
    window_minutes: float = Field(gt=0)
    # At least 5 s: Prometheus is asked once per interval, across every hotfix verified.
    interval_seconds: float = Field(ge=5)

    @field_validator("query")
    @classmethod
    def _bounded(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and len(value) > 4000:
            raise ValueError("a verify query is at most 4000 characters")
        return value


class Drill(_Section):
    """A game-day drill: the whole lane as a dry run (runbook: stale after 90 days)."""

    label: str
    title_prefix: str
    # Follow-up deadlines are multiplied by this (1/60: a day's deadline in 24 minutes).
    time_scale: float = Field(gt=0, le=1)
    # Where drills may run: repository names (owner/name, ``*`` wildcards); empty: any. A
    # drill is not counted by the rate limit, so an organisation can keep them to sandboxes.
    repositories: tuple[str, ...] = ()


class Runbook(_Section):
    """When the runbook counts as stale: no hotfix or drill merged for this many days."""

    stale_after_days: int = Field(gt=0)


@dataclass(frozen=True)
class IgnoredKey:
    """A key a repository's file set that the organisation's floor did not let through."""

    source: str  # "owner/repo:path" of the file that set it
    key: str  # dotted: "rules.diff-size.max_lines"
    reason: str  # "locked by the organisation", "would loosen: 200 > 50"


class Policy(_Section):
    """The whole policy for one repository, after merging its override over the defaults."""

    lane: LaneMarkers
    cleanup: CleanupLane
    incident: Incident
    trailers: Trailers
    teams: Teams
    rules: Rules
    rate_limit: RateLimit
    author_quota: AuthorQuota
    follow_ups: FollowUps
    audit: Audit
    status: StatusChannel
    deploy: Deploy
    verify: Verify
    drill: Drill
    runbook: Runbook
    # "report": verdicts are published without blocking (status success, check run neutral
    # with the real verdict), for a rollout; "enforce": they block.
    mode: Literal["enforce", "report"]
    # Dotted keys only the organisation may set, besides those always locked (app.policy.floor).
    locked: tuple[str, ...]
    # What the repository's file set and the floor ignored: not policy, so never dumped.
    ignored: tuple[IgnoredKey, ...] = Field(default=(), exclude=True)
    # Which file set each key that is not the defaults' (dotted key, "owner/repo:path").
    sources: tuple[tuple[str, str], ...] = Field(default=(), exclude=True)


def ignored_note(ignored: tuple[IgnoredKey, ...]) -> str | None:
    """``Ignored in acme/api:.github/hotfix-lane.yml: rules.scan (locked by the organisation).``"""
    if not ignored:
        return None
    sources = dict.fromkeys(item.source for item in ignored)
    parts = [
        f"Ignored in {source}: "
        + "; ".join(f"{i.key} ({i.reason})" for i in ignored if i.source == source)
        + "."
        for source in sources
    ]
    return " ".join(parts)
