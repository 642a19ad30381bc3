"""Submissions remember the last revision note posted to the LMS gradebook (returned, taken back,
new version handed in), so a redelivered event posts nothing twice

Revision ID: 0009_submission_lms_notice
Revises: 0008_deep_link_answered
Create Date: 2026-11-27 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_submission_lms_notice'
down_revision = '0008_deep_link_answered'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lms_notice', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('lms_notice_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('lms_notice_at')
        batch_op.drop_column('lms_notice')
