"""live room questions and answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        'rooms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partnership_id', sa.Integer(), nullable=False),
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=8), nullable=True),
        sa.Column('status', _enum('room_status', 'open', 'closed'), nullable=False),
        sa.Column('screen_question_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('opened_by', sa.Integer(), nullable=True),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['opened_by'], ['users.id'],
                                name=op.f('fk_rooms_opened_by_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'],
                                name=op.f('fk_rooms_partnership_id_partnerships'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'],
                                name=op.f('fk_rooms_workshop_id_workshops'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
        sa.UniqueConstraint('code', name=op.f('uq_rooms_code')),
    )
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rooms_partnership_id'), ['partnership_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_rooms_workshop_id'), ['workshop_id'], unique=False)

    op.create_table(
        'room_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('room_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('room_question_kind', 'agreement', 'dot_vote', 'sticky_note'),
                  nullable=False),
        sa.Column('prompt', sa.Text(), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('budget', sa.Integer(), nullable=False),
        sa.Column('option_cap', sa.Integer(), nullable=False),
        sa.Column('max_chars', sa.Integer(), nullable=False),
        sa.Column('state', _enum('room_question_state', 'draft', 'open', 'closed', 'revealed'),
                  nullable=False),
        sa.Column('answer_count', sa.Integer(), nullable=True),
        sa.CheckConstraint('budget >= 1 AND option_cap >= 1 AND option_cap <= budget',
                           name=op.f('ck_room_questions_budget_and_cap')),
        sa.ForeignKeyConstraint(['room_id'], ['rooms.id'],
                                name=op.f('fk_room_questions_room_id_rooms'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_questions')),
        sa.UniqueConstraint('room_id', 'position',
                            name=op.f('uq_room_questions_room_id_position')),
    )
    with op.batch_alter_table('room_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_questions_room_id'), ['room_id'], unique=False)

    op.create_table(
        'room_ballots',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('voter_hash', sa.String(length=64), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=True),
        sa.Column('value', sa.Integer(), nullable=True),
        sa.Column('allocation', sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'],
                                name=op.f('fk_room_ballots_partner_id_partners'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['question_id'], ['room_questions.id'],
                                name=op.f('fk_room_ballots_question_id_room_questions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_ballots')),
        sa.UniqueConstraint('question_id', 'voter_hash',
                            name=op.f('uq_room_ballots_question_id_voter_hash')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('room_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_ballots_question_id'), ['question_id'],
                              unique=False)

    op.create_table(
        'room_notes',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('voter_hash', sa.String(length=64), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', _enum('room_note_status', 'pending', 'approved', 'rejected',
                                  'hidden'), nullable=False),
        sa.Column('flagged', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['question_id'], ['room_questions.id'],
                                name=op.f('fk_room_notes_question_id_room_questions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_notes')),
        sa.UniqueConstraint('question_id', 'voter_hash',
                            name=op.f('uq_room_notes_question_id_voter_hash')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('room_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_notes_question_id'), ['question_id'],
                              unique=False)

    op.create_table(
        'room_tallies',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=True),
        sa.Column('answers', sa.Integer(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'],
                                name=op.f('fk_room_tallies_partner_id_partners'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['question_id'], ['room_questions.id'],
                                name=op.f('fk_room_tallies_question_id_room_questions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_room_tallies')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('room_tallies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_tallies_question_id'), ['question_id'],
                              unique=False)

    op.create_table(
        'room_blocklists',
        sa.Column('partnership_id', sa.Integer(), nullable=False),
        sa.Column('words', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'],
                                name=op.f('fk_room_blocklists_partnership_id_partnerships'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('partnership_id', name=op.f('pk_room_blocklists')),
    )


def downgrade() -> None:
    op.drop_table('room_blocklists')
    for table in ('room_tallies', 'room_notes', 'room_ballots'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_question_id'))
        op.drop_table(table)
    with op.batch_alter_table('room_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_questions_room_id'))
    op.drop_table('room_questions')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_workshop_id'))
        batch_op.drop_index(batch_op.f('ix_rooms_partnership_id'))
    op.drop_table('rooms')
