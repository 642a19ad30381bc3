"""Pending AI proposals written before this release lose the trait lines that ranked the student
against the class ("Organization: 3 of 5 (the course's 285 graded essays: median 2, 8% scored
higher).", "Evidence: 1 of 5 (all essays graded for this assignment scored higher)."): such a
line becomes the plain "Organization: 3 of 5.", what the composer writes now when it has no
teacher sentence for the trait. Approving the proposal would otherwise send the ranking to the
student and the LMS gradebook. Decided proposals are history and stay as they were.

Revision ID: 0015_unranked_trait_lines
Revises: 0014_blind_check
Create Date: 2026-11-30 00:10:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0015_unranked_trait_lines'
down_revision = '0014_blind_check'
branch_labels = None
depends_on = None

# The ranked forms as earlier releases wrote them (`worker.feedback.traits` before 14dcc9b), written
# out: a migration must do the same whatever the application code says later. A line of its own:
# "<Trait>: <score>[ of <max>] (<words ending in 'scored higher'>)."
_RANKED = re.compile(r"^(?P<head>[^\n:()]+: \d+(?:\.\d+)?(?: of \d+(?:\.\d+)?)?) \([^()\n]*scored higher\)\.[ \t]*$",
                     re.MULTILINE)

proposals = sa.table('ai_proposals', sa.column('id', sa.Integer), sa.column('feedback', sa.Text),
                     sa.column('status', sa.String))


def unranked(feedback: str) -> str:
    return _RANKED.sub(lambda m: m['head'] + '.', feedback)


def upgrade():
    conn = op.get_bind()
    # Read first, then write: SQLite must not update a table under an open cursor over it.
    rows = conn.execute(sa.select(proposals.c.id, proposals.c.feedback)
                        .where(proposals.c.status == 'pending', proposals.c.feedback.like('%scored higher)%'))).all()
    for proposal_id, feedback in rows:
        new = unranked(feedback)
        if new != feedback:
            conn.execute(proposals.update().where(proposals.c.id == proposal_id).values(feedback=new))


def downgrade():
    # Nothing to restore: the ranking is what this revision exists to keep from students.
    pass
