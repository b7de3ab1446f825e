"""Persistence: the SQL schema, migrations and the store that the services use.

The only package that imports SQLAlchemy. SQLite (WAL, foreign keys on) is the embedded
default; PostgreSQL (psycopg 3) is the production store, with the same migrations.
"""
