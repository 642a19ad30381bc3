"""For tests of the embedded SQLite's one write lock: another process trying to write while a
job runs, the way a second web worker's launch or hand-in would."""
from __future__ import annotations

import sqlite3
import threading
import time


def writes_refused_while(job: threading.Thread, db_path: str, *, wait_s: float = 0.3,
                         every_s: float = 0.2) -> list[str]:
    """Start `job` and, until it ends, try to take the database's write lock from another
    connection (waiting up to `wait_s` each time); returns the refusals ("database is locked")."""
    job.start()
    refused = []
    while job.is_alive():
        other = sqlite3.connect(db_path, timeout=wait_s)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.rollback()
        except sqlite3.OperationalError as exc:
            refused.append(str(exc))
        finally:
            other.close()
        time.sleep(every_s)
    job.join()
    return refused
