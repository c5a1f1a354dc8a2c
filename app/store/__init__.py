"""The database: engine and sessions, migrations, tables, insert-or-ignore, and the stored
deliveries and publications that several layers read. Imports nothing above it.
"""
