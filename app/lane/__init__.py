"""The hotfix lane: pull request, review, check, status and comment events.

Each is classified once, evaluated by ``evaluation.evaluate_pull_request`` (policy, snapshot,
rules) and published as the commit status and the check run; ``merges`` records a merge
through the ledger and re-evaluates the hotfixes it may push past the rate limit.
"""
