"""Gradeloop's own pages in a real Chromium without an LMS: every request the browser makes to
`BASE` is answered by a Flask test client that holds a launch session (tests.coursework.helpers
`login`). One page is one `goto`, so a browser check of a page costs about a second, and a test can
change the database between the browser's requests (the client answers in the test's thread)."""
from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from tests.browser import CHROMIUM_ARGS

BASE = "http://gradeloop.test"
FORWARDED = ("content-type", "accept", "x-csrf-token")


@contextlib.contextmanager
def served_browser(chromium_path: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, client, *, width: int = 1100, height: int = 900, requests: list | None = None,
              **context):
    """A new page whose requests to BASE `client` answers; each request's path is appended to
    `requests` when given. `context`: more of the reader's browser (timezone_id, locale)."""
    page = browser.new_context(viewport={"width": width, "height": height}, **context).new_page()
    page.set_default_timeout(10_000)   # the pages are local: a missing element fails fast

    def answer(route):
        request = route.request
        url = urlsplit(request.url)
        if requests is not None:
            requests.append(url.path)
        response = client.open(url.path + (f"?{url.query}" if url.query else ""), method=request.method,
                               data=request.post_data_buffer,
                               headers={k: v for k, v in request.headers.items() if k.lower() in FORWARDED})
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        if "Location" in headers:   # an absolute redirect names the test client's host
            headers["Location"] = headers["Location"].replace("http://localhost", BASE)
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())

    page.route(f"{BASE}/**", answer)
    return page
