"""Device-only pytest plugin: the `shared_data` fixture of tests/conftest.py, pointing at the
essays carried in .gpu/shared (the device host has no ../shared), for running the course-model
tests there with --confcutdir=tests/worker/ml (the web stack is not installed on that host).
GPU_BLOCK_WEB=1 makes the web stack unimportable, to rehearse the host here."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
WEB = ("flask", "flask_sqlalchemy", "sqlalchemy", "kombu", "pylti1p3", "jwt", "marshmallow", "lti_app",
       "datasets", "psycopg", "psycopg2")

if os.environ.get("GPU_BLOCK_WEB"):
    class _Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in WEB:
                raise ImportError(f"{name} blocked (rehearsing the device host)")
            return None
    sys.meta_path.insert(0, _Block())


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return HERE / "shared" / "data"
