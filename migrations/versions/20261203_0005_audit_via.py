"""audit events say whether they came through the site or the command line

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=16), server_default='web',
                                      nullable=False))
    # Older rows without a user were made by a command or by an account deleted since: the
    # log cannot tell which, so it says so rather than guess.
    op.execute("UPDATE audit_events SET via = 'unknown' WHERE user_id IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('via')
