"""Reading regulation documents (Markdown, plain text, HTML, PDF) into headed text blocks with a citation.

A chunk is only useful to an auditor if it can be cited: who issued it (source), which standard,
which paragraph, its title and effective date. Those come, in order of preference, from the file's
own front matter (Markdown) or ``<meta>`` tags (HTML), from a sidecar ``<file>.meta.json`` /
``.meta.yaml`` next to it, and from the caller's defaults (the CLI options); what is still missing
is inferred from the text ("AS 2401" in a heading names the standard and, through it, the source).
A document whose source or standard cannot be established is refused with a message naming the
file and the field, because an uncitable chunk would be worse than none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text",
            ".html": "html", ".htm": "html", ".pdf": "pdf"}
METADATA_FIELDS = ("id", "source", "standard", "title", "effective_date", "url", "notice")

# Which body issues which standard, so "ISA 240" alone is enough to cite "IAASB".
_STANDARD_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bAU-C\s?\d{3}\b"), "AICPA"),
    (re.compile(r"\bAT-C\s?\d{3}\b"), "AICPA"),
    (re.compile(r"\bAS\s?\d{4}\b"), "PCAOB"),
    (re.compile(r"\bQC\s?1000\b"), "PCAOB"),
    (re.compile(r"\bISA\s?\d{3}\b"), "IAASB"),
    (re.compile(r"\bISQM\s?\d\b"), "IAASB"),
    (re.compile(r"\bASC\s?\d{3}(?:-\d{2})?\b"), "FASB"),
    (re.compile(r"\bRegulation\s+S-[XK]\b"), "SEC"),
)


class CorpusError(ValueError):
    """A document that cannot be ingested, with the file and field that are wrong."""


@dataclass(frozen=True)
class Block:
    """A run of text in reading order: a heading (level >= 1) or a body paragraph (level 0)."""

    text: str
    level: int = 0
    page: int | None = None

    @property
    def is_heading(self) -> bool:
        return self.level > 0


@dataclass(frozen=True)
class DocumentMetadata:
    """What every chunk of a document is cited by."""

    document_id: str
    source: str
    standard: str
    title: str
    effective_date: date | None = None
    url: str | None = None
    notice: str | None = None


@dataclass
class SourceDocument:
    """A parsed file: its citation metadata and its blocks."""

    path: Path
    kind: str
    metadata: DocumentMetadata
    blocks: list[Block] = field(default_factory=list)


# --- Readers ------------------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MARKUP = re.compile(r"(\*\*|__|`)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    """YAML front matter between ``---`` lines, and the body after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    import yaml

    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as bad:
        raise CorpusError(f"{path}: the front matter is not valid YAML ({bad})") from bad
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: the front matter must be key: value pairs")
    return data, text[match.end():]


def markdown_blocks(body: str) -> list[Block]:
    """Headings and blank-line separated paragraphs; list items stay with their paragraph."""
    blocks: list[Block] = []
    lines: list[str] = []

    def flush() -> None:
        text = _clean(" ".join(line.strip() for line in lines))
        if text:
            blocks.append(Block(text))
        lines.clear()

    for raw in body.splitlines():
        heading = _HEADING.match(raw)
        if heading:
            flush()
            blocks.append(Block(_clean(heading.group(2)), level=len(heading.group(1))))
        elif not raw.strip():
            flush()
        else:
            line = raw.strip().lstrip(">").strip()
            if line.startswith(("- ", "* ", "+ ")):
                line = line[2:].strip()
                if lines and not lines[-1].endswith((".", ":", ";", "?", "!")):
                    lines[-1] += ";"
            lines.append(line)
    flush()
    return blocks


def text_blocks(body: str) -> list[Block]:
    """Plain text: blank lines separate paragraphs; a line starting with a paragraph number starts one."""
    blocks: list[Block] = []
    for page_number, page in enumerate(body.split("\f"), start=1):
        blocks.extend(_lines_to_blocks(page.splitlines(), page=page_number if "\f" in body else None))
    return blocks


def html_blocks(html: str) -> tuple[dict[str, Any], list[Block]]:
    """Headings, paragraphs, list items and block quotes in document order, plus citation ``<meta>`` tags.

    Metadata tags are ``<meta name="auditray:source" content="PCAOB">`` (and ``:standard``, ``:title``,
    ``:effective_date``, ``:url``, ``:id``, ``:notice``); ``<title>`` and the canonical link fill in
    the title and URL.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    metadata: dict[str, Any] = {}
    for tag in soup.find_all("meta"):
        name = (tag.get("name") or tag.get("property") or "").lower()
        if name.startswith("auditray:") and tag.get("content"):
            metadata[name.removeprefix("auditray:").replace("-", "_")] = tag["content"].strip()
    if soup.title and soup.title.string and "title" not in metadata:
        metadata["title"] = soup.title.string.strip()
    canonical = soup.find("link", rel="canonical")
    if canonical and canonical.get("href") and "url" not in metadata:
        metadata["url"] = canonical["href"]
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    blocks: list[Block] = []
    wanted = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "dd", "td"]
    for element in (soup.body or soup).find_all(wanted):
        if element.find_parent(wanted):
            continue  # its text is part of the enclosing block already
        text = _clean(element.get_text(" ", strip=True))
        if not text:
            continue
        level = int(element.name[1]) if element.name in {"h1", "h2", "h3", "h4", "h5", "h6"} else 0
        blocks.append(Block(text, level=level))
    return metadata, blocks


def pdf_blocks(path: Path) -> tuple[dict[str, Any], list[Block]]:
    """Text of each page, split at blank lines and at lines that begin a numbered paragraph."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, OSError) as bad:
        raise CorpusError(f"{path}: not a readable PDF ({bad})") from bad
    metadata: dict[str, Any] = {}
    info = reader.metadata
    if info is not None and info.title:
        metadata["title"] = str(info.title).strip()
    blocks: list[Block] = []
    for number, page in enumerate(pages, start=1):
        blocks.extend(_lines_to_blocks(page.splitlines(), page=number))
    if not any(b.text for b in blocks):
        raise CorpusError(f"{path}: the PDF has no extractable text (scanned images need OCR first)")
    return metadata, blocks


_NUMBERED_LINE = re.compile(r"^(?:\.\d{1,3}[A-Z]?|A?\d{1,3}[A-Z]?\.)\s+\S")


def _lines_to_blocks(lines: list[str], page: int | None) -> list[Block]:
    blocks: list[Block] = []
    current: list[str] = []

    def flush() -> None:
        text = _clean(" ".join(current))
        if text:
            blocks.append(Block(text, page=page))
        current.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            continue
        if _NUMBERED_LINE.match(line):
            flush()
        if current and current[-1].endswith("-") and not current[-1].endswith(" -"):
            current[-1] = current[-1][:-1] + line  # a word hyphenated across a line break
        else:
            current.append(line)
    flush()
    return blocks


def _clean(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _MARKUP.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


# --- Metadata -----------------------------------------------------------------------------------------


def sidecar_metadata(path: Path) -> dict[str, Any]:
    """``<file>.meta.json`` / ``.meta.yaml`` / ``.meta.yml`` next to the file, if there is one."""
    for suffix in (".meta.json", ".meta.yaml", ".meta.yml"):
        sidecar = path.with_name(path.name + suffix)
        if not sidecar.is_file():
            continue
        try:
            if suffix == ".meta.json":
                data = json.loads(sidecar.read_text(encoding="utf-8"))
            else:
                import yaml

                data = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
        except (ValueError, ImportError) as bad:
            raise CorpusError(f"{sidecar}: cannot read the sidecar metadata ({bad})") from bad
        if not isinstance(data, dict):
            raise CorpusError(f"{sidecar}: the sidecar must hold key: value pairs")
        return data
    return {}


def infer_standard(*texts: str) -> str | None:
    """The first standard reference ("AS 2401", "ISA 240", "ASC 606") in the given texts."""
    for text in texts:
        for pattern, _ in _STANDARD_PATTERNS:
            found = pattern.search(text or "")
            if found:
                return re.sub(r"^(AS|ISA|ASC|QC|ISQM|AU-C|AT-C)\s?", r"\1 ", found.group(0))
    return None


def infer_source(standard: str) -> str | None:
    """The issuing body implied by a standard's name."""
    for pattern, source in _STANDARD_PATTERNS:
        if pattern.search(standard):
            return source
    return None


def resolve_metadata(path: Path, found: Mapping[str, Any], defaults: Mapping[str, Any],
                     blocks: list[Block], *, org_id: int | None = None) -> DocumentMetadata:
    """Merge file, sidecar and default metadata, infer what is missing, and check every field."""
    unknown = sorted(set(defaults) - set(METADATA_FIELDS))
    if unknown:
        raise CorpusError(f"unknown metadata field(s) {', '.join(unknown)}; use {', '.join(METADATA_FIELDS)}")
    merged: dict[str, Any] = {k: v for k, v in defaults.items() if v not in (None, "")}
    merged.update({k: v for k, v in sidecar_metadata(path).items() if v not in (None, "")})
    merged.update({k: v for k, v in found.items() if v not in (None, "")})

    headings = [b.text for b in blocks if b.is_heading][:3]
    title = str(merged.get("title") or (headings[0] if headings else path.stem.replace("_", " "))).strip()
    standard = str(merged.get("standard") or infer_standard(title, path.stem, *headings) or "").strip()
    if not standard:
        raise CorpusError(f"{path}: no 'standard' — give it in the front matter, a sidecar "
                          f"{path.name}.meta.json, or --standard")
    source = str(merged.get("source") or infer_source(standard) or "").strip().upper()
    if not source:
        raise CorpusError(f"{path}: no 'source' (PCAOB, AICPA, IAASB, SEC, FASB...) for {standard!r} — give it "
                          f"in the front matter, a sidecar {path.name}.meta.json, or --source")
    effective = _as_date(merged.get("effective_date"), path)
    url = merged.get("url")
    if url is not None and not re.match(r"^https?://\S+$", str(url)):
        raise CorpusError(f"{path}: url {url!r} is not an http(s) address")
    document_id = str(merged.get("id") or f"{_slug(source)}/{_slug(standard)}/{_slug(path.stem)}")
    if org_id is not None:
        document_id = f"org{org_id}/{document_id}"
    return DocumentMetadata(document_id=document_id, source=source, standard=standard, title=title,
                            effective_date=effective, url=str(url) if url else None,
                            notice=str(merged["notice"]).strip() if merged.get("notice") else None)


def _as_date(value: Any, path: Path) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise CorpusError(f"{path}: effective_date {value!r} is not a date (YYYY-MM-DD)") from None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --- Entry point --------------------------------------------------------------------------------------


def read_document(path: Path, defaults: Mapping[str, Any] | None = None, *,
                  org_id: int | None = None) -> SourceDocument:
    """Parse one file into blocks and its citation metadata."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise CorpusError(f"{path}: unsupported file type {path.suffix!r}; use {', '.join(sorted(SUFFIXES))}")
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    found: dict[str, Any] = {}
    if kind == "pdf":
        found, blocks = pdf_blocks(path)
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as bad:
            raise CorpusError(f"{path}: not UTF-8 text (byte {bad.start})") from bad
        if kind == "markdown":
            found, body = split_front_matter(text, path)
            blocks = markdown_blocks(body)
        elif kind == "html":
            found, blocks = html_blocks(text)
        else:
            found, body = split_front_matter(text, path)
            blocks = text_blocks(body)
    metadata = resolve_metadata(path, found, defaults or {}, blocks, org_id=org_id)
    if not any(not b.is_heading for b in blocks):
        raise CorpusError(f"{path}: no text to ingest")
    return SourceDocument(path=path, kind=kind, metadata=metadata, blocks=blocks)
