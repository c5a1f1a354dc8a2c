"""The names hotfix-lane uses on GitHub (DESIGN.md, "Names on GitHub")."""

from __future__ import annotations

STATUS_CONTEXT = "hotfix-lane/policy"
CHECK_RUN_NAME = "hotfix-lane"
POLICY_PATH = ".github/hotfix-lane.yml"
# The organisation-wide fallback lives in this repository of the organisation.
ORG_CONFIG_REPO = ".github"
