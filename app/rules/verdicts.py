"""Verdicts every rule gives the same way."""

from __future__ import annotations

from app.rules.model import Outcome, Verdict


def disabled(rule_id: str) -> Verdict:
    return Verdict(
        rule_id, Outcome.SKIPPED, f"Turned off by the policy (rules.{rule_id}.enabled: false)."
    )
