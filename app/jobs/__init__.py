"""The durable job queue and its worker.

The worker knows job kinds only through the runners it is handed (``app.wiring`` builds
them); ``queue`` is the table's operations, each one short transaction.
"""
