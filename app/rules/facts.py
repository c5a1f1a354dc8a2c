"""What a pull request says about itself: its incident, its approver, its cleanup owner.

Several rules, the evaluation and (later) the ledger need the same answers, so they are worked
out here once. Logins are lower-cased: GitHub logins are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Literal

from app.policy.model import Policy
from app.rules import paths, text
from app.rules.model import Commit, PullRequestSnapshot

# A PR names one approver and one cleanup owner; a few more are a mistake to point out,
# thousands an attack (each name would cost GitHub membership lookups). Only the first ones
# named in the commits, and the first ones named in the body, are read.
MAX_NAMED = 5

# (team slug, login) pairs to look up, once each and most needed first: a set that keeps order.
MembershipPairs = AbstractSet[tuple[str, str]]


@dataclass(frozen=True)
class Named:
    """The logins named for one role, in commit messages and in the PR body."""

    in_commits: tuple[str, ...]
    in_body: tuple[str, ...]

    @property
    def everyone(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.in_commits + self.in_body))

    @property
    def first(self) -> str | None:
        return self.everyone[0] if self.everyone else None


def authored_commits(snapshot: PullRequestSnapshot) -> tuple[Commit, ...]:
    """The commits people wrote: merges of the base branch into the PR are left out.

    Only ``Commit.base_merge`` (two parents, the second on the base branch, as GitHub says)
    makes a merge; a message reading "Merge branch 'main'" is just text anyone can write.
    """
    return tuple(c for c in snapshot.commits if not c.base_merge)


@dataclass(frozen=True)
class Authorship:
    """How a login took part in writing a pull request's change.

    ``how`` is ``wrote`` (the PR's author, or a commit's author or committer by login),
    ``co-authored`` (a ``Co-authored-by:`` trailer, ``detail`` its value), or ``authored`` /
    ``committed`` (a commit whose e-mail, ``detail``, GitHub links to no account).
    """

    how: Literal["wrote", "co-authored", "authored", "committed"]
    commit: Commit | None = None
    detail: str = ""


def known_emails(snapshot: PullRequestSnapshot, login: str) -> frozenset[str]:
    """The e-mails that are ``login``'s, lower-cased: what the gateway read for the approver
    (``approver_emails``), GitHub's no-reply address, and the e-mails of ``login``'s own
    commits in this PR (GitHub linked those to the account)."""
    login = login.lower()
    emails = {*snapshot.approver_emails, f"{login}@users.noreply.github.com"}
    for c in snapshot.commits:
        for who, email in (
            (c.author_login, c.author_email),
            (c.committer_login, c.committer_email),
        ):
            if who and who.lower() == login and email:
                emails.add(email)
    return frozenset(email.lower() for email in emails)


def authorship(snapshot: PullRequestSnapshot, login: str) -> Authorship | None:
    """How ``login`` wrote any of the change (the first way found), or ``None``.

    GitHub links a commit's author and committer to accounts by e-mail, but not a trailer's
    e-mail, and a commit whose e-mail it links to nothing has no login at all: those are
    matched by e-mail (``known_emails``, and the login a no-reply address names) and by name
    (the login, or the profile name the gateway read). Merges of the base branch are skipped.
    """
    login = login.lower()
    commits = authored_commits(snapshot)
    logins = {snapshot.author_login.lower()} | {
        who.lower() for c in commits for who in (c.author_login, c.committer_login) if who
    }
    if login in logins:
        return Authorship("wrote")
    emails = known_emails(snapshot, login)
    names = {login} | ({snapshot.approver_name.casefold()} if snapshot.approver_name else set())

    def is_them(name: str | None, email: str | None) -> bool:
        email = email.lower() if email else None
        return (email is not None and (email in emails or text.noreply_login(email) == login)) or (
            name is not None and name.strip().casefold() in names
        )

    for c in commits:
        for trailer in c.co_authors:
            if is_them(*text.identity(trailer)):
                return Authorship("co-authored", c, trailer)
    for c in commits:
        unmapped: tuple[
            tuple[Literal["authored", "committed"], str | None, str | None, str | None], ...
        ] = (
            ("authored", c.author_login, c.author_name, c.author_email),
            ("committed", c.committer_login, c.committer_name, c.committer_email),
        )
        for how, who, name, email in unmapped:
            if who is None and is_them(name, email):
                return Authorship(how, c, email or name or "")
    return None


def incident_ids(snapshot: PullRequestSnapshot, policy: Policy) -> list[str]:
    """Every distinct incident id in the title, the branch and the commits, in that order."""
    sources = [snapshot.title, snapshot.head_ref, *(c.message for c in authored_commits(snapshot))]
    return text.incident_ids("\n".join(sources), policy.incident.pattern)


def incident_id_of(snapshot: PullRequestSnapshot, policy: Policy) -> str | None:
    """The PR's incident: from the title, else the branch, else the first commit naming one."""
    ids = incident_ids(snapshot, policy)
    return ids[0] if ids else None


def _named(snapshot: PullRequestSnapshot, commit_key: str, body_key: str) -> Named:
    in_commits: dict[str, None] = {}
    for c in authored_commits(snapshot):
        in_commits.update(dict.fromkeys(text.named_logins(c.message, commit_key, MAX_NAMED)))
        if len(in_commits) >= MAX_NAMED:
            break
    return Named(
        in_commits=tuple(in_commits)[:MAX_NAMED],
        in_body=tuple(text.named_logins(snapshot.body, body_key, MAX_NAMED)),
    )


def approvers(snapshot: PullRequestSnapshot, policy: Policy) -> Named:
    """Approvers named by ``approver: @login`` (commits) and ``Approver: @login`` (body)."""
    return _named(snapshot, policy.trailers.commit.approver, policy.trailers.body.approver)


def cleanup_owners(snapshot: PullRequestSnapshot, policy: Policy) -> Named:
    """Cleanup owners named by ``cleanup: @login`` (commits) and ``Cleanup-owner:`` (body)."""
    keys = policy.trailers
    return _named(snapshot, keys.commit.cleanup_owner, keys.body.cleanup_owner)


def named_approver(snapshot: PullRequestSnapshot, policy: Policy) -> str | None:
    """The approver of record: the first named in a commit, else in the body."""
    return approvers(snapshot, policy).first


def named_cleanup_owner(snapshot: PullRequestSnapshot, policy: Policy) -> str | None:
    """The cleanup owner of record: the first named in a commit, else in the body."""
    return cleanup_owners(snapshot, policy).first


def has_hotfix_label(snapshot: PullRequestSnapshot, policy: Policy) -> bool:
    """The hotfix label, or in a drill the drill's label, which stands in for it."""
    # GitHub label names are unique regardless of case.
    labels = {label.lower() for label in snapshot.labels}
    return policy.lane.label.lower() in labels or policy.drill.label.lower() in labels


def has_hotfix_title(snapshot: PullRequestSnapshot, policy: Policy) -> bool:
    """The title starts with the hotfix prefix, or with the drill's (``DRILL: HOTFIX: ...``
    and ``DRILL: ...`` both read as a drilled hotfix)."""
    title = snapshot.title.strip().lower()
    return title.startswith(policy.lane.title_prefix.lower()) or title.startswith(
        policy.drill.title_prefix.lower()
    )


def is_drill(snapshot: PullRequestSnapshot, policy: Policy) -> bool:
    """A game-day drill: the drill's label or title prefix, in a repository drills may run in
    (``drill.repositories``; any when empty). Drills run the whole lane as a dry run and are
    never counted by the rate limit or the author quota; elsewhere the markers make a hotfix."""
    allowed = policy.drill.repositories
    repo = snapshot.repo_full_name.lower()
    if allowed and not paths.matches_any(repo, [pattern.lower() for pattern in allowed]):
        return False
    labels = {label.lower() for label in snapshot.labels}
    title = snapshot.title.strip().lower()
    return policy.drill.label.lower() in labels or title.startswith(
        policy.drill.title_prefix.lower()
    )


def symptom(title: str, policy: Policy) -> str:
    """What the incident looks like, from the PR title: without the drill and hotfix prefixes
    and a leading incident id (``HOTFIX: INC-2026-05-20-001 catalog nil-deref`` says
    ``catalog nil-deref``)."""
    rest = title.strip()
    for prefix in (policy.drill.title_prefix, policy.lane.title_prefix):
        if rest.lower().startswith(prefix.lower()):
            rest = rest[len(prefix) :].strip()
    ids = text.incident_ids(rest, policy.incident.pattern)
    if ids and rest.startswith(ids[0]):
        rest = rest[len(ids[0]) :].lstrip(" :-—").strip()
    return rest or title.strip()


class Memberships(Mapping[str, frozenset[str]]):
    """What ``snapshot.teams`` holds: team slug -> the logins confirmed as active members.

    The gateway looks up only so many (team, login) pairs per evaluation; ``unchecked`` are
    the pairs past that ``cap``. They count as no member (fail closed), and are kept so that
    a rule can say why someone was not confirmed.
    """

    def __init__(
        self,
        members: Mapping[str, Iterable[str]],
        *,
        unchecked: Iterable[tuple[str, str]] = (),
        cap: int | None = None,
    ) -> None:
        self._members = {team: frozenset(logins) for team, logins in members.items()}
        self.unchecked = frozenset(unchecked)
        self.cap = cap

    def __getitem__(self, team: str) -> frozenset[str]:
        return self._members[team]

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __repr__(self) -> str:
        return f"Memberships({self._members!r}, unchecked={sorted(self.unchecked)!r})"


def in_order(pairs: Iterable[tuple[str, str]]) -> MembershipPairs:
    """``(team, login)`` pairs once each, logins lower-cased, in the order given (a set that
    keeps its order: the gateway looks up the first ones first)."""
    return dict.fromkeys((team, login.lower()) for team, login in pairs).keys()


def unchecked(snapshot: PullRequestSnapshot, team: str, login: str) -> bool:
    """Whether ``login``'s membership of ``team`` was not looked up: the lookups were capped."""
    teams = snapshot.teams
    return isinstance(teams, Memberships) and (team, login.lower()) in teams.unchecked


def membership_cap(snapshot: PullRequestSnapshot) -> int | None:
    """How many membership lookups the gateway made at most for ``snapshot`` (None: unknown)."""
    return snapshot.teams.cap if isinstance(snapshot.teams, Memberships) else None
