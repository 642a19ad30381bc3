"""Reading HTML forms out of a page, the way a browser sees an auto-submitting form.

The test peer drives LTI flows with `requests` (no JavaScript), so it reads the form the tool or
the platform would have auto-submitted and submits it itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


@dataclass
class Form:
    action: str
    method: str = "GET"
    target: str = ""
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self, base_url: str):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.forms: list[Form] = []
        self._current: Form | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = Form(action=urljoin(self.base_url, attrs.get("action", "")),
                                 method=(attrs.get("method") or "GET").upper(), target=attrs.get("target", ""))
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attrs.get("name"):
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return   # a browser sends only the boxes that are ticked
            if kind not in ("submit", "button", "image", "reset"):
                self._current.fields[attrs["name"]] = attrs.get("value", "on" if kind == "checkbox" else "")
        elif tag == "textarea" and self._current is not None and attrs.get("name"):
            self._textarea = attrs["name"]
            self._current.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea is not None and self._current is not None:
            self._current.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._current = None


def parse_forms(html: str, base_url: str = "") -> list[Form]:
    parser = _FormParser(base_url)
    parser.feed(html)
    return parser.forms


def find_form(html: str, base_url: str = "", *, with_field: str | None = None) -> Form | None:
    """The first form (that has `with_field`, if given)."""
    for form in parse_forms(html, base_url):
        if with_field is None or with_field in form.fields:
            return form
    return None
