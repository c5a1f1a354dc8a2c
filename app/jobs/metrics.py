"""The job queue's Prometheus metrics (prometheus-client's registry is process-global)."""

from __future__ import annotations

from prometheus_client import Gauge, Histogram

JOB_SECONDS = Histogram(
    "hotfix_lane_job_seconds",
    "Time spent running one job, by kind and outcome.",
    ["kind", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
QUEUE_DEPTH = Gauge("hotfix_lane_queue_depth", "Jobs waiting to run (queued or running).")
DEAD_JOBS = Gauge("hotfix_lane_dead_jobs", "Jobs that exhausted their attempts.")
OLDEST_PENDING = Gauge(
    "hotfix_lane_oldest_pending_job_seconds",
    "How long the longest-waiting due job has waited to run (0 when none waits).",
)
