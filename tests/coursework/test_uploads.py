"""Student hand-in edge cases: pasted text, .txt/.md/.docx uploads, and every refusal (empty,
too long, too big, wrong type, corrupt .docx, non-UTF-8) leaves nothing stored."""
import io
import zipfile

import pytest

from lti_app.extensions import db
from lti_app.models import OutboxEvent, Role, Submission, SubmissionStatus
from tests.coursework.helpers import count, docx_bytes, login


@pytest.fixture
def student(client, app, world):
    token = login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER, resource_link_id=world.link_a)
    url = f"/coursework/a/{world.assignment_a}/essay"

    def post(**data):
        files = data.pop("file", None)
        body = {"csrf_token": token, **data}
        if files is not None:
            body["file"] = (io.BytesIO(files[1]), files[0])
        return client.post(url, data=body, content_type="multipart/form-data")
    post.url = url
    return post


def _stored(app, world):
    with app.app_context():
        return db.session.scalar(db.select(Submission).filter_by(user_id=world.student2_a))


def test_pasted_essay_is_stored_with_events(student, app, world):
    response = student(text="  My essay.\r\nSecond line.  ")
    assert response.status_code == 303
    with app.app_context():
        essay = db.session.scalar(db.select(Submission).filter_by(user_id=world.student2_a))
        assert essay.text == "My essay.\nSecond line." and essay.word_count == 4 and essay.filename is None
        assert count(OutboxEvent, type="submission.created") == 1 and count(OutboxEvent, type="gradebook.sync") == 1


@pytest.mark.parametrize("name,data,expected", [
    ("essay.txt", "Plain text essay, café.".encode("utf-8"), "Plain text essay, café."),
    ("essay.md", b"\xef\xbb\xbf# Title\n\nBody", "# Title\n\nBody"),
    ("essay.TXT", "UTF-16 text".encode("utf-16"), "UTF-16 text"),
    ("essay.docx", docx_bytes("First paragraph.", "Second paragraph."), "First paragraph.\nSecond paragraph."),
])
def test_accepted_files(student, app, world, name, data, expected):
    assert student(file=(name, data)).status_code == 303
    essay = _stored(app, world)
    assert essay.text == expected and essay.filename == name


def _corrupt_docx() -> bytes:
    good = io.BytesIO(docx_bytes("x"))
    out = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, b"<w:document broken" if info.filename == "word/document.xml" else data)
    return out.getvalue()


@pytest.mark.parametrize("kwargs,message", [
    (dict(text="   \n  "), "The essay is empty"),
    (dict(file=("empty.txt", b"")), "This file is empty"),
    (dict(file=("blank.txt", b"  \n\n ")), "This file contains no text"),
    (dict(file=("essay.pdf", b"%PDF-1.4")), "Files .pdf are not accepted"),
    (dict(file=("essay", b"text")), "Files without an extension are not accepted"),
    (dict(file=("essay.docx", b"PK\x03\x04 not really a zip")), "This Word file could not be read"),
    (dict(file=("essay.docx", b"just text renamed")), "This Word file could not be read"),
    (dict(file=("essay.docx", _corrupt_docx())), "This Word file could not be read"),
    (dict(file=("essay.txt", b"caf\xe9 latin-1")), "not in UTF-8"),
    (dict(file=("essay.txt", b"\x00\x01\x02binary")), "binary file"),
])
def test_refused_hand_ins_store_nothing(student, app, world, kwargs, message):
    response = student(**kwargs)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _stored(app, world) is None
    with app.app_context():
        assert count(OutboxEvent) == 0


def test_limits(make_app, world, app):
    small = make_app(max_essay_chars=50, max_upload_bytes=1000)
    from tests.coursework.helpers import build_world

    w = build_world(small)
    client = small.test_client()
    token = login(client, small, course_id=w.course_a, user_id=w.student2_a, role=Role.LEARNER, resource_link_id=w.link_a)
    url = f"/coursework/a/{w.assignment_a}/essay"
    long_text = client.post(url, data={"csrf_token": token, "text": "word " * 20})
    assert long_text.status_code == 400 and "the limit is 50" in long_text.get_data(as_text=True)
    big = client.post(url, data={"csrf_token": token, "file": (io.BytesIO(b"a" * 1500), "big.txt")},
                      content_type="multipart/form-data")
    assert big.status_code == 400 and "the limit is 1,000 bytes" in big.get_data(as_text=True)
    huge = client.post(url, data={"csrf_token": token, "file": (io.BytesIO(b"a" * 200_000), "huge.txt")},
                       content_type="multipart/form-data")
    assert huge.status_code == 413     # over the request limit: refused before reading, no 500
    with small.app_context():
        assert count(Submission, user_id=w.student2_a) == 0


def test_a_course_without_gradebook_access_promises_no_gradebook(student, client):
    """This course's LMS gave no AGS: the hand-in is kept, and the student is not told that the
    LMS gradebook will show it (it never will)."""
    response = student(text="An essay in a course without AGS.")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your essay was handed in." in page and "gradebook" not in page


def test_a_pasted_nul_character_is_dropped_not_a_500(student, app, world):
    """PostgreSQL cannot store NUL in text; a NUL pasted from a broken document is no content."""
    assert student(text="My essay\x00 about phones.").status_code == 303
    with app.app_context():
        [essay] = db.session.scalars(db.select(Submission).filter_by(user_id=world.student2_a)).all()
        assert essay.text == "My essay about phones."


def test_resubmission_replaces_until_graded(student, client, app, world):
    assert student(text="First version.").status_code == 303
    assert student(text="Second version.").status_code == 303
    with app.app_context():
        [essay] = db.session.scalars(db.select(Submission).filter_by(user_id=world.student2_a)).all()
        assert essay.text == "Second version."
        essay_id = essay.id
        essay.assignment.allow_resubmit = False
        db.session.commit()
    refused = student(text="Third version.")
    assert refused.status_code == 400 and "does not allow handing in a second version" in refused.get_data(as_text=True)
    with app.app_context():
        essay = db.session.get(Submission, essay_id)
        essay.assignment.allow_resubmit = True
        essay.status = SubmissionStatus.GRADED
        db.session.commit()
    refused = student(text="After grading.")
    assert refused.status_code == 400 and "already been graded" in refused.get_data(as_text=True)
    assert _stored(app, world).text == "Second version."
