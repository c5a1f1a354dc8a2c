"""Merged hotfixes: the bypass judged at merge, the ledger row, its audit notices, and the
counts the rate limit and the author quota read.

``merge.record_merge`` records a merge; a new hotfix queues a ``hotfix-recorded`` job
(``merge.RECORDED_JOB``) for what other domains do about it.
"""
