"""Odd input that fuzzing found: each gets a 4xx in words and stores nothing (or is read as what it
is). Trait scales with huge numbers or long runs of spaces, essays of invisible characters, a trait
renamed while a grading page was open, .docx files that inflate, CSV files with a stray quote or
old Mac line endings, and control characters in an upload's file name."""
import html
import io
import re
import time
import tracemalloc
import zipfile
from types import SimpleNamespace

import pytest
from marshmallow import ValidationError

from lti_app.coursework.essay_text import normalise, word_count
from lti_app.coursework.files import EssayFileError, clean_filename, extract_text
from lti_app.coursework.schemas import grade_schema, parse_traits
from lti_app.extensions import db
from lti_app.models import Assignment, Grade, OutboxEvent, Role, Submission
from tests.coursework.helpers import build_world, count, docx_bytes, login


def _teacher(client, app, world):
    return login(client, app, course_id=world.course_a, user_id=world.teacher_a, role=Role.INSTRUCTOR)


def _student(client, app, world):
    return login(client, app, course_id=world.course_a, user_id=world.student2_a, role=Role.LEARNER,
                 resource_link_id=world.link_a)


def _hand_in(client, world, token, **data):
    files = data.pop("file", None)
    if files is not None:
        data["file"] = (io.BytesIO(files[1]), files[0])
    return client.post(f"/coursework/a/{world.assignment_a}/essay", data={"csrf_token": token, **data},
                       content_type="multipart/form-data")


def _import(client, world, token, data: bytes):
    return client.post(f"/coursework/a/{world.assignment_a}/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(data), "grades.csv")})


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# Trait scales -------------------------------------------------------------------------------------

def test_a_trait_scale_with_a_huge_number_is_refused_with_the_range(client, app, world):
    token = _teacher(client, app, world)
    response = client.post(f"/coursework/a/{world.assignment_a}/edit", data={
        "csrf_token": token, "title": "T", "score_min": "1", "score_max": "6", "traits": "style 1-" + "9" * 5000})
    assert response.status_code == 400
    assert "whole numbers from 0 to 1000" in _text(response)
    with app.app_context():
        assert db.session.get(Assignment, world.assignment_a).traits == [{"name": "cohesion", "min": 1, "max": 5}]


@pytest.mark.parametrize("line", ["a" + " " * 3000 + "x", "cohesion 1" + " " * 3000 + "x", "a:" + " " * 3000])
def test_a_trait_line_with_a_long_run_of_spaces_is_refused_at_once(line):
    started = time.perf_counter()
    with pytest.raises(ValidationError):
        parse_traits(line)
    # Not a speed test: the old pattern backtracked (13 s at 1,000 spaces, minutes at 3,000); a
    # linear one takes microseconds, so the bound only tells the two apart, under any CI load.
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize("text,expected", [
    ("cohesion 1-5", ("cohesion", 1, 5)), ("Cohesion: 0 to 100", ("Cohesion", 0, 100)),
    ("  part 2 1-5  ", ("part 2", 1, 5)), ("voice : 1..4", ("voice", 1, 4)), ("well-argued 1 - 6", ("well-argued", 1, 6)),
])
def test_trait_lines_as_teachers_write_them(text, expected):
    [trait] = parse_traits(text)
    assert (trait["name"], trait["min"], trait["max"]) == expected


def test_a_scale_above_the_maximum_says_the_maximum():
    with pytest.raises(ValidationError, match="at most 1000"):
        parse_traits("style 1-99999")


# Invisible essays ---------------------------------------------------------------------------------

INVISIBLE = ["\u200b\u200b", "\ufeff", "\u200b \u2060 \u200d", "\u3164\n\u2800"]


@pytest.mark.parametrize("text", INVISIBLE)
@pytest.mark.parametrize("how", ["pasted", "txt", "docx"])
def test_an_essay_of_invisible_characters_is_not_handed_in(client, app, world, text, how):
    token = _student(client, app, world)
    if how == "pasted":
        response, message = _hand_in(client, world, token, text=text), "The essay is empty"
    else:
        data = text.encode() if how == "txt" else docx_bytes(text)
        response, message = _hand_in(client, world, token, file=(f"essay.{how}", data)), "This file contains no text"
    assert response.status_code == 400 and message in _text(response)
    with app.app_context():
        assert count(Submission, user_id=world.student2_a) == 0 and count(OutboxEvent) == 0


def test_invisible_characters_inside_real_text_are_kept_but_are_no_words():
    persian = "می\u200cخواهم"   # the ZWNJ is part of the spelling
    assert normalise(f"  {persian} \u200b ok\n") == f"{persian} \u200b ok"
    assert word_count(f"{persian} \u200b ok") == 2


def test_an_invisible_essay_in_a_csv_import_is_refused(client, app, world):
    token = _teacher(client, app, world)
    response = _import(client, world, token, "text,score\nA real essay.,4\n\u200b\ufeff,3\n".encode())
    assert response.status_code == 400 and "Row 3: text is empty" in _text(response)
    with app.app_context():
        assert count(Submission, assignment_id=world.assignment_a) == 1   # the world's own essay only


# A trait renamed while the grading page was open --------------------------------------------------

def _grading_page(client, world):
    page = client.get(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}").get_data(as_text=True)
    return html.unescape(re.search(r'name="seen" value="([^"]*)"', page).group(1))


def _rename_cohesion(client, world, token):
    renamed = client.post(f"/coursework/a/{world.assignment_a}/edit", data={
        "csrf_token": token, "title": "Essay a", "score_min": "1", "score_max": "6", "traits": "coherence 1-5"})
    assert renamed.status_code in (200, 303)


def test_a_score_for_a_trait_renamed_meanwhile_is_refused_not_dropped(client, app, world):
    token = _teacher(client, app, world)
    seen = _grading_page(client, world)
    _rename_cohesion(client, world, token)   # a co-teacher, in another tab: allowed, nothing is graded yet
    response = client.post(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}", data={
        "csrf_token": token, "seen": seen, "score": "5", "trait:cohesion": "4", "comment": "Well argued."})
    text = _text(response)
    assert response.status_code == 400
    assert "The rubric of this assignment changed while you had this page open" in text
    assert "no longer has the trait “cohesion”" in text and "were not saved" in text
    assert "Well argued." in text and 'name="trait:coherence"' in text   # what was typed, on today's rubric
    with app.app_context():
        assert count(Grade) == 0 and count(OutboxEvent) == 0


def test_an_empty_field_of_a_renamed_trait_loses_nothing_and_is_saved(client, app, world):
    token = _teacher(client, app, world)
    seen = _grading_page(client, world)
    _rename_cohesion(client, world, token)
    response = client.post(f"/coursework/a/{world.assignment_a}/essays/{world.essay_a}", data={
        "csrf_token": token, "seen": seen, "score": "5", "trait:cohesion": ""})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Grade)).trait_scores == {}


def test_the_grade_schema_of_both_grading_forms_refuses_unknown_traits():
    schema = grade_schema(SimpleNamespace(score_min=1, score_max=6, traits=[{"name": "coherence", "min": 1, "max": 5}]))
    with pytest.raises(ValidationError) as refused:
        schema.load({"score": "5", "trait:cohesion": "4", "trait:voice": "2"})
    assert "no longer has the traits “cohesion”, “voice”" in refused.value.messages["_schema"][0]
    assert schema.load({"score": "5", "trait:coherence": "4"})["trait_scores"] == {"coherence": 4}


# .docx files that inflate -------------------------------------------------------------------------

def _docx_with_body(body: bytes, *, doctype: bytes = b"") -> bytes:
    """A python-docx file whose document.xml body is `body` (after `doctype`, if given),
    compressed as Word does."""
    source, out = zipfile.ZipFile(io.BytesIO(docx_bytes("x"))), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                declaration, _, root = data.partition(b"?>")
                data = (declaration + b"?>" + doctype + root.partition(b"<w:body>")[0] + b"<w:body>" + body
                        + b"</w:body></w:document>")
            archive.writestr(info.filename, data)
    return out.getvalue()


def _paragraphs(n: int) -> bytes:
    return b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * n


def test_a_small_docx_that_inflates_is_refused_quickly_and_in_little_memory():
    bomb = _docx_with_body(_paragraphs(300_000))   # a 66 KB upload, 10 MB of XML, 300,000 characters
    assert len(bomb) < 100_000
    with pytest.raises(EssayFileError, match="more than 100,000 characters; the limit is 100,000"):
        extract_text("essay.docx", bomb, max_bytes=2_000_000, max_chars=100_000)
    # Memory tells a bounded read from a whole parse without timing anything (233 MB before).
    tracemalloc.start()
    try:
        with pytest.raises(EssayFileError):
            extract_text("essay.docx", bomb, max_bytes=2_000_000, max_chars=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000                          # the document.xml alone is 10 MB


def test_a_docx_whose_xml_is_more_than_an_essay_can_need_is_refused_unread():
    # 20,000 characters at most need well under 3 MB of XML; this one has 4 MB of empty paragraphs.
    bloated = _docx_with_body(b"<w:p/>" * 700_000)
    tracemalloc.start()
    try:
        with pytest.raises(EssayFileError, match="unpacks to far more than an essay of at most 20,000 characters"):
            extract_text("essay.docx", bloated, max_bytes=2_000_000, max_chars=20_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, "refused from the archive's index: its 4 MB of XML never unpacked"


def test_a_docx_that_understates_its_size_is_not_read_past_it():
    """zipfile stops at the declared size and fails the CRC check: the size check cannot be
    dodged by a forged directory entry."""
    import struct

    data = bytearray(_docx_with_body(_paragraphs(300_000)))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml")
    struct.pack_into("<I", data, info.header_offset + 22, 5000)          # local header
    entry = data.find(b"PK\x01\x02")
    while entry >= 0:                                                      # central directory
        length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46:entry + 46 + length] == b"word/document.xml":
            struct.pack_into("<I", data, entry + 24, 5000)
        entry = data.find(b"PK\x01\x02", entry + 4)
    with pytest.raises(EssayFileError, match="could not be read"):
        extract_text("essay.docx", bytes(data), max_bytes=2_000_000, max_chars=100_000)


def test_a_docx_with_entity_definitions_is_refused():
    """Entities are how a few bytes of XML expand to gigabytes; Word never writes a DTD."""
    doctype = b'<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    bomb = _docx_with_body(b"<w:p><w:r><w:t>&b;</w:t></w:r></w:p>", doctype=doctype)
    with pytest.raises(EssayFileError, match="could not be read"):
        extract_text("essay.docx", bomb, max_bytes=2_000_000, max_chars=100_000)


def _formatted_docx(characters: int) -> tuple[bytes, str]:
    """A .docx with every word in its own formatted run, the heaviest XML per character a real
    essay has; returns it with its text."""
    import docx
    from docx.shared import Pt, RGBColor

    document, words, written = docx.Document(), [], 0
    paragraph = document.add_paragraph()
    while written < characters:
        word = f"word{len(words) % 97} "
        run = paragraph.add_run(word)
        run.bold, run.italic, run.underline = len(words) % 2 == 0, len(words) % 3 == 0, len(words) % 5 == 0
        run.font.name, run.font.size, run.font.color.rgb = "Times New Roman", Pt(12), RGBColor(0x20, 0x40, 0x60)
        words.append(word)
        written += len(word)
        if len(words) % 120 == 0:
            paragraph = document.add_paragraph()
    out = io.BytesIO()
    document.save(out)
    lines, line = [], []
    for i, word in enumerate(words, start=1):
        line.append(word)
        if i % 120 == 0:
            lines.append("".join(line).rstrip())
            line = []
    lines.append("".join(line).rstrip())
    return out.getvalue(), "\n".join(lines).strip()


def test_a_heavily_formatted_docx_at_the_character_limit_is_read_whole():
    data, expected = _formatted_docx(19_500)
    assert extract_text("essay.docx", data, max_bytes=2_000_000, max_chars=20_000) == expected


def test_word_xml_details_are_read_as_word_shows_them():
    """Tab stops (w:tab in paragraph properties) are no tabs; a text box's fallback copy is not read
    twice; a table inside a table cell is read once."""
    body = (b"<w:p><w:r><w:t>Title</w:t></w:r></w:p>"
            b'<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Second</w:t></w:r></w:p>'
            b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>outer</w:t></w:r></w:p>"
            b"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>inner</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
            b"</w:tc><w:tc><w:p><w:r><w:t>right</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
            b'<w:p><w:r><w:t xml:space="preserve">Before </w:t></w:r><w:r>'
            b'<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
            b"<mc:Choice><w:drawing><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p></w:txbxContent>"
            b"</w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>boxed</w:t></w:r></w:p>"
            b"</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>")
    text = extract_text("essay.docx", _docx_with_body(body), max_bytes=2_000_000, max_chars=1000)
    assert text.split("\n") == ["Title", "Second", "outer inner\tright", "Before", "boxed"]


def test_a_docx_too_long_for_the_apps_limit_is_refused_on_hand_in(make_app):
    app = make_app(max_essay_chars=1000)
    world = build_world(app)
    client = app.test_client()
    token = _student(client, app, world)
    response = _hand_in(client, world, token, file=("essay.docx", _docx_with_body(_paragraphs(5000))))
    assert response.status_code == 400 and "more than 1,000 characters; the limit is 1,000" in _text(response)
    with app.app_context():
        assert count(Submission, user_id=world.student2_a) == 0


# CSV import errors a teacher can act on -----------------------------------------------------------

def test_a_stray_quote_is_reported_on_the_row_and_line_where_its_row_starts(client, app, world):
    token = _teacher(client, app, world)
    rows = [f"Essay number {i} is about things and more words to fill it up nicely.,3" for i in range(2500)]
    rows[3] = '"Essay with a stray quote,3'                                  # file line 5
    response = _import(client, world, token, ("text,score\n" + "\n".join(rows) + "\n").encode())
    text = _text(response)
    assert response.status_code == 400
    assert "row 5 (line 5 of the file) has a quote (\") that is never closed" in text
    assert "field limit" not in text and "1700" not in text


def test_an_unclosed_quote_after_a_multi_line_essay_names_its_own_row(client, app, world):
    token = _teacher(client, app, world)
    data = b'text,score\n"An essay\nover\nthree lines.",4\n"Unclosed,3\nNext essay.,2\n'
    response = _import(client, world, token, data)
    assert response.status_code == 400 and "row 3 (line 5 of the file) has a quote" in _text(response)


def test_text_after_a_closing_quote_is_explained(client, app, world):
    token = _teacher(client, app, world)
    response = _import(client, world, token, b'text,score\nFine.,3\n"She said "no" twice.,4\n')
    text = _text(response)
    assert response.status_code == 400
    assert "in row 3 (line 3 of the file) a value in quotes is followed by more text before the next comma" in text
    assert "write each quote twice" in text


def test_old_mac_line_endings_with_semicolons_in_essays_import(client, app, world):
    token = _teacher(client, app, world)
    data = b"text,score\rFirst; with a semicolon; or two.,4\rSecond; also; here; and here.,3\r"
    assert _import(client, world, token, data).status_code == 303
    with app.app_context():
        texts = db.session.scalars(db.select(Submission.text).filter_by(user_id=None).order_by(Submission.id)).all()
    assert texts == ["First; with a semicolon; or two.", "Second; also; here; and here."]


def test_old_mac_line_endings_give_the_right_line_numbers(client, app, world):
    token = _teacher(client, app, world)
    bad_score = _import(client, world, token, b"text,score\rFine.,3\rAlso fine.,9\r")
    assert bad_score.status_code == 400 and 'Row 3 (essay starting "Also fine."): score must be a number from 1 to 6' in _text(bad_score)
    not_utf8 = _import(client, world, token, b"text,score\rFine.,3\rcaf\xe9,4\r")
    assert not_utf8.status_code == 400 and "first bad byte on line 3" in _text(not_utf8)


def test_an_overlong_group_is_said_in_words(client, app, world):
    token = _teacher(client, app, world)
    response = _import(client, world, token, ("text,score,group\nAn essay.,4," + "g" * 101 + "\n").encode())
    text = _text(response)
    assert response.status_code == 400 and 'Row 2 (essay starting "An essay."): group is longer than 100 characters' in text
    assert "Longer than maximum length" not in text


# File names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,cleaned", [
    ("essay\x00.txt", "essay.txt"), ("\tmy\x07 essay.md \n", "my essay.md"),
    ("essay\u202etxt.exe", "essaytxt.exe"), ("x" * 300 + ".docx", "x" * 250 + ".docx"), ("\x00", ""),
])
def test_file_names_lose_control_characters(name, cleaned):
    assert clean_filename(name) == cleaned


def test_a_control_character_does_not_hide_the_extension():
    assert extract_text("essay.t\x00xt", b"An essay.", max_bytes=100) == "An essay."


@pytest.mark.postgres
def test_a_nul_in_an_uploaded_file_name_is_no_500_on_postgres(make_app, own_postgres):
    app = make_app(database_url=own_postgres)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    world = build_world(app)
    client = app.test_client()
    token = _student(client, app, world)
    response = _hand_in(client, world, token, file=("essay\x00.txt", b"An essay in a file."))
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Submission.filename).filter_by(user_id=world.student2_a)) == "essay.txt"


def test_an_essay_longer_than_the_csv_modules_own_limit_imports_where_the_deployment_allows_it(
        client, app, world):
    """Python's csv reader caps one value at 131,072 characters: with GRADELOOP_MAX_ESSAY_CHARS set
    above that, a genuinely long essay was reported as a quote never closed."""
    import csv

    app.config["GRADELOOP_MAX_ESSAY_CHARS"] = 200_000
    # The limit is process-wide and the worker's corpus reader raises it: start from the default.
    previous = csv.field_size_limit(131_072)
    token = _teacher(client, app, world)
    long_essay = " ".join(["Homework, when it is optional, lets students rest and read."] * 2500)   # ~150,000
    assert 131_072 < len(long_essay) < 200_000
    response = _import(client, world, token, f'text,score\n"{long_essay}",4\n'.encode())
    csv.field_size_limit(max(previous, csv.field_size_limit()))
    assert response.status_code == 303, _text(response)[:600]
    with app.app_context():
        stored = db.session.scalars(db.select(Submission).filter_by(assignment_id=world.assignment_a)).all()
        assert [len(s.text) for s in stored if len(s.text) > 131_072] == [len(long_essay)]
