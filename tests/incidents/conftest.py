"""The incident-loop tests run the lane's app and fake repository (tests/lane/conftest.py)."""

from __future__ import annotations

from tests.lane.conftest import lane, lane_settings, repo

__all__ = ["lane", "lane_settings", "repo"]
