"""Deep Linking requests remember the assignment they were answered with, so a second post of
the form (back button, a second tab) is told it was added instead of creating a twin

Revision ID: 0008_deep_link_answered
Revises: 0007_grade_essay_text
Create Date: 2026-11-27 19:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_deep_link_answered'
down_revision = '0007_grade_essay_text'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deep_linking_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_assignment_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_deep_linking_requests_answered_assignment_id_assignments'), 'assignments',
                                    ['answered_assignment_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('deep_linking_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_deep_linking_requests_answered_assignment_id_assignments'), type_='foreignkey')
        batch_op.drop_column('answered_assignment_id')
