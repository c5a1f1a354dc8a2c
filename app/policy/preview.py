"""What an organisation's file and a repository's file make together, without GitHub.

``hotfix-lane validate-config --org FILE --repo FILE`` shows the effective policy a
repository gets and every key of its file that the organisation's floor ignored, so a
platform team can check a change before pushing it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.policy.layers import PolicyLayer, Scope, extends_of
from app.policy.loader import (
    DEFAULT_SOURCE,
    PolicyError,
    default_policy_text,
    load_policy,
    validate_policy_file,
)


@dataclass
class Preview:
    """The effective policy as YAML (``text``) and JSON, or None with the errors."""

    text: str | None = None
    json: str = ""
    messages: list[str] = field(default_factory=list)


def preview(org: Path | None, repo: Path | None) -> Preview:
    errors = [
        str(error)
        for path in (org, repo)
        if path is not None
        for error in validate_policy_file(path)
    ]
    if errors:
        return Preview(messages=errors)
    org_text = org.read_text(encoding="utf-8") if org is not None else None
    layers = [
        PolicyLayer(DEFAULT_SOURCE, default_policy_text()),
        PolicyLayer(str(org) if org else "(no organisation file)", org_text, Scope.ORGANISATION),
        PolicyLayer(
            str(repo) if repo else "(no repository file)",
            repo.read_text(encoding="utf-8") if repo is not None else None,
            Scope.REPOSITORY,
        ),
    ]
    messages = []
    if (extends := extends_of(org_text)) is not None:
        # The file it names lives on GitHub: the app reads it, this command cannot.
        messages.append(f"note: {org}: _extends: {extends} is not followed here")
    try:
        policy = load_policy(layers)
    except PolicyError as exc:
        return Preview(messages=[*messages, str(exc)])
    effective = policy.model_dump(mode="json", by_alias=True)
    ignored = [
        {"source": item.source, "key": item.key, "reason": item.reason} for item in policy.ignored
    ]
    lines = [yaml.safe_dump({"policy": effective}, sort_keys=False, allow_unicode=True).rstrip()]
    if ignored:
        lines.append("ignored:")
        lines.extend(f"  - {item.source}: {item.key} ({item.reason})" for item in policy.ignored)
    else:
        lines.append("ignored: none")
    return Preview(
        text="\n".join(lines),
        json=json.dumps({"policy": effective, "ignored": ignored}, indent=2),
        messages=messages,
    )
