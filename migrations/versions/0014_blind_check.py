"""The blind check of the model in service: a per-assignment setting (on by default, existing
assignments included) and, on each grade, whether it was given while the grading page hid the
essay's proposal; grades given before are not blind

Revision ID: 0014_blind_check
Revises: 0013_lookup_indexes
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0014_blind_check'
down_revision = '0013_lookup_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blind_check', sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blind', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.drop_column('blind')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('blind_check')
