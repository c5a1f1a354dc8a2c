"""The ``/hotfix`` comment commands: how a comment is read, and the help text.

A command is the first line of a comment, ``/hotfix <name> [argument]``; the rest of the
comment is free text for people. Pure: who may run a command is decided by its handler.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "/hotfix"
# A URL argument longer than this is not a link anyone typed.
MAX_ARGUMENT = 2000

# name -> (argument, what it does), in the order the help lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "approve": ("", "the named approver confirms the hotfix at its current head"),
    "team-reviewed": ("", "a review-team member signs off a hotfix past the rate limit"),
    "postmortem": ("<URL>", "the cleanup owner, author or approver links the postmortem"),
    "audit-reviewed": (
        "",
        "a review-team member who is not the author, the approver or who merged it records "
        "the audit-log review",
    ),
    "breakglass-cleaned": (
        "<URL>",
        "links the finished breakglass cleanup checklist (only when the breakglass role was used)",
    ),
    "help": ("", "lists these commands"),
}


@dataclass(frozen=True)
class Command:
    name: str  # lower-cased; may be unknown
    argument: str | None

    @property
    def known(self) -> bool:
        return self.name in COMMANDS


def parse(body: str) -> Command | None:
    """The command in a comment's first line, or None when it is not a ``/hotfix`` command."""
    lines = body.strip().splitlines()
    if not lines:
        return None
    words = lines[0].split()
    if not words or words[0].lower() != PREFIX:
        return None
    name = words[1].lower() if len(words) > 1 else "help"
    argument = words[2] if len(words) > 2 else None
    if argument is not None and len(argument) > MAX_ARGUMENT:
        argument = argument[:MAX_ARGUMENT]
    return Command(name=name[:64], argument=argument)


def help_text(unknown: str | None = None) -> str:
    """The reply to ``/hotfix help``, or to a command nobody knows."""
    lines = []
    if unknown is not None:
        lines.append(f"`{PREFIX} {unknown}` is not a command. These are:")
    else:
        lines.append("The `/hotfix` commands, on a hotfix PR or its tracking issue:")
    lines.append("")
    for name, (argument, meaning) in COMMANDS.items():
        usage = f"{PREFIX} {name} {argument}".rstrip()
        lines.append(f"- `{usage}`: {meaning}.")
    return "\n".join(lines)
