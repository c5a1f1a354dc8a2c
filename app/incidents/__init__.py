"""The incident loop around the pull request: shipped, verified, exercised.

Runbook steps 5 and 6 and the runbook's own freshness: a hotfix's deployment is read from
GitHub deployment statuses (which Argo CD's notifications and most deploy tools write), its
recovery is verified by re-querying the symptom metric in Prometheus, and the runbook is
announced stale when no hotfix or drill has merged for too long. The weekly digest keeps the
"hotfix became normal" figures in front of the platform team.
"""
