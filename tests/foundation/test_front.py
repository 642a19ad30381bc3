"""Gradeloop's own address opened outside an LMS says how to open it and lists the URLs an LMS
administrator needs (it answered "Not found")."""


def test_the_front_page_says_where_gradeloop_opens_and_lists_the_tool_urls(client):
    page = client.get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "open the essay assignment there" in text
    for path in ("/lti/register", "/lti/canvas.json", "/lti/login", "/lti/launch", "/lti/jwks"):
        assert f"<code>http://localhost{path}</code>" in text, path
