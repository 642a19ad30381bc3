"""Fixtures of the browser tests that serve Gradeloop's pages from the Flask test client
(tests.browser.served): the coursework world and one Chromium for the test."""
import pytest

from tests.browser.served import served_browser
from tests.coursework.helpers import build_world


@pytest.fixture
def world(app):
    return build_world(app)


@pytest.fixture
def browser(chromium_path):
    with served_browser(chromium_path) as b:
        yield b
