"""rounds say when their published results were revised; paper uploads awaiting confirmation

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_revised_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revision_note', sa.Text(), nullable=True))
    op.create_table(
        'paper_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=120), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('again', sa.Boolean(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('results_version', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'],
                                name=op.f('fk_paper_uploads_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_paper_uploads_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_uploads')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_paper_uploads_token_hash')),
    )
    with op.batch_alter_table('paper_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_uploads_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_paper_uploads_round_id'), ['round_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_paper_uploads_user_id'), ['user_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('paper_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_uploads_user_id'))
        batch_op.drop_index(batch_op.f('ix_paper_uploads_round_id'))
        batch_op.drop_index(batch_op.f('ix_paper_uploads_created_at'))
    op.drop_table('paper_uploads')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('revision_note')
        batch_op.drop_column('results_revised_on')
