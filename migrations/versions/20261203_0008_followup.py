"""workshop records, actions and commitments

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns added to tables that may hold rows get a server default for those rows.
_NOW = sa.text('CURRENT_TIMESTAMP')


def upgrade() -> None:
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=200), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('place', sa.String(length=200), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), server_default=_NOW,
                                      nullable=False))

    op.create_table(
        'workshop_attendance',
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.CheckConstraint('count >= 0',
                           name=op.f('ck_workshop_attendance_count_not_negative')),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'],
                                name=op.f('fk_workshop_attendance_partner_id_partners'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'],
                                name=op.f('fk_workshop_attendance_workshop_id_workshops'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workshop_id', 'partner_id',
                                name=op.f('pk_workshop_attendance')),
    )

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('questionnaire_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('progress', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('drop_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('carried_over_from_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), server_default=_NOW,
                                      nullable=False))
        batch_op.create_foreign_key(
            batch_op.f('fk_actions_questionnaire_version_id_questionnaire_versions'),
            'questionnaire_versions', ['questionnaire_version_id'], ['id'],
            ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_actions_carried_over_from_id_actions'),
                                    'actions', ['carried_over_from_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_actions_carried_over_from_id'),
                              ['carried_over_from_id'], unique=False)
        batch_op.create_check_constraint(batch_op.f('ck_actions_progress_range'),
                                         'progress >= 0 AND progress <= 100')
        batch_op.create_check_constraint(
            batch_op.f('ck_actions_addresses_dimension_or_item'),
            'dimension_id IS NOT NULL OR item_id IS NOT NULL')
        batch_op.create_check_constraint(batch_op.f('ck_actions_dropped_has_reason'),
                                         "status != 'dropped' OR drop_reason IS NOT NULL")

    with op.batch_alter_table('action_owners', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'role', sa.Enum('owner', 'co_owner', name='owner_role', native_enum=False,
                            create_constraint=True, length=32),
            server_default='owner', nullable=False))

    op.create_table(
        'action_checklist_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('done', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id'],
                                name=op.f('fk_action_checklist_items_action_id_actions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action_checklist_items')),
    )
    with op.batch_alter_table('action_checklist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_checklist_items_action_id'), ['action_id'],
                              unique=False)

    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), server_default=_NOW,
                                      nullable=False))
        batch_op.create_check_constraint(
            batch_op.f('ck_commitments_period_ordered'),
            'ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on')

    op.create_table(
        'commitment_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('commitment_id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'delivered', 'partial', 'not_delivered',
                                    name='review_status', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['commitment_id'], ['commitments.id'],
                                name=op.f('fk_commitment_reviews_commitment_id_commitments'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'],
                                name=op.f('fk_commitment_reviews_round_id_rounds'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment_reviews')),
        sa.UniqueConstraint('commitment_id', 'round_id',
                            name=op.f('uq_commitment_reviews_commitment_id_round_id')),
    )
    with op.batch_alter_table('commitment_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commitment_reviews_commitment_id'),
                              ['commitment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_reviews_round_id'), ['round_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('commitment_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commitment_reviews_round_id'))
        batch_op.drop_index(batch_op.f('ix_commitment_reviews_commitment_id'))
    op.drop_table('commitment_reviews')
    with op.batch_alter_table('commitments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_commitments_period_ordered'), type_='check')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('ends_on')
        batch_op.drop_column('starts_on')
    with op.batch_alter_table('action_checklist_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_checklist_items_action_id'))
    op.drop_table('action_checklist_items')
    with op.batch_alter_table('action_owners', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_action_owners_owner_role'), type_='check')
        batch_op.drop_column('role')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_actions_dropped_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_actions_addresses_dimension_or_item'),
                                 type_='check')
        batch_op.drop_constraint(batch_op.f('ck_actions_progress_range'), type_='check')
        batch_op.drop_index(batch_op.f('ix_actions_carried_over_from_id'))
        batch_op.drop_constraint(batch_op.f('fk_actions_carried_over_from_id_actions'),
                                 type_='foreignkey')
        batch_op.drop_constraint(
            batch_op.f('fk_actions_questionnaire_version_id_questionnaire_versions'),
            type_='foreignkey')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('carried_over_from_id')
        batch_op.drop_column('drop_reason')
        batch_op.drop_column('progress')
        batch_op.drop_column('questionnaire_version_id')
    op.drop_table('workshop_attendance')
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('place')
        batch_op.drop_column('title')
