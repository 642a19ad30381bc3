"""Platforms: how long their cached signing keys stay fresh, and whether the administrator disabled them

Revision ID: 0004_platform_admin
Revises: 0003_unusual_essays
Create Date: 2026-11-28 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_platform_admin'
down_revision = '0003_unusual_essays'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('platforms', schema=None) as batch_op:
        # NULL: the default maximum age (existing key sets are refetched at their next launch
        # once older than it).
        batch_op.add_column(sa.Column('key_set_max_age', sa.Integer(), nullable=True))
        # NULL: enabled (every existing platform stays as it was).
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('platforms', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('key_set_max_age')
