"""Essays without a student remember who wrote the essay they were copied from (a course copy's
training essays), so that erasing that person still finds them after the original course's data
is deleted; existing ones are linked to the student whose essay has the same text

Revision ID: 0012_submission_source_user
Revises: 0011_resource_link_custom_kept
Create Date: 2026-11-30 10:00:00

"""
import hashlib

from alembic import op
import sqlalchemy as sa


revision = '0012_submission_source_user'
down_revision = '0011_resource_link_custom_kept'
branch_labels = None
depends_on = None

submissions = sa.table('submissions', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                       sa.column('text', sa.Text), sa.column('source_user_id', sa.Integer))
grades = sa.table('grades', sa.column('submission_id', sa.Integer), sa.column('essay_text', sa.Text))


def _digest(text: str) -> bytes:
    # Digests, not the texts: every essay of the school is read, and only this much of each is kept.
    return hashlib.sha256(text.encode('utf-8', 'surrogatepass')).digest()


def _authors(conn) -> dict:
    """Digest of each student's essay text (and of the earlier version a grade kept) -> the
    lowest user id that wrote it: what `erase_user` matched copies by until now."""
    own = sa.select(submissions.c.user_id, submissions.c.text).where(submissions.c.user_id.isnot(None))
    earlier = (sa.select(submissions.c.user_id, grades.c.essay_text)
               .select_from(grades.join(submissions, submissions.c.id == grades.c.submission_id))
               .where(submissions.c.user_id.isnot(None), grades.c.essay_text.isnot(None)))
    authors = {}
    for query in (own, earlier):
        for user_id, text in conn.execute(query.execution_options(stream_results=True)):
            if (text or '').strip():
                key = _digest(text)
                authors[key] = min(user_id, authors.get(key, user_id))
    return authors


def upgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_submissions_source_user_id'), ['source_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_submissions_source_user_id_users'), 'users',
                                    ['source_user_id'], ['id'], ondelete='SET NULL')
    conn = op.get_bind()
    authors = _authors(conn)
    # Read first, then write: SQLite must not update a table under an open cursor over it.
    anonymous = sa.select(submissions.c.id, submissions.c.text).where(submissions.c.user_id.is_(None))
    links = [{'essay': essay_id, 'author': authors[key]} for essay_id, text
             in conn.execute(anonymous.execution_options(stream_results=True))
             if (key := _digest(text or '')) in authors]
    if links:
        conn.execute(submissions.update().where(submissions.c.id == sa.bindparam('essay'))
                     .values(source_user_id=sa.bindparam('author')), links)


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_submissions_source_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_submissions_source_user_id'))
        batch_op.drop_column('source_user_id')
