"""Claims that stop two attempts (the web request and the worker) posting one grade, or one
hand-in, to the LMS gradebook at the same time: a grade's post claim, and the hand-in time of
the essay version the LMS was told about

Revision ID: 0010_lms_post_claims
Revises: 0009_submission_lms_notice
Create Date: 2026-11-27 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010_lms_post_claims'
down_revision = '0009_submission_lms_notice'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_claimed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lms_submitted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lms_submit_claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('lms_submit_claimed_at')
        batch_op.drop_column('lms_submitted_at')
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.drop_column('post_claimed_at')
