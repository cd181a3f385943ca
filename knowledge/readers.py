"""Reading source files into `ParsedDocument`s (Markdown, text, HTML, PDF, DOCX)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from knowledge.types import ParsedDocument

DOCUMENT_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx"}
TEMPLATE_SUFFIXES = {".csv", ".json", ".yaml", ".yml"}
MAX_BYTES = 20 * 1024 * 1024


MAX_DOCX_INFLATED = 64 * 1024 * 1024


class ReadError(ValueError):
    """A file that cannot be ingested; the message is shown to the user."""


def is_templates_file(path: Path) -> bool:
    return path.name.lower().startswith("templates") and path.suffix.lower() in TEMPLATE_SUFFIXES


def is_document_file(path: Path) -> bool:
    return path.suffix.lower() in DOCUMENT_SUFFIXES


def decode_text(data: bytes) -> str:
    """Strict UTF-8 (BOM allowed); binary garbage raises `ReadError`."""
    if b"\x00" in data[:8192]:
        raise ReadError("binary content (NUL bytes), not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(f"not valid UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if bad > max(8, len(text) // 100):
        raise ReadError("binary content (control characters), not a text file")
    return text


_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
# Front matter is a title, a language and some tags: more than this is no front matter we read.
MAX_FRONT_MATTER = 16 * 1024


class _NoAliases(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases: a few hundred bytes of nested aliases expand to gigabytes
    ("billion laughs"), and no file we read needs them."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


def load_yaml(text: str) -> object:
    """`yaml.safe_load` without anchors and aliases (a `yaml.YAMLError` names the place of one)."""
    loader = _NoAliases(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def split_front_matter(text: str) -> tuple[dict, str]:
    """Split YAML front matter off a Markdown text; malformed front matter raises `ReadError`."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    if len(m.group(1)) > MAX_FRONT_MATTER:
        raise ReadError(f"front matter longer than {MAX_FRONT_MATTER // 1024} KB: refused")
    try:
        meta = load_yaml(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ReadError(f"malformed front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise ReadError("malformed front matter: expected a mapping")
    return meta, text[m.end() :]


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    return [str(value)]


MAX_URL = 2048


def public_url(value: object, where: str = "url") -> str | None:
    """A document's public page as given (front matter `url`): an absolute http(s) URL, or None if empty.

    Anything else (javascript:, data:, relative paths, spaces, control characters) raises `ReadError`: the URL
    becomes a link customers click, so a bad one refuses the file instead of reaching a page."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ReadError(f"{where} must be a text http(s) URL, not {type(value).__name__}")
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ReadError(f"{where} is not a valid URL: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ReadError(f"{where} must be an absolute http:// or https:// URL, got {url[:80]!r}")
    if len(url) > MAX_URL or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ReadError(f"{where} must be one URL without spaces or control characters (at most {MAX_URL})")
    return url


def _first_heading(text: str) -> str:
    m = re.search(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)
    return m.group(1).strip() if m else ""


def _read_markdown(data: bytes, path: Path) -> ParsedDocument:
    meta, body = split_front_matter(decode_text(data))
    title = str(meta.get("title") or "").strip() or _first_heading(body) or path.stem
    lang = str(meta["language"]).strip().lower() if meta.get("language") else None
    url = public_url(meta.get("url"), "front matter url")
    return ParsedDocument(
        body, title=title, language=lang, tags=_tags(meta.get("tags")), markdown=True, url=url
    )


def _read_text(data: bytes, path: Path) -> ParsedDocument:
    return ParsedDocument(decode_text(data), title=path.stem)


def _read_html(data: bytes, path: Path) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    lang = (soup.html.get("lang") or "").split("-")[0].lower() if soup.html else ""
    canonical = soup.find("link", rel="canonical")
    try:  # a saved page's canonical link is its public URL; an unusable one is only no link
        url = public_url(canonical.get("href") if canonical else None)
    except ReadError:
        url = None
    body = soup.body or soup
    lines: list[str] = []
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "tr", "dt", "dd"]):
        if el.find_parent(["li", "pre", "tr"]) is not None and el.name != "pre":
            continue
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name[0] == "h" and el.name[1:].isdigit():
            lines.append(f"\n{'#' * int(el.name[1:])} {text}\n")
        elif el.name == "li":
            lines.append(f"- {text}")
        elif el.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])]
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append(f"\n{text}\n")
    md = "\n".join(lines).strip() or body.get_text("\n", strip=True)
    title = title or _first_heading(md) or path.stem
    return ParsedDocument(md, title=title, language=lang or None, markdown=True, url=url)


def _read_pdf(data: bytes, path: Path) -> ParsedDocument:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ReadError(f"unreadable PDF: {exc}") from exc
    text = "\n\n".join(p for p in pages if p)
    return ParsedDocument(text, title=str(meta_title).strip() or path.stem)


def _read_docx(data: bytes, path: Path) -> ParsedDocument:
    import io
    import zipfile

    import docx
    from lxml.etree import XMLSyntaxError

    # A zip bomb inflates in memory inside python-docx: refuse by the declared sizes first.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ReadError(f"unreadable DOCX: {exc}") from exc
    if inflated > MAX_DOCX_INFLATED or inflated > 100 * max(len(data), 1):
        raise ReadError(f"DOCX inflates to {inflated} bytes: refused (zip bomb?)")
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError) as exc:
        raise ReadError(f"unreadable DOCX: {exc}") from exc
    lines: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style.startswith("heading") and style[-1:].isdigit():
            lines.append(f"\n{'#' * int(style[-1])} {text}\n")
        elif style == "title":
            lines.append(f"\n# {text}\n")
        elif "list" in style:
            lines.append(f"- {text}")
        else:
            lines.append(f"\n{text}\n")
    for table in document.tables:
        lines.append("")
        for row in table.rows:
            lines.append("| " + " | ".join(c.text.strip() for c in row.cells) + " |")
    md = "\n".join(lines).strip()
    title = (document.core_properties.title or "").strip() or _first_heading(md) or path.stem
    return ParsedDocument(md, title=title, markdown=True)


_READERS = {
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".txt": _read_text,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}


def read_document(data: bytes, path: Path) -> ParsedDocument:
    """Parse a document file's bytes; raises `ReadError` with a clear message when it cannot."""
    if not data.strip():
        raise ReadError("empty file")
    doc = _READERS[path.suffix.lower()](data, path)
    if not doc.text.strip():
        raise ReadError("no text content")
    return doc
