"""The text of an HTML mail body, for a mail stored as its body (docs/intake-documents.md).

A mail without attachment is stored as one plain-text document. When it has only an HTML body,
``html_to_text`` keeps what a reader sees: the text, a line break per block or table row, a tab
between table cells, and a link's address after its text when they differ. Scripts, styles and the head are
dropped; nothing is fetched (images and links stay addresses) and nothing is run. Built on the
standard library's tolerant ``html.parser``; it never raises for what the HTML holds.
"""

import re
from html.parser import HTMLParser

_BLOCKS = {
    "p",
    "div",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "address",
}
_LINES = {"br", "tr", "li", "dd", "dt"}  # end a line, without a blank line
_DROPPED = {"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg"}
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_TRAILING = re.compile(r"[ \t]+\n")
_RUNS = re.compile(r"[ \t\r\f\v]+")


class _TextOf(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropped = 0
        self.link: str | None = None
        self.link_text: list[str] = []
        self.first_cell = True

    def handle_starttag(self, tag, attrs):
        if tag in _DROPPED:
            self.dropped += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "tr":
            self.first_cell = True
        elif tag in ("td", "th"):
            if not self.first_cell:
                self.parts.append("\t")
            self.first_cell = False
        elif tag == "a":
            self.link = next((value for name, value in attrs if name == "href" and value), None)
            self.link_text = []

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCKS or tag in _LINES:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _DROPPED:
            self.dropped = max(0, self.dropped - 1)
        elif tag in _BLOCKS or (tag in _LINES and tag != "br"):
            self.parts.append("\n")
        elif tag == "a" and self.link:
            text = "".join(self.link_text).strip()
            if (
                self.link.startswith(("http://", "https://", "mailto:"))
                and self.link.removeprefix("mailto:") != text
            ):
                self.parts.append(f" <{self.link}>")
            self.link = None

    def handle_data(self, data):
        if self.dropped:
            return
        data = _RUNS.sub(" ", data.replace("\n", " "))
        self.parts.append(data)
        if self.link:
            self.link_text.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOf()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is tolerant; keep what was read if it gives up
        pass
    text = "".join(parser.parts)
    text = _TRAILING.sub("\n", text)
    text = "\n".join(line.strip(" ") for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()
