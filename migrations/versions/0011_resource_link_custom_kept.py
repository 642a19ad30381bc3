"""Resource links keep only the custom parameters Gradeloop reads: the ones stored before held
the last launcher's Canvas login id (often a student number or e-mail) and whatever else an LMS
administrator added, on a row shared by the link's users that no privacy export or erasure covers

Revision ID: 0011_resource_link_custom_kept
Revises: 0010_lms_post_claims
Create Date: 2026-11-29 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011_resource_link_custom_kept'
down_revision = '0010_lms_post_claims'
branch_labels = None
depends_on = None

# `lti_app.lti.provisioning.KEPT_CUSTOM_PARAMS` as of this revision, written out: a migration must
# do the same thing whatever the application code says later.
KEPT = ('gradeloop_assignment',)

# sa.JSON reads and writes the column on SQLite (text) and PostgreSQL (json) alike.
links = sa.table('resource_links', sa.column('id', sa.Integer), sa.column('custom', sa.JSON))


def _kept(custom):
    """What the launch stores now (`provisioning._kept_custom`): text values of the kept keys,
    without NUL; None when nothing is left."""
    if not isinstance(custom, dict):
        return None
    return {k: v for k, v in custom.items() if k in KEPT and isinstance(v, str) and '\x00' not in v} or None


def upgrade():
    conn = op.get_bind()
    # Read first, then write: SQLite must not update a table under an open cursor over it.
    rows = conn.execute(sa.select(links.c.id, links.c.custom).where(links.c.custom.isnot(None))).all()
    for link_id, custom in rows:
        kept = _kept(custom)
        if kept != custom:
            # SQL NULL, as a launch without custom parameters leaves it (not the JSON text 'null').
            conn.execute(links.update().where(links.c.id == link_id)
                         .values(custom=kept if kept is not None else sa.null()))


def downgrade():
    # Nothing to restore: the dropped parameters were never read, and bringing them back is what
    # this revision exists to prevent.
    pass
