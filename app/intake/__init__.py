"""HTTP in: the webhook endpoint (verify, store, answer 202) and the audit-log endpoint.

Nothing here decides anything about a pull request: intake stores, the worker processes.
"""
