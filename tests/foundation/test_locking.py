"""`lti_app.locking` on the embedded SQLite: the write lock is taken at once, and a database
another process is writing answers with SQLAlchemy's error, which callers catch (the review
queue's bulk approval says which proposals could not be saved), not sqlite3's own."""
import sqlite3

import pytest
import sqlalchemy.exc

from lti_app import locking
from lti_app.extensions import db


def test_the_write_lock_is_taken_and_a_busy_database_is_sqlalchemys_error(app):
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with app.app_context():
        db.session.connection().exec_driver_sql("PRAGMA busy_timeout=100")
        locking.sqlite_write_lock()
        other = sqlite3.connect(path, timeout=0.1)
        with pytest.raises(sqlite3.OperationalError):
            other.execute("BEGIN IMMEDIATE")   # this session holds it now
        db.session.rollback()
        other.execute("BEGIN IMMEDIATE")       # the other process writes now
        try:
            db.session.connection().exec_driver_sql("PRAGMA busy_timeout=100")
            with pytest.raises(sqlalchemy.exc.OperationalError):
                locking.sqlite_write_lock()
        finally:
            other.rollback()
            other.close()
            db.session.rollback()
