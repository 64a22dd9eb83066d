"""rounds can share their results back with respondents (a switch and a public link)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_shared_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('summary_link_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_rounds_summary_link_hash'), ['summary_link_hash'])


def downgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_rounds_summary_link_hash'), type_='unique')
        batch_op.drop_column('summary_link_hash')
        batch_op.drop_column('results_shared_on')
