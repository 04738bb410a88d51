"""Schema version 4: every table of the run store when wattprint adopted Alembic.

Stores created before Alembic are brought to version 4 by ``legacy.upgrade_to_v4`` and
stamped at this revision instead of running it.

Revision ID: 0004
Revises: (none)
"""

from __future__ import annotations

import time

from alembic import op
from sqlalchemy import insert

from wattprint.store.migrations.legacy import V4, VERSION

revision = "0004"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    V4.create_all(bind, checkfirst=False)  # a table of that name already there is an error
    bind.execute(
        insert(V4.tables["schema_info"]).values(id=1, version=VERSION, created_at=time.time())
    )


def downgrade() -> None:
    raise NotImplementedError("wattprint does not downgrade stores: restore a backup instead")
