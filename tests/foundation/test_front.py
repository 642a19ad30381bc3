"""Gradeloop's own address opened outside an LMS says how to open it and lists the URLs an LMS
administrator needs (it answered "Not found")."""


def test_the_front_page_says_where_gradeloop_opens_and_lists_the_tool_urls(client):
    page = client.get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "open the essay assignment there" in text
    for path in ("/lti/register", "/lti/canvas.json", "/lti/login", "/lti/launch", "/lti/jwks"):
        assert f"<code>http://localhost{path}</code>" in text, path


def test_pages_name_an_icon_that_is_served(client):
    """Browsers asked for /favicon.ico and logged a 404 on every page: the pages name their icon."""
    import re

    href = re.search(r'<link rel="icon" href="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    icon = client.get(href)
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
