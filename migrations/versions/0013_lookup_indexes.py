"""Indexes for lookups that read whole tables: the dashboard's "training requested" check (every
2 s while a run is awaited) searched 30 days of outbox events; housekeeping's delete of old
processed-message ids, and a person's grades, roles and essays (erasure, deleting a user), had no
index to start from

Revision ID: 0013_lookup_indexes
Revises: 0012_submission_source_user
Create Date: 2026-11-29 16:00:00

"""
from alembic import op


revision = '0013_lookup_indexes'
down_revision = '0012_submission_source_user'
branch_labels = None
depends_on = None

# (table, index, columns). Plain CREATE INDEX, as every migration here: the upgrade runs with web
# and workers stopped (docs/deployment.md, "Upgrades"). On PostgreSQL the upgrade is one
# transaction, so writes to all five tables wait until the last index is built.
INDEXES = (
    ('outbox_events', 'ix_outbox_events_type_created_at', ['type', 'created_at']),
    ('processed_messages', 'ix_processed_messages_processed_at', ['processed_at']),
    ('grades', 'ix_grades_grader_id', ['grader_id']),
    ('course_roles', 'ix_course_roles_user_id', ['user_id']),
    ('submissions', 'ix_submissions_user_id', ['user_id']),
)


def upgrade():
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for table, name, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
