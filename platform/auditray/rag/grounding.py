"""The grounding check: every sentence of an answer must be supported by a passage it cites.

An auditor may put an answer in a workpaper only if each statement can be traced to the standard
(AS 1105.04: evidence must support the conclusion). A sentence is supported by a passage when all
of the following hold against that passage:

- meaning: its embedding is close to the passage or to one of the passage's sentences
  (cosine >= ``min_similarity``);
- words: most of its content words appear in the passage (share >= ``min_overlap``), so a
  paraphrase that swaps the subject ("the auditor" for "management") is not waved through;
- numbers: every number it states (days, years, percentages, paragraph numbers) appears in the
  passage — the most dangerous hallucinations in audit answers are wrong numbers;
- polarity: it is not negated where the passage is not, or the reverse.

Sentences that fail against every cited passage are rejected and reported, never shown as answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from auditray.rag.chunking import split_sentences
from auditray.rag.embeddings import embed_texts

MIN_SIMILARITY = 0.62
MIN_OVERLAP = 0.5
_WORD = re.compile(r"[a-z][a-z'-]+")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\s?%|\s?percent)?")
_NEGATION = re.compile(r"\b(?:not|never|neither|nor|cannot|\w+n't|no(?!\s+(?:later|more|less|fewer|earlier)\s+than))\b",
                       re.IGNORECASE)
_NUMBER_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
                 "eight": "8", "nine": "9", "ten": "10", "twelve": "12", "sixty": "60", "forty-five": "45"}
_STOP = frozenset(["a", "an", "the", "of", "to", "and", "or", "in", "on", "for", "is", "are", "be", "been", "being", "by", "with", "as", "at", "from", "that", "this", "these", "those", "it", "its", "their", "there", "which", "who", "whom", "whose", "what", "when", "where", "why", "how", "if", "then", "than", "so", "such", "any", "all", "each", "every", "may", "might", "can", "could", "should", "would", "will", "shall", "must", "do", "does", "did", "has", "have", "had", "not", "no", "also", "other", "only", "more", "most", "very", "into", "about", "over", "under", "between", "within", "without", "per", "via", "both", "either", "neither", "nor"])


@dataclass(frozen=True)
class Passage:
    """A cited chunk as the grounding check sees it."""

    chunk_id: str
    text: str


@dataclass(frozen=True)
class SentenceSupport:
    """How well the best cited passage supports one answer sentence."""

    sentence: str
    supported: bool
    chunk_id: str | None
    similarity: float
    overlap: float
    reason: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def content_words(text: str) -> set[str]:
    """Lower-case content words, crudely singularised ("entries" ~ "entry")."""
    words = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 3:
            continue
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
        words.add(word)
    return words


def numbers(text: str) -> set[str]:
    """The numbers a text states, digits or common number words, normalised ("seven" -> "7")."""
    found = {re.sub(r"\s?(%|percent)$", "%", n.replace(",", "")) for n in _NUMBER.findall(text)}
    lowered = text.lower()
    found |= {digit for word, digit in _NUMBER_WORDS.items() if re.search(rf"\b{word}\b", lowered)}
    return found


def check_grounding(sentences: Sequence[str], passages: Sequence[Passage], *,
                    citations: Sequence[Sequence[str]] | None = None, min_similarity: float = MIN_SIMILARITY,
                    min_overlap: float = MIN_OVERLAP) -> list[SentenceSupport]:
    """Each sentence checked against the passages it cites (``citations[i]`` = chunk ids; default: all)."""
    if not sentences:
        return []
    if not passages:
        return [SentenceSupport(s, False, None, 0.0, 0.0, "no passage to support it") for s in sentences]
    by_id = {p.chunk_id: p for p in passages}
    units: list[tuple[str, str]] = []  # (chunk id, text): each passage whole and sentence by sentence
    for passage in passages:
        units.append((passage.chunk_id, passage.text))
        units.extend((passage.chunk_id, s) for s in split_sentences(passage.text) if len(s) > 20)
    vectors = embed_texts([*sentences, *(text for _, text in units)])
    sentence_vectors, unit_vectors = vectors[: len(sentences)], vectors[len(sentences):]
    similarity = sentence_vectors @ unit_vectors.T

    results = []
    for i, sentence in enumerate(sentences):
        cited = [c for c in (citations[i] if citations else by_id) if c in by_id] or list(by_id)
        best: SentenceSupport | None = None
        for chunk_id in cited:
            columns = [j for j, (unit_id, _) in enumerate(units) if unit_id == chunk_id]
            scores = similarity[i, columns]
            # Polarity is compared with the closest single sentence, not the whole passage.
            sentence_columns = columns[1:] or columns
            closest = units[sentence_columns[int(np.argmax(similarity[i, sentence_columns]))]][1]
            candidate = _judge(sentence, by_id[chunk_id], float(np.max(scores)), closest,
                               min_similarity=min_similarity, min_overlap=min_overlap)
            if best is None or (candidate.supported, candidate.similarity) > (best.supported, best.similarity):
                best = candidate
        results.append(best)
    return results


def _judge(sentence: str, passage: Passage, similarity: float, closest: str, *, min_similarity: float,
           min_overlap: float) -> SentenceSupport:
    words = content_words(sentence)
    overlap = len(words & content_words(passage.text)) / len(words) if words else 0.0
    reason = ""
    if similarity < min_similarity:
        reason = f"meaning too far from the passage (similarity {similarity:.2f} < {min_similarity})"
    elif overlap < min_overlap:
        reason = f"too few of its words are in the passage ({overlap:.0%} < {min_overlap:.0%})"
    else:
        missing = numbers(sentence) - numbers(passage.text)
        if missing:
            reason = f"states {', '.join(sorted(missing))}, which the passage does not"
        elif bool(_NEGATION.search(sentence)) != bool(_NEGATION.search(closest)):
            reason = "negated where the passage is not (or the reverse)"
    return SentenceSupport(sentence=sentence, supported=not reason, chunk_id=passage.chunk_id,
                           similarity=round(similarity, 4), overlap=round(overlap, 4), reason=reason)
