"""The names hotfix-lane uses on GitHub; other tools and branch protection rely on them."""

from __future__ import annotations

STATUS_CONTEXT = "hotfix-lane/policy"
CHECK_RUN_NAME = "hotfix-lane"
POLICY_PATH = ".github/hotfix-lane.yml"
# The organisation-wide fallback lives in this repository of the organisation.
ORG_CONFIG_REPO = ".github"
