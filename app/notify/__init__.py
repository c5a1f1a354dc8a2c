"""Slack: audit notices as values (``notices``), their Block Kit form (``blocks``), the sender
(``slack``) and the outbox that stores each notice with its cause and sends it once.
"""
