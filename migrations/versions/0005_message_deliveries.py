"""Messages whose worker died mid-job are counted, so they are dead-lettered instead of crash-looping

Revision ID: 0005_message_deliveries
Revises: 0004_platform_admin
Create Date: 2026-11-27 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_message_deliveries'
down_revision = '0004_platform_admin'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'message_deliveries',
        sa.Column('message_id', sa.String(length=64), nullable=False),
        sa.Column('deliveries', sa.Integer(), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('message_id'),
    )


def downgrade():
    op.drop_table('message_deliveries')
