"""The run store's Alembic revisions, one file each, named ``<revision>_<what>.py``.

Revision ids are the schema version they bring, zero-padded (``0005``); each revision
sets ``schema_info.version`` to it, and ``models.SCHEMA_VERSION`` and
``migrate.HEAD_REVISION`` follow the newest. To write one, change ``models``, then let
Alembic compare them with a store at the previous head::

    from alembic import command
    from wattprint.store import migrate
    from wattprint.store.repository import Store

    with Store("sqlite:////tmp/dev.db") as store, store.engine.begin() as conn:
        command.revision(migrate.alembic_config(conn), "what changed", autogenerate=True,
                         rev_id="0005")

``tests/store/test_migrations.py`` checks that the models and the migrated schema agree.
"""
