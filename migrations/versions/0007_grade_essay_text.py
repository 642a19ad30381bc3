"""Revisions: grades keep the text they were given on once a returned essay is revised; and
anonymous grading per assignment

Revision ID: 0007_grade_essay_text
Revises: 0006_proposal_essay_version
Create Date: 2026-11-27 13:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_grade_essay_text'
down_revision = '0006_proposal_essay_version'
branch_labels = None
depends_on = None


def upgrade():
    # NULL: the grade is on the submission's current text (every grade before this release).
    # submissions.status is a plain string column (non-native enum), so RETURNED needs no change.
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.add_column(sa.Column('essay_text', sa.Text(), nullable=True))
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymous_grading', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('anonymous_grading')
    # The older release knows no RETURNED (stored by name): those essays are graded again.
    op.execute("UPDATE submissions SET status = 'GRADED' WHERE status = 'RETURNED'")
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.drop_column('essay_text')
