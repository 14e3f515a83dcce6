"""The database: typed SQLAlchemy 2 models, engines and sessions, and Alembic migrations (the only way a schema is
made)."""
