"""Chunks that follow the standard's own structure: a numbered paragraph under its heading.

A paragraph of a standard is what an auditor cites (AS 2401.61, ISA 240.32(a)), so it is the natural
unit: a chunk never spans two numbered paragraphs or two headings. Short consecutive blocks of the
same paragraph are joined; a paragraph longer than ``max_chars`` is split at sentence ends (MiniLM
reads at most 256 tokens, roughly 1,000 characters of English).

Chunk ids are stable across re-ingests: a hash of the document, source, standard, paragraph (or
heading, for unnumbered sections) and the chunk's position within that paragraph. Rewording a
paragraph keeps its id; the content hash tells that it changed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from auditray.rag.documents import SourceDocument

MAX_CHARS = 1000

_REF = (r"(?:\.A?\d{1,3}[A-Z]?(?:\([a-z0-9]{1,4}\))*"        # PCAOB .58, .06A, .59(a), appendix .A7
        r"|A\d{1,3}[A-Z]?"                                    # ISA application material A41
        r"|\d{3}-\d{2}-\d{2}-\d{1,3}[A-Z]?"                   # FASB codification 606-10-25-1
        r"|\d{1,3}[A-Z]?(?:\([a-z0-9]{1,4}\))*"               # ISA 32, 32(a), 13(b)(ii)
        r"|Rules?\s\d{1,2}-\d{2}[A-Z]?(?:\([a-z0-9]{1,4}\))*"   # Regulation S-X Rule 2-01(c)(4)
        r"|Appendix\s(?:\d{1,2}|[A-Z])\b|Articles?\s\d{1,2}|Item\s\d{3}(?:\([a-z0-9]{1,4}\))*|Section\s\d{3}(?:\([a-z0-9]{1,4}\))*)")
_JOIN = r"(?:\s?[–—-]\s?|\s(?:and|to)\s|,\s?)"
_LEADING_REF = re.compile(rf"^(?:¶\s?|Paragraphs?\s)?({_REF}(?:{_JOIN}{_REF})*)(?=[\s.:,;]|$)[.:]?\s*")
_BODY_REF = re.compile(r"^(\.\d{1,3}[A-Z]?|A?\d{1,3}[A-Z]?\.)\s+(?=[A-Z(\"'])")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(\"'])")


@dataclass(frozen=True)
class Chunk:
    """One citable passage and everything needed to cite it."""

    chunk_id: str
    document_id: str
    source: str
    standard: str
    paragraph: str
    title: str
    heading: str
    text: str
    ordinal: int
    effective_date: date | None = None
    url: str | None = None
    notice: str | None = None
    page: int | None = None

    @property
    def citation(self) -> str:
        return citation_label(self.source, self.standard, self.paragraph)

    @property
    def search_text(self) -> str:
        """What is embedded and full-text indexed: the citation and headings give a chunk its topic."""
        context = " — ".join(part for part in (self.title, self.heading) if part)
        return f"{self.citation}. {context}.\n{self.text}"

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.search_text.encode("utf-8")).hexdigest()[:32]


def citation_label(source: str, standard: str, paragraph: str) -> str:
    """How an auditor writes the reference: "PCAOB AS 2401.61", "IAASB ISA 240.A45", "FASB ASC 606-10-25-1"."""
    if not paragraph:
        reference = standard
    elif paragraph.startswith("."):
        reference = f"{standard}{paragraph}"
    elif re.match(r"^\d{3}-\d{2}-", paragraph):
        reference = f"{standard.split()[0]} {paragraph}" if " " in standard else paragraph
    elif re.match(r"^A?\d", paragraph):
        reference = f"{standard}.{paragraph}"
    else:
        reference = f"{standard} {paragraph}"
    return f"{source} {reference}"


def paragraph_reference(text: str) -> tuple[str | None, str]:
    """The paragraph number a heading starts with (".58–.62", "A41", "606-10-25-1") and the rest."""
    match = _LEADING_REF.match(text)
    if not match:
        return None, text
    return match.group(1).replace(" ", " ").replace("—", "–").replace(" – ", "–"), text[match.end():].strip()


def chunk_id(document_id: str, source: str, standard: str, anchor: str, ordinal: int) -> str:
    """Stable id: the same paragraph of the same document keeps its id when the text is revised."""
    key = "\x1f".join((document_id, source, standard, anchor, str(ordinal)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def split_sentences(text: str) -> list[str]:
    """Sentences (and list items ended by a semicolon), for splitting long paragraphs and for quoting."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def chunk_document(document: SourceDocument, *, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """The document's chunks in reading order."""
    meta = document.metadata
    chunks: list[Chunk] = []
    ordinals: dict[str, int] = {}
    headings: dict[int, str] = {}
    paragraph = ""
    page: int | None = None
    buffer: list[str] = []

    def heading_text() -> str:
        levels = sorted(level for level in headings if level >= 2) or sorted(headings)
        parts = [headings[level] for level in levels if headings[level] and headings[level] != meta.title]
        return " — ".join(parts[-2:])

    def emit(text: str) -> None:
        heading = heading_text()
        anchor = paragraph or heading
        ordinal = ordinals.get(anchor, 0)
        ordinals[anchor] = ordinal + 1
        chunks.append(Chunk(
            chunk_id=chunk_id(meta.document_id, meta.source, meta.standard, anchor, ordinal),
            document_id=meta.document_id, source=meta.source, standard=meta.standard, paragraph=paragraph,
            title=meta.title, heading=heading, text=text, ordinal=ordinal, effective_date=meta.effective_date,
            url=meta.url, notice=meta.notice, page=page,
        ))

    def flush() -> None:
        if buffer:
            for piece in _fit(" ".join(buffer), max_chars):
                emit(piece)
            buffer.clear()

    for block in document.blocks:
        if block.is_heading:
            flush()
            reference, rest = paragraph_reference(block.text)
            for level in [lv for lv in headings if lv >= block.level]:
                del headings[level]
            headings[block.level] = rest or block.text
            if block.level == 1 and not reference:
                paragraph = ""
            elif reference:
                paragraph = reference
            elif block.level >= 2:
                paragraph = ""
            continue
        body_ref = _BODY_REF.match(block.text)
        if body_ref:
            flush()
            paragraph = body_ref.group(1).rstrip(".") if not body_ref.group(1).startswith(".") else body_ref.group(1)
        if buffer and len(" ".join(buffer)) + len(block.text) + 1 > max_chars:
            flush()
        if not buffer:
            page = block.page
        buffer.append(block.text)
    flush()
    return chunks


def _fit(text: str, max_chars: int) -> list[str]:
    """The text in pieces of at most ``max_chars``, cut at sentence ends where possible."""
    if len(text) <= max_chars:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        while len(sentence) > max_chars:  # one enormous sentence: cut at a word boundary
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > max_chars:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces
