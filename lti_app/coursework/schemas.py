"""Marshmallow schemas for everything teachers and students type: assignment set-up, settings,
grades, and the rows of an imported CSV (built per assignment, since its scales decide validity).
A grade form naming a trait the assignment no longer has (the rubric was edited while the page was
open) is refused rather than saved without that score."""
from __future__ import annotations

import re

from marshmallow import (EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate,
                         validates_schema)

from lti_app.coursework.essay_text import has_visible_text
from lti_app.models import MIN_TRAINING_ESSAYS, FeedbackMode

MAX_SCALE = 1000
MAX_TRAITS = 12
MAX_COMMENT = 20_000
MAX_GROUP = 100
MAX_COUNT = 100_000   # essays to train from, grades between retrainings
# The name starts and ends with a visible character and the separator is ": " or spaces, so no two
# parts of the pattern can take the same spaces: the old `[^:\n]+?\s*[: ]\s*` tried every split
# of a run of spaces (a name followed by 1,000 spaces took 13 s). Numbers are capped at 9 digits:
# int() of a 5,000-digit one raised (a 500), and any number that long is out of range anyway.
TRAIT_LINE = re.compile(r"^\s*(?P<name>[^:\s](?:[^:\n]*?[^:\s])?)(?:\s*:\s*|\s+)(?P<min>-?\d{1,9})\s*"
                        r"(?:-|to|\.\.)\s*(?P<max>-?\d{1,9})\s*$")
# "&" is allowed ("Organisation & structure"): a name is a dict key (grades, JSON), a CSV header
# `trait:<name>` and a form field, all of which take it, and an HTML id (`_macros.field_id`),
# where only spaces are special (they become dots, so dots stay out: no two ids may collide).
TRAIT_NAME_CHAR = r"[\w &\-]"
MAX_TRAIT_NAME = 49
TRAIT_NAME = re.compile(rf"^\w{TRAIT_NAME_CHAR}{{0,{MAX_TRAIT_NAME - 1}}}$")
DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
# "1,000" is a thousand to an English spreadsheet and 1.0 to a European one: refused, not guessed.
THOUSANDS = re.compile(r"-?\d+(?:,\d{3})+")
# marshmallow's own words ("Field may not be null.", "Not a valid integer.") are for developers.
WHOLE_NUMBER = {k: "Enter a whole number." for k in ("required", "null", "invalid")}
TITLE_NEEDED = "Give the assignment a title (at most 200 characters)."


def _blank_to_none(data: dict, names) -> dict:
    data = dict(data)
    for name in names:
        if isinstance(data.get(name), str) and not data[name].strip():
            data[name] = None
    return data


def parse_traits(text: str) -> list[dict]:
    """"cohesion 1-5" per line -> [{"name": "cohesion", "min": 1, "max": 5}]. Every bad line is
    reported at once (one message each), so a teacher fixes them all in one round."""
    traits: list[dict] = []
    problems: list[str] = []
    lines = [(n, line) for n, line in enumerate((text or "").splitlines(), start=1) if line.strip()]
    for number, line in lines:
        if len(traits) + len(problems) == MAX_TRAITS:   # a pasted list of thousands stops here
            problems.append(f"Write at most {MAX_TRAITS} traits.")
            break
        try:
            trait = _parse_trait(line, traits)
        except ValueError as exc:
            problems.append(f"Line {number}: {exc}")
        else:
            traits.append(trait)
    if problems:
        raise ValidationError(problems)
    return traits


def _parse_trait(line: str, earlier: list[dict]) -> dict:
    match = TRAIT_LINE.match(line)
    if not match:
        raise ValueError(f"write each trait as 'name lowest-highest' with whole numbers from 0 to {MAX_SCALE}, "
                         f"e.g. 'cohesion 1-5'.")
    name, low, high = match["name"], int(match["min"]), int(match["max"])
    if not TRAIT_NAME.match(name):
        raise ValueError(_trait_name_problem(name))
    if not (0 <= low < high <= MAX_SCALE):
        raise ValueError(f"the scale must go up, from 0 or more to at most {MAX_SCALE}.")
    if any(t["name"].lower() == name.lower() for t in earlier):
        raise ValueError(f"trait '{name}' is listed twice.")
    return {"name": name, "min": low, "max": high}


def _trait_name_problem(name: str) -> str:
    """Why `name` fails TRAIT_NAME, naming the characters it may not use: the line's shape was
    right, so "write each trait as 'name lowest-highest'" would send the teacher looking elsewhere."""
    if len(name) > MAX_TRAIT_NAME:
        return f"a trait name can have at most {MAX_TRAIT_NAME} characters."
    others = sorted({c for c in name if not re.fullmatch(TRAIT_NAME_CHAR, c)})
    if others:
        return (f"“{name}” has {' '.join(f'“{c}”' for c in others)}: a trait name may use only letters, digits, "
                f"spaces, “-”, “_” and “&”.")
    return f"a trait name must start with a letter or digit, and “{name}” starts with “{name[0]}”."


def traits_text(traits: list[dict]) -> str:
    return "\n".join(f"{t['name']} {t['min']}-{t['max']}" for t in traits or [])


class _Traits(fields.String):
    """The rubric's lines, checked as a field (`parse_traits`), so their errors come in the same
    round as the other fields' errors: a `post_load` ran only once everything else passed."""

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_traits(super()._deserialize(value, attr, data, **kwargs) if value else "")


class AssignmentSchema(Schema):
    """Title, instructions, holistic scale and optional rubric traits."""

    class Meta:
        unknown = EXCLUDE

    title = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=TITLE_NEEDED), error_messages={"required": TITLE_NEEDED, "null": TITLE_NEEDED})
    prompt = fields.String(load_default="", validate=validate.Length(
        max=20_000, error="The instructions can have at most 20,000 characters."))
    score_min = fields.Integer(required=True, error_messages=WHOLE_NUMBER, validate=validate.Range(
        min=0, max=MAX_SCALE, error=f"The lowest score must be a whole number from 0 to {MAX_SCALE}."))
    score_max = fields.Integer(required=True, error_messages=WHOLE_NUMBER, validate=validate.Range(
        min=1, max=MAX_SCALE, error=f"The highest score must be a whole number from 1 to {MAX_SCALE}."))
    traits = _Traits(load_default=list)

    @pre_load
    def _strip(self, data, **kwargs):
        data = {k: (v.strip() if isinstance(v, str) else v) for k, v in dict(data).items()}
        return _blank_to_none(data, ("score_min", "score_max"))

    # Also when another field is wrong (the traits, say): a reversed scale is reported in the same
    # round rather than after the teacher fixed the rest.
    @validates_schema(skip_on_field_errors=False)
    def _scale(self, data, **kwargs):
        if "score_min" in data and "score_max" in data and data["score_min"] >= data["score_max"]:
            raise ValidationError("The highest score must be above the lowest.", "score_max")


class NewAssignmentSchema(AssignmentSchema):
    """A new assignment needs its instructions: students read them above the hand-in box, and the
    written feedback tells the topic's words from the essay's own by them. An untouched Deep
    Linking form used to add an assignment with none (and the LMS's name for the tool as title).
    Editing an older assignment that has none stays possible (`AssignmentSchema`)."""

    prompt = fields.String(required=True, validate=validate.Length(
        min=1, max=20_000, error="Write the prompt and instructions students answer (at most 20,000 characters)."),
        error_messages={"required": "Write the prompt and instructions students answer."})


class _Percent(fields.Float):
    """A share typed as the page and the dashboard show it: "60", "60%" and "0.6" all load as 0.6.
    With "%", or above 1, the number is a percentage; 1 and below stay a fraction, as the field
    used to take them (so "1" is 100%, and "1%" is 1%)."""

    MESSAGE = "Enter a percentage from 0 to 100, such as 60 for 60%."

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, validate=validate.Range(min=0.0, max=1.0, error=self.MESSAGE),
                         error_messages=dict.fromkeys(("required", "null", "invalid", "special"), self.MESSAGE),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        typed = value.strip() if isinstance(value, str) else value
        percent = isinstance(typed, str) and typed.endswith("%")
        number = super()._deserialize(typed[:-1].strip() if percent else typed, attr, data, **kwargs)
        return number / 100 if percent or number > 1 else number


def as_percent(share: float) -> str:
    """0.6 -> "60%", 0.625 -> "62.5%": the settings form shows the stored share as it takes it
    back. With its sign: "1" or "0.5" without one would be read as a fraction (100%, 50%), so a
    stored 1% saved unchanged became 100%."""
    return f"{round(share * 100, 4):g}%"


class SettingsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    feedback_mode = fields.Enum(FeedbackMode, by_value=True, required=True, error_messages=dict.fromkeys(
        ("required", "null", "unknown"), "Choose how automatic feedback works: Off, Review or Auto-release."))
    min_graded = fields.Integer(required=True, error_messages=WHOLE_NUMBER, validate=validate.Range(
        min=MIN_TRAINING_ESSAYS, max=MAX_COUNT, error=f"Enter a whole number from {MIN_TRAINING_ESSAYS} (the fewest "
                                                      f"a model can learn from) to {MAX_COUNT:,}."))
    retrain_every = fields.Integer(required=True, error_messages=WHOLE_NUMBER, validate=validate.Range(
        min=1, max=MAX_COUNT, error=f"Enter a whole number from 1 to {MAX_COUNT:,}."))
    confidence_threshold = _Percent(required=True)
    show_ai_label = fields.Boolean(load_default=False)
    allow_resubmit = fields.Boolean(load_default=False)
    anonymous_grading = fields.Boolean(load_default=False)
    blind_check = fields.Boolean(load_default=False)

    @pre_load
    def _checkboxes(self, data, **kwargs):
        data = dict(data)
        for name in ("show_ai_label", "allow_resubmit", "anonymous_grading", "blind_check"):
            data[name] = name in data and data[name] not in ("", "0", "false", "off")
        return data


class _Score(fields.Float):
    """A number; "4,5" from a European spreadsheet is 4.5, and "1,000" is refused (`THOUSANDS`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            if THOUSANDS.fullmatch(value):
                message = f"{value} may have a thousands separator: write {value.replace(',', '')} without one"
                if value.count(",") == 1:
                    message += f", or {value.replace(',', '.')} if the comma is a decimal point"
                raise ValidationError(message + ".")
            if DECIMAL_COMMA.fullmatch(value):
                value = value.replace(",", ".")
        return super()._deserialize(value, attr, data, **kwargs)


def _score_field(low: float, high: float, *, required: bool) -> fields.Float:
    message = f"must be a number from {low:g} to {high:g}"
    return _Score(required=required, allow_nan=False, validate=validate.Range(min=low, max=high, error=message),
                  # "special": nan, inf, or a number too big for a float ("1e309", 400 digits).
                  error_messages={"invalid": message, "special": message, "required": "is missing",
                                  "null": "is missing"}, allow_none=not required)


def _scored_schema(name: str, assignment, extra: dict, *, traits_required: bool,
                   unknown_trait_error: str | None = None) -> Schema:
    """Schema on `assignment`'s scales: score, trait scores (`trait:<name>`), comment, plus `extra`.
    Loads to {"score", "trait_scores", "comment", **extra}. With `unknown_trait_error`, a filled-in
    `trait:<name>` that is not one of the assignment's traits refuses the whole form with that
    message (formatted with `traits`, the names); without it, such fields are ignored."""
    attrs: dict = {"score": _score_field(assignment.score_min, assignment.score_max, required=True),
                   "comment": fields.String(load_default="", validate=validate.Length(
                       max=MAX_COMMENT, error=f"is longer than {MAX_COMMENT:,} characters")), **extra}
    scored = [k for k in attrs if k == "score" or k.startswith("trait:")]
    for trait in assignment.traits or []:
        key = f"trait:{trait['name']}"
        attrs[key] = _score_field(trait["min"], trait["max"], required=traits_required)
        scored.append(key)

    def _blank(self, data, **kwargs):
        data = {k: v.strip() if isinstance(v, str) and k != "text" else v for k, v in dict(data).items()}
        # `unknown = EXCLUDE` would drop the score of a trait renamed while the form was open, and
        # the grade would be saved without it. An empty one loses nothing, so it is let through.
        unknown = [f"“{k.split(':', 1)[1]}”" for k, v in data.items()
                   if k.startswith("trait:") and k not in scored and v not in (None, "")]
        if unknown and unknown_trait_error:
            named = f"the trait {unknown[0]}" if len(unknown) == 1 else f"the traits {', '.join(unknown)}"
            raise ValidationError(unknown_trait_error.format(traits=named))
        return _blank_to_none(data, scored + [k for k in extra if k != "text"])

    def _split(self, data, **kwargs):
        out = {k: v for k, v in data.items() if not k.startswith("trait:")}
        out["comment"] = out.get("comment") or ""
        out["trait_scores"] = {k.split(":", 1)[1]: v for k, v in data.items()
                               if k.startswith("trait:") and v is not None}
        return out

    attrs["Meta"] = type("Meta", (), {"unknown": EXCLUDE})
    attrs["_blank"] = pre_load(_blank)
    attrs["_split"] = post_load(_split)
    return type(name, (Schema,), attrs)()


def grade_schema(assignment) -> Schema:
    """What a teacher enters on the grading page or the review page (trait scores optional)."""
    return _scored_schema("GradeSchema", assignment, {}, traits_required=False, unknown_trait_error=(
        "The rubric of this assignment changed while you had this page open: it no longer has "
        "{traits}. Your grade and comment were not saved. The form below shows the current rubric with what "
        "you typed: check the trait scores, then save again."))


def _has_visible_text(value: str) -> None:
    """The hand-in's rule (`essay_text.normalise`): an essay of zero-width or other invisible characters is empty."""
    if not has_visible_text(value):
        raise ValidationError("is empty")


def import_row_schema(assignment, max_chars: int) -> Schema:
    """One CSV row of a previously graded essay: text, score, optional comment/traits/group."""
    text = fields.String(required=True, validate=[
        _has_visible_text,
        validate.Length(max=max_chars, error=f"is longer than {max_chars:,} characters")],
        error_messages={"required": "is missing", "null": "is missing"})
    group = fields.String(load_default=None, allow_none=True, validate=validate.Length(
        max=MAX_GROUP, error=f"is longer than {MAX_GROUP} characters"))
    return _scored_schema("ImportRowSchema", assignment, {"text": text, "group": group},
                          traits_required=False)


def load_posted_form(schema: Schema) -> tuple[dict | None, dict]:
    """(data, {}) for a valid POST, (None, errors) for an invalid one, (None, {}) on GET."""
    from flask import request

    if request.method != "POST":
        return None, {}
    try:
        return schema.load(request.form), {}
    except ValidationError as exc:
        return None, exc.messages
