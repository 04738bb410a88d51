"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Created: ${create_date}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
    # Set schema_info.version to this revision's number, and make models.SCHEMA_VERSION
    # and migrate.HEAD_REVISION the same (tests/store/test_migrations.py checks):
    # op.execute(sa.text("UPDATE schema_info SET version = <n>"))


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
