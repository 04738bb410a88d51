"""Alembic scripts of the run store (``env.py``, ``versions/``) and the frozen schema 4
that stores created before Alembic are brought to (``legacy``); run them through
``wattprint.store.migrate``."""
