"""GitHub's audit-log events: parse them, decide their notices, match policy overrides to
hotfixes, and poll the Enterprise Cloud audit log where no forwarder sends them.

Entry points: ``ingest.ingest`` (the endpoint and the poller hand events to it), the job
runners in ``jobs``, and ``poller.AuditLogPoller``.
"""
