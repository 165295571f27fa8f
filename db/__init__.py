"""Persistence: SQLAlchemy 2.0 models, engine and sessions, repository functions, migrations."""
