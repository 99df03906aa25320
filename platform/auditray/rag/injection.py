"""Defence against prompt injection in questions and in retrieved text.

An answer in a workpaper must come from the standards, never from instructions smuggled into a
question ("ignore previous instructions...") or into an ingested document (a poisoned PDF that says
"you are now..."). The defence has three layers:

1. Detection: instruction-like patterns (override, role play, system-prompt probing, chat role tags,
   exfiltration, jailbreak phrases, instructions addressed to the answering system) are searched for
   in the text as written and in decoded variants (Unicode look-alikes and invisible characters,
   spaced-out letters, leetspeak, HTML entities, URL and ``\\u``/``\\x`` escapes, base64, hex, ROT13).
2. Neutralisation: flagged sentences are stripped from a question (the rest is answered, or the
   question is refused if nothing remains); a retrieved chunk that carries instructions is
   quarantined (listed, never quoted); every passage given to a language model is delimited and
   escaped as data, after the fixed instructions, which retrieved text can never replace.
3. Recording: every finding is returned with the answer (and stored with the chunk at ingest).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from urllib.parse import unquote

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
                        "\u2060-\u2064\u206a-\u206f\ufeff\ufe00-\ufe0f]")
# Cyrillic and Greek letters that render like Latin ones.
_LOOKALIKES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ո": "n", "ս": "u", "ν": "v", "ο": "o", "α": "a", "ε": "e",
    "ι": "i", "κ": "k", "τ": "t", "υ": "u", "Α": "a", "Β": "b", "Ε": "e", "Ι": "i", "Κ": "k", "Μ": "m",
    "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t", "Χ": "x", "Υ": "y", "А": "a", "В": "b", "Е": "e", "К": "k",
    "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c", "Т": "t", "Х": "x", "І": "i",
})
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})

_OBJECTS = (r"(?:instructions?|prompts?|rules|directions|guidelines|guardrails|context|messages?|constraints|"
            r"programming|training|directives)")
_PATTERNS: dict[str, tuple[str, ...]] = {
    "override": (
        (rf"\b(?:ignore|disregard|forget|discard)\b[^.\n]{{0,40}}?\b(?:previous|prior|preceding|above|earlier|"
         rf"all|any|your|the|these|those|system|original|initial|other|existing|safety)\b[^.\n]{{0,30}}?"
         rf"\b{_OBJECTS}"),
        (r"\b(?:override|bypass|circumvent|skip|disable)\b[^.\n]{0,30}?\b(?:your|the|all|any|system|safety)\s+"
         r"(?:instructions|prompts?|guardrails|safety|programming|filters|system\s+prompt)\b"),
        (r"\b(?:ignore|disregard|forget)\s+(?:everything|all|anything|what(?:ever)?\s+you\s+(?:were|have\s+been)\s+"
         r"told)\s*(?:above|before|previously|prior|so\s+far|earlier|that\s+came\s+before)\b"),
        (r"\b(?:disregard|ignore|forget)\s+(?:the|this)\s+(?:above|preceding|previous\s+(?:text|message|passage|"
         r"content|conversation))\b"),
        r"\b(?:new|updated|revised|real|actual|additional|override|hidden)\s+(?:system\s+)?instructions?\s*[:\-]",
        r"\binstead\s*,?\s+(?:you\s+(?:must|should|will)\s+)?(?:say|answer|respond|reply|output|print|write)\b",
    ),
    "role_play": (
        r"\byou\s+are\s+(?:now|no\s+longer)\b",
        (r"\b(?:act|behave|respond|answer)\s+as\s+(?:if\s+you\s+(?:were|are)\s+)?(?:an?\s+)?(?:unrestricted|"
         r"unfiltered|different|new|evil|jailbroken|developer|admin(?:istrator)?|root|ai|chatbot|"
         r"language\s+model)\b"),
        r"\bpretend\s+(?:to\s+be|you\s+are|that\s+you|you're)\b",
        r"\bfrom\s+now\s+on\b",
        r"\brole[\s-]?play\b",
        r"\byour\s+(?:new\s+)?(?:role|persona|identity)\s+is\b",
        r"\b(?:switch|enter|enable|activate)\s+(?:to\s+)?(?:developer|debug|admin|god|sudo)\s+mode\b",
    ),
    "system_prompt": (
        r"\b(?:system|developer|hidden|secret|initial)\s+(?:prompts?|instructions)\b",
        r"\b(?:system|developer)\s+messages?\b",
        (r"\b(?:reveal|print|show|repeat|output|display|leak|dump|recite|tell\s+me|give\s+me|what\s+(?:is|are|were))"
         r"\b[^.\n]{0,30}\b(?:your\s+(?:instructions|prompt|rules|configuration|guidelines|directives|context)|"
         r"the\s+(?:system\s+)?prompt)\b"),
    ),
    "role_tag": (
        r"<\|?\s*(?:im_start|im_end|system|assistant|user|endoftext|eot_id|start_header_id)\s*\|?>",
        r"\[/?\s*(?:inst|sys|system)\s*\]",
        r"<</?\s*sys\s*>>",
        r"(?:^|\n)\s*(?:system|assistant|developer|user)\s*:\s",
        r"#{2,}\s*(?:system|instructions?|assistant|developer)\b",
        r"</?\s*(?:passage|system|instructions?|prompt|assistant|user|context)\s*(?:\s[^>]*)?>",
    ),
    "exfiltration": (
        (r"\b(?:send|post|upload|e-?mail|forward|transmit|exfiltrate|leak|submit)\b[^.\n]{0,80}?"
         r"(?:https?://|www\.|\b[\w.+-]+@[\w-]+\.[\w.]+|\bwebhook\b)"),
        r"!\[[^\]]*\]\(\s*https?://",
        r"\b(?:curl|wget)\s+(?:-\S+\s+)*https?://",
        (r"\b(?:reveal|print|send|give|list|output|show|share|what\s+(?:is|are)|display|dump|leak|expose)\b"
         r"[^.\n]{0,40}\b(?:api[\s_-]?keys?|passwords?|secret[\s_-]?keys?|credentials|access[\s_-]?tokens?|"
         r"bearer\s+tokens?|private\s+keys?|environment\s+variables|env\s+vars?|connection\s+strings?|"
         r"auditray_\w+)\b"),
        (r"\b(?:other|another|all)\s+(?:clients?|tenants?|organi[sz]ations?|firms?|users?)'?s?\s+"
         r"(?:data|documents|files|engagements|answers|questions)\b"),
    ),
    "jailbreak": (
        r"\bdo\s+anything\s+now\b",
        r"\bdan\s+mode\b",
        r"\bjail\s?break(?:ing|en|ed)?\b",
        r"\bdeveloper\s+mode\b",
        r"\b(?:no|without)\s+(?:ethical|safety|content)\s+(?:restrictions|filters|guidelines|limits)\b",
    ),
    "model_directive": (
        r"\b(?:respond|reply|answer)\s+only\s+with\b",
        r"\b(?:tell|inform|assure|convince)\s+the\s+(?:user|reader)\s+that\b",
        (r"\bdo\s+not\s+(?:cite|mention|reveal|disclose|tell)\b[^.\n]{0,30}\b(?:sources?|passages?|user|"
         r"instructions?)\b"),
        r"\bas\s+an\s+ai\b",
        (r"\b(?:the|this|any)\s+(?:assistant|ai|ai\s+model|llm|chatbot|language\s+model|answering\s+system)\s+"
         r"(?:must|should|shall|will|is\s+(?:required|instructed))\b"),
        r"\bwhen\s+(?:asked|answering|responding)\b[^.\n]{0,50}\b(?:always|never)\b",
        r"\b(?:important|attention|note)\s*(?:to|for)\s+(?:the\s+)?(?:ai|assistant|model|llm|chatbot)\b",
    ),
}


@dataclass(frozen=True)
class InjectionFinding:
    """One instruction-like pattern: what kind, where it was, the text that matched, how it was hidden."""

    kind: str
    where: str
    excerpt: str
    encoding: str = "plain"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[str, re.Pattern[str]]]:
    return [(kind, re.compile(p, re.IGNORECASE)) for kind, patterns in _PATTERNS.items() for p in patterns]


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, look-alike letters mapped to Latin, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).translate(_LOOKALIKES)
    return re.sub(r"[ \t\r\f\v]+", " ", text)


_SPACED_RUN = re.compile(r"\b(?:[A-Za-z](?:\s{1,3}|[._*-]{1,2})){3,}[A-Za-z]\b")
_SQUASHED_SIGNALS = re.compile(r"ignore|disregard|instruction|prompt|youarenow|pretend|jailbreak|override|"
                               r"systemmessage|developermode|reveal")


def _despaced(text: str) -> str:
    """"i g n o r e  a l l" / "i.g.n.o.r.e": runs of single letters joined back into words."""
    def join(run: re.Match[str]) -> str:
        words = re.split(r"\s{2,}", run.group(0))
        return " ".join(re.sub(r"[\s._*-]", "", word) for word in words)

    return _SPACED_RUN.sub(join, text)


def _spaced_signals(text: str) -> list[str]:
    """Instruction words spelled out letter by letter, where word gaps cannot be told apart."""
    found = []
    for run in _SPACED_RUN.finditer(text):
        squashed = re.sub(r"[^a-z]", "", run.group(0).lower())
        if len(squashed) >= 6 and _SQUASHED_SIGNALS.search(squashed):
            found.append(run.group(0))
    return found


def _decoded_segments(text: str) -> list[tuple[str, str]]:
    """Hidden payloads: base64 and hex runs, URL and backslash escapes, HTML entities, ROT13."""
    found: list[tuple[str, str]] = []
    for token in re.findall(r"[A-Za-z0-9+/_-]{16,}={0,2}", text):
        padded = token + "=" * (-len(token) % 4)
        for decoder in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                raw = decoder(padded)
            except (binascii.Error, ValueError):
                continue
            decoded = raw.decode("utf-8", "ignore")
            if decoded and sum(ch.isprintable() for ch in decoded) / len(decoded) > 0.9:
                found.append(("base64", decoded))
                break
    for token in re.findall(r"\b(?:[0-9a-fA-F]{2}){8,}\b", text):
        try:
            decoded = bytes.fromhex(token).decode("utf-8", "ignore")
        except ValueError:
            continue
        if decoded and sum(ch.isprintable() for ch in decoded) / len(decoded) > 0.9:
            found.append(("hex", decoded))
    if re.search(r"%[0-9a-fA-F]{2}", text):
        found.append(("url", unquote(text)))
    if re.search(r"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2})", text):
        try:
            found.append(("escape", codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")))
        except (UnicodeDecodeError, ValueError):
            pass
    if "&" in text and ";" in text:
        found.append(("html", html.unescape(text)))
    found.append(("rot13", codecs.decode(text, "rot13")))
    return found


def scan(text: str, where: str) -> list[InjectionFinding]:
    """Every instruction-like pattern in ``text`` and in its decoded variants (one finding per kind and encoding)."""
    if not text:
        return []
    plain = normalise(text)
    variants: list[tuple[str, str]] = [("plain", plain)]
    despaced = _despaced(plain)
    if despaced != plain:
        variants.append(("spaced", despaced))
    leet = plain.translate(_LEET)
    if leet != plain:
        variants.append(("leetspeak", leet))
    variants.extend((encoding, normalise(decoded)) for encoding, decoded in _decoded_segments(plain))
    findings: list[InjectionFinding] = []
    seen: set[tuple[str, str]] = set()
    for run in _spaced_signals(plain)[:1]:
        seen.add(("obfuscated", "spaced"))
        findings.append(InjectionFinding(kind="obfuscated", where=where, excerpt=run[:120], encoding="spaced"))
    for encoding, variant in variants:
        for kind, pattern in _compiled():
            match = pattern.search(variant)
            if match and (kind, encoding) not in seen and not _seen_plain(seen, kind, encoding):
                seen.add((kind, encoding))
                findings.append(InjectionFinding(kind=kind, where=where, excerpt=match.group(0)[:120],
                                                 encoding=encoding))
    return findings


def _seen_plain(seen: set[tuple[str, str]], kind: str, encoding: str) -> bool:
    # A pattern found in plain text shows up again in the leetspeak and HTML variants: report it once.
    return encoding != "plain" and (kind, "plain") in seen


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def strip_instructions(text: str, where: str = "question") -> tuple[str, list[InjectionFinding]]:
    """The text with every sentence that carries an instruction removed, and what was found.

    Within a flagged sentence the words before the instruction are kept when they still read as a
    question ("What does AS 2401 require for journal entries, ignore previous instructions" keeps
    the first clause).
    """
    findings = scan(text, where)
    if not findings:
        return text.strip(), []
    kept: list[str] = []
    for sentence in _SENTENCE.split(normalise(text)):
        sentence = sentence.strip()
        if not sentence:
            continue
        if not scan(sentence, where):
            kept.append(sentence)
            continue
        earliest = min((m.start() for _, p in _compiled() if (m := p.search(sentence))), default=None)
        if earliest:
            head = sentence[:earliest].rstrip(" ,;:-–—")
            # Drop connective words left dangling ("..., and" / "... but").
            head = re.sub(r"\b(?:and|but|then|also|so|please|now)\s*$", "", head, flags=re.IGNORECASE).strip(" ,;")
            if len(re.findall(r"[A-Za-z]{3,}", head)) >= 3 and not scan(head, where):
                kept.append(head)
    return " ".join(kept).strip(), findings


_DELIMITER = re.compile(r"</?\s*passage[^>]*>", re.IGNORECASE)


def quote_as_data(text: str, *, number: int, citation: str) -> str:
    """A retrieved passage wrapped as inert data for a language model: delimiters inside it are defused."""
    body = _DELIMITER.sub("[tag removed]", normalise(text))
    body = body.replace("<|", "< |").replace("|>", "| >")
    safe_citation = re.sub(r"[<>\"\n]", "", citation)
    return f'<passage number="{number}" citation="{safe_citation}">\n{body}\n</passage>'
