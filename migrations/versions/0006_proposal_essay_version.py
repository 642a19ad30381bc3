"""AI proposals record which hand-in of the essay they scored

Revision ID: 0006_proposal_essay_version
Revises: 0005_message_deliveries
Create Date: 2026-11-27 11:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_proposal_essay_version'
down_revision = '0005_message_deliveries'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ai_proposals', schema=None) as batch_op:
        # NULL for older proposals: they are matched by creation time, as before.
        batch_op.add_column(sa.Column('essay_submitted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('ai_proposals', schema=None) as batch_op:
        batch_op.drop_column('essay_submitted_at')
