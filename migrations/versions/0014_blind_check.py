"""The blind check of the model in service: a per-assignment setting (on by default, existing
assignments included) with the time it was turned on, and, on each grade, whether it was given
while the grading page hid the essay's proposal; grades given before are not blind. Existing
assignments get the upgrade's time: the proposals already in their queues were in view, so they
stay so.

Revision ID: 0014_blind_check
Revises: 0013_lookup_indexes
Create Date: 2026-12-01 10:00:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0014_blind_check'
down_revision = '0013_lookup_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blind_check', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('blind_check_since', sa.DateTime(timezone=True), nullable=True))
    # Written through the column's type, so SQLite stores it as the ORM does (UTC, its own format).
    assignments = sa.table('assignments', sa.column('blind_check_since', sa.DateTime(timezone=True)))
    op.execute(assignments.update().values(blind_check_since=datetime.now(timezone.utc)))
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blind', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.drop_column('blind')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('blind_check_since')
        batch_op.drop_column('blind_check')
