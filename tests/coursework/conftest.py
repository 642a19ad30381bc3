"""Fixtures for coursework tests that run on the Flask test client (no LMS involved)."""
import pytest

from tests.coursework.helpers import build_world


@pytest.fixture
def world(app):
    return build_world(app)
