"""Student hand-in edge cases: pasted text, .txt/.md/.docx uploads, and every refusal (empty,
too long, too big, wrong type, corrupt .docx, non-UTF-8) leaves nothing stored."""
import html
import io
import zipfile

import pytest

from lti_app.coursework import lms_quiet
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
    (dict(file=("essay.pdf", b"%PDF-1.4")),
     "PDF files can't be read: upload a .txt, .md or .docx file, or paste the text."),
    (dict(file=("essay", b"text")), "A file without an extension can't be read: upload a .txt, .md or .docx file"),
    (dict(file=("essay.final version", b"text")), "“.final version” files can't be read"),
    (dict(file=("essay.docx", b"PK\x03\x04 not really a zip")), "This Word file could not be read"),
    (dict(file=("essay.docx", b"just text renamed")), "This Word file could not be read"),
    (dict(file=("essay.docx", _corrupt_docx())), "This Word file could not be read"),
    (dict(file=("essay.txt", "Россия — большая страна.".encode("cp1251"))), "not in UTF-8"),   # would be nonsense
    (dict(file=("essay.txt", b"Bad byte \x81 in an unknown code page")), "not in UTF-8"),
    (dict(file=("essay.txt", b"\x00\x01\x02binary")), "binary file"),
])
def test_refused_hand_ins_store_nothing(student, app, world, kwargs, message):
    response = student(**kwargs)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert _stored(app, world) is None
    with app.app_context():
        assert count(OutboxEvent) == 0


def test_a_windows_ansi_text_file_is_read_as_windows_1252(student, app, world):
    """Notepad saved "ANSI" (Windows-1252) by default before 2019; a student cannot be expected
    to know what UTF-8 is. Curly quotes, dashes and accents come through as written."""
    essay = "“Cars,” she said – rightly – “belong outside the café district.” It’s true."
    response = student(file=("essay.txt", essay.encode("cp1252")))
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)[:300]
    assert _stored(app, world).text == essay


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
    refusal = huge.get_data(as_text=True)
    assert "larger than the 0.001 MB Gradeloop accepts" in refusal and "Word file with pictures" in refusal
    assert "Nothing was handed in." in refusal and "data-history-back" in refusal
    with small.app_context():
        assert count(Submission, user_id=w.student2_a) == 0
    teacher = small.test_client()
    token = login(teacher, small, course_id=w.course_a, user_id=w.teacher_a, role=Role.INSTRUCTOR)
    csv = b"text,score\n" + b'"An essay.",4\n' * 20_000
    too_big = teacher.post(f"/coursework/a/{w.assignment_a}/import", data={"csrf_token": token,
                           "file": (io.BytesIO(csv), "grades.csv")}, content_type="multipart/form-data")
    assert too_big.status_code == 413 and "Split it into several files" in too_big.get_data(as_text=True)
    with small.app_context():
        assert count(Submission, assignment_id=w.assignment_a) == 1


def test_a_course_without_gradebook_access_promises_no_gradebook(student, client, app, world):
    """This course's LMS gave no AGS: the hand-in is kept, and the student is not told that the
    LMS gradebook will show it (it never will), not even while Gradeloop leaves that LMS alone
    after another course's gradebook call failed (`lms_quiet`)."""
    for version in ("first", "second"):
        if version == "second":
            with app.app_context():
                lms_quiet.failed(world.platform)
        response = student(text=f"The {version} version of an essay in a course without AGS.")
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


def _word_file_as_templates_and_track_changes_make_it() -> bytes:
    """A .docx whose essay sits in a content control (school templates) and was edited with Track
    Changes on, written as Word writes them; python-docx's paragraph list sees none of it."""
    import docx
    from docx.oxml import parse_xml

    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    document.add_paragraph("Title: Cars in cities")
    body = document.element.body
    body.insert(1, parse_xml(
        f'<w:sdt {ns}><w:sdtPr><w:alias w:val="Essay"/></w:sdtPr><w:sdtContent>'
        '<w:p><w:r><w:t>Cars should leave the centre.</w:t></w:r><w:r><w:tab/><w:t>Air is cleaner.</w:t></w:r></w:p>'
        '<w:p><w:r><w:t xml:space="preserve">Streets are </w:t></w:r>'
        '<w:del w:id="1" w:author="S"><w:r><w:delText>very </w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="S"><w:r><w:t>much </w:t></w:r></w:ins>'
        '<w:r><w:t>safer.</w:t></w:r></w:p>'
        '</w:sdtContent></w:sdt>'))
    body.insert(2, parse_xml(f'<w:ins {ns} w:id="3" w:author="S"><w:p><w:r><w:t>An added paragraph.</w:t></w:r>'
                             '</w:p></w:ins>'))
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Reason", "Evidence"
    document.add_paragraph("The end.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_word_text_in_content_controls_and_tracked_insertions_is_kept():
    from lti_app.coursework.files import extract_text

    text = extract_text("essay.docx", _word_file_as_templates_and_track_changes_make_it(), max_bytes=10**6)
    assert text.split("\n") == ["Title: Cars in cities", "Cars should leave the centre.\tAir is cleaner.",
                                "Streets are much safer.", "An added paragraph.", "Reason\tEvidence", "The end."]


def _no_resubmission(app, world):
    from lti_app.models import Assignment

    with app.app_context():
        db.session.get(Assignment, world.assignment_a).allow_resubmit = False
        db.session.commit()


def test_a_double_click_hands_in_once(student, app, world):
    """The second click of a slow hand-in re-sends the same text: it is answered like the first,
    not with "does not allow a second version", and nothing is stored or announced twice."""
    _no_resubmission(app, world)
    first, second = student(text="My essay, sent twice."), student(text="My essay, sent twice.")
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"].split("notice=")[0] == first.headers["Location"].split("notice=")[0]
    with app.app_context():
        assert count(Submission, user_id=world.student2_a) == 1
        assert count(OutboxEvent, type="submission.created") == 1
    assert student(text="A different second version.").status_code == 400   # still no second version


@pytest.mark.postgres
def test_two_first_hand_ins_at_the_same_moment_store_one(make_app, own_postgres):
    """The other click's request commits its row between this one's lookup and its insert (the
    unique constraint then refuses this insert): the student gets the same answer, not a 500.
    PostgreSQL only: a first hand-in has no row to lock there, whereas on SQLite the lookup
    already holds the database's write lock (`lti_app.locking`), so no other request can commit
    in between."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from tests.coursework.helpers import build_world

    app = make_app(database_url=own_postgres)
    world = build_world(app)
    token = login(client := app.test_client(), app, course_id=world.course_a, user_id=world.student2_a,
                  role=Role.LEARNER, resource_link_id=world.link_a)

    def student(**data):
        return client.post(f"/coursework/a/{world.assignment_a}/essay", data={"csrf_token": token, **data})

    _no_resubmission(app, world)
    raced = []

    def other_request_commits_first(session, *_):
        if raced or not any(isinstance(o, Submission) for o in session.new):
            return
        raced.append(True)
        with db.engine.begin() as other:
            other.execute(db.insert(Submission).values(
                assignment_id=world.assignment_a, user_id=world.student2_a, text="Same essay.", word_count=2,
                status=SubmissionStatus.SUBMITTED, submitted_at=db.func.now()))

    event.listen(Session, "before_flush", other_request_commits_first)
    try:
        response = student(text="Same essay.")
    finally:
        event.remove(Session, "before_flush", other_request_commits_first)
    assert raced and response.status_code == 303
    with app.app_context():
        assert count(Submission, user_id=world.student2_a) == 1
