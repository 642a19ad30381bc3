"""AI proposals record why an essay lies outside what the course model learned from

Revision ID: 0003_unusual_essays
Revises: 0002_lti_launch_state
Create Date: 2026-11-27 00:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003_unusual_essays'
down_revision = '0002_lti_launch_state'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ai_proposals', schema=None) as batch_op:
        # Existing proposals were scored without the check: an empty list, not "unknown".
        batch_op.add_column(sa.Column('unusual', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table('ai_proposals', schema=None) as batch_op:
        batch_op.drop_column('unusual')
