"""LTI launch state: login parameters on login_states, and server-side deep linking requests

Revision ID: 0002_lti_launch_state
Revises: 0001
Create Date: 2026-11-26 06:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_lti_launch_state'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_params', sa.JSON(), nullable=True))
    op.create_table('deep_linking_requests',
    sa.Column('launch_id', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'],
                            name=op.f('fk_deep_linking_requests_platform_id_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('launch_id', name=op.f('pk_deep_linking_requests'))
    )


def downgrade():
    op.drop_table('deep_linking_requests')
    with op.batch_alter_table('login_states', schema=None) as batch_op:
        batch_op.drop_column('login_params')
