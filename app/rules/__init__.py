"""Pure decisions: one module per pull-request rule, their aggregation (``evaluate``), and the
merge judgement (``merge``). No I/O and no clock: the time is passed in.
"""
