"""Answers to auditors' questions, grounded in the regulation corpus and citing every passage used.

Without a GPU the answer is extractive: the sentences of the best hybrid-search passages that are
closest in meaning to the question, quoted verbatim and labelled as such. With the self-hosted LLM
configured and reachable, the answer is generated from the same passages. Either way every answer
sentence goes through the grounding check (``auditray.rag.grounding``) and the prompt-injection
defence (``auditray.rag.injection``), lists the chunks it cites, and records the corpus version.

Example::

    answer = ask("when do I have to look at journal entries made after year end?")
    print(answer.to_markdown())
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from auditray.rag.chunking import split_sentences
from auditray.rag.embeddings import embed_query, embed_texts
from auditray.rag.grounding import Passage, SentenceSupport, check_grounding, content_words
from auditray.rag.injection import InjectionFinding, scan, strip_instructions
from auditray.rag.llm import LLMEndpoint, LLMUnavailable, build_messages, parse_reply
from auditray.rag.search import Hit, search
from auditray.rag.vocabulary import expand_query

if TYPE_CHECKING:
    from auditray.settings import Settings

Mode = Literal["extractive", "generative", "refused", "no_answer"]
EXTRACTIVE_LABEL = "Extractive answer: quoted from the cited passages; no language model was used."
GENERATIVE_LABEL = ("Generated answer ({model}): each sentence was checked against the passage it cites; "
                    "read the cited passages before relying on it.")
REFUSED_LABEL = "No answer: the question held instructions for the answering system and no audit question."
NO_ANSWER_LABEL = "No answer: no passage in the corpus is close enough to the question; the nearest are listed."
MIN_PASSAGE_SIMILARITY = 0.25  # questions about the standards score 0.4+ against their passages
MIN_RELEVANCE = 0.3      # below this cosine a sentence does not address the question at all
RELATIVE_FLOOR = 0.15    # and it must be nearly as close as the best sentence found
RANK_BONUS = 0.15
MAX_SENTENCES = 4


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of the answer and the passage that supports it (``number`` indexes ``citations``)."""

    text: str
    chunk_id: str
    citation: str
    number: int
    similarity: float
    overlap: float


@dataclass
class Answer:
    """The answer, what it cites, what was rejected or flagged, and the corpus version it read."""

    question: str
    answered_question: str
    mode: Mode
    label: str
    sentences: list[AnswerSentence] = field(default_factory=list)
    citations: list[Hit] = field(default_factory=list)
    retrieved: list[Hit] = field(default_factory=list)
    rejected: list[SentenceSupport] = field(default_factory=list)
    injection: list[InjectionFinding] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    version: int | None = None
    model: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(f"{s.text} [{s.number}]" for s in self.sentences)

    @property
    def flagged(self) -> bool:
        """True when an injection attempt was found in the question or in a retrieved passage."""
        return bool(self.injection)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question, "answered_question": self.answered_question, "mode": self.mode,
            "label": self.label, "text": self.text, "version": self.version, "model": self.model,
            "sentences": [vars(s) for s in self.sentences],
            "citations": [hit.to_dict() for hit in self.citations],
            "retrieved": [{"chunk_id": h.chunk_id, "citation": h.citation, "score": h.score} for h in self.retrieved],
            "rejected": [r.to_dict() for r in self.rejected],
            "injection": [f.to_dict() for f in self.injection], "flagged": self.flagged,
            "quarantined": self.quarantined, "notes": self.notes,
        }

    def to_markdown(self) -> str:
        lines = [f"_{self.label}_", ""]
        if self.sentences:
            lines += [" ".join(f"“{s.text}” [{s.number}]" if self.mode == "extractive" else f"{s.text} [{s.number}]"
                               for s in self.sentences), ""]
        for number, hit in enumerate(self.citations, start=1):
            where = f" — {hit.heading}" if hit.heading else ""
            lines.append(f"[{number}] {hit.citation}{where} ({hit.title}; chunk {hit.chunk_id})")
            if hit.notice:
                lines.append(f"    {hit.notice}")
        if self.mode == "no_answer":
            lines += [f"- {hit.citation} — {hit.heading}" for hit in self.retrieved]
        if self.rejected:
            lines += ["", "Rejected by the grounding check:"] + [f"- {r.sentence} ({r.reason})" for r in self.rejected]
        if self.injection:
            lines += ["", "Prompt-injection attempt flagged and neutralised:"]
            lines += [f"- {f.kind} in {f.where} ({f.encoding}): {f.excerpt!r}" for f in self.injection]
        lines += ["", f"Corpus version {self.version}."] + [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def ask(
    question: str,
    *,
    k: int = 5,
    source: str | Sequence[str] | None = None,
    standard: str | Sequence[str] | None = None,
    org_id: int | None = None,
    version: int | str | None = None,
    settings: Settings | None = None,
    uri: str | None = None,
    llm: LLMEndpoint | Literal["auto"] | None = "auto",
    max_sentences: int = MAX_SENTENCES,
    transport: Any = None,
) -> Answer:
    """Answer ``question`` from the corpus; ``llm="auto"`` uses ``AUDITRAY_LLM_URL`` when it is set.

    Filters and ``version`` work as in ``search``. The answer is never longer than ``max_sentences``.
    """
    cleaned, findings = strip_instructions(question or "", "question")
    if not cleaned and not findings:
        raise ValueError("the question is empty")
    if len(content_words(cleaned)) < 2:
        return Answer(question=question, answered_question="", mode="refused", label=REFUSED_LABEL,
                      injection=findings, notes=["the question was refused; nothing was searched"])

    result = search(cleaned, mode="hybrid", k=k, source=source, standard=standard, org_id=org_id,
                    version=version, settings=settings, uri=uri)
    usable, quarantined = [], []
    for hit in result.hits:
        hit_findings = scan(hit.text, f"chunk:{hit.chunk_id}")
        if hit_findings or hit.flags:
            quarantined.append(hit.chunk_id)
            findings = findings + (hit_findings or [InjectionFinding(kind, f"chunk:{hit.chunk_id}", "flagged at ingest")
                                                    for kind in hit.flags])
        else:
            usable.append(hit)
    answer = Answer(question=question, answered_question=cleaned, mode="no_answer", label=NO_ANSWER_LABEL,
                    retrieved=result.hits, injection=findings, quarantined=quarantined, version=result.version)
    if quarantined:
        answer.notes.append(f"{len(quarantined)} retrieved passage(s) carried instructions and were not used")
    # A passage whose meaning is far from the question does not answer it, however well it ranked.
    usable = [hit for hit in usable if hit.vector_score is None or hit.vector_score >= MIN_PASSAGE_SIMILARITY]
    if not any(hit.vector_score is not None for hit in usable):
        return answer

    endpoint = LLMEndpoint.from_env() if llm == "auto" else llm
    if endpoint is not None:
        try:
            if _generate(answer, usable, endpoint, max_sentences=max_sentences, transport=transport):
                return answer
        except LLMUnavailable as unavailable:
            answer.notes.append(f"{unavailable}; fell back to the extractive answer")
    _extract(answer, usable, max_sentences=max_sentences)
    return answer


def _extract(answer: Answer, hits: Sequence[Hit], *, max_sentences: int) -> None:
    """Quote the sentences closest to the question, from the best passages, in reading order."""
    candidates: list[tuple[int, int, str]] = []  # (hit index, position in the passage, sentence)
    for h, hit in enumerate(hits):
        for position, sentence in enumerate(split_sentences(hit.text)):
            if len(sentence) >= 30:
                candidates.append((h, position, sentence))
    if not candidates:
        return
    # The auditor's shorthand is spelled out as for search, so "rep letter" meets "written representations".
    question_vector = embed_query(expand_query(answer.answered_question))
    vectors = embed_texts([sentence for _, _, sentence in candidates])
    relevance = vectors @ question_vector
    # The fused rank already knows which passage answers best; sentence similarity picks within it.
    score = relevance + np.array([RANK_BONUS * (1 - h / len(hits)) for h, _, _ in candidates])
    order = [int(i) for i in np.argsort(-score, kind="stable")]
    floor = max(MIN_RELEVANCE, float(relevance.max()) - RELATIVE_FLOOR)
    # The best sentence of the best-ranked passage leads, when it is relevant at all.
    first = next((i for i in order if candidates[i][0] == 0), None)
    if first is not None and relevance[first] >= MIN_RELEVANCE:
        order.remove(first)
        order.insert(0, first)
    chosen: list[int] = []
    per_hit: dict[int, int] = {}
    for index in order:
        if len(chosen) == max_sentences:
            break
        h = candidates[index][0]
        if (relevance[index] < floor and index != first) or per_hit.get(h, 0) == 2 \
                or any(float(vectors[index] @ vectors[j]) > 0.9 for j in chosen):
            continue
        chosen.append(index)
        per_hit[h] = per_hit.get(h, 0) + 1
    if not chosen:
        return
    chosen.sort(key=lambda i: candidates[i][:2])
    sentences = [candidates[i][2] for i in chosen]
    cited_hits = [hits[candidates[i][0]] for i in chosen]
    _accept(answer, sentences, [[hit] for hit in cited_hits], hits)
    if answer.sentences:
        answer.mode, answer.label = "extractive", EXTRACTIVE_LABEL


def _generate(answer: Answer, hits: Sequence[Hit], endpoint: LLMEndpoint, *, max_sentences: int,
              transport: Any) -> bool:
    """Ask the LLM; keep only grounded sentences. False (and a note) when nothing grounded remains."""
    messages = build_messages(answer.answered_question, [(hit.citation, hit.text) for hit in hits])
    reply = endpoint.chat(messages, transport=transport)
    parsed = parse_reply(reply)[:max_sentences]
    reply_findings = scan(reply, "answer")
    if reply_findings:
        answer.injection.extend(reply_findings)
        answer.notes.append("the generated answer carried instruction-like text and was discarded")
        return False
    if not parsed:
        answer.notes.append("the language model found no answer in the passages")
        return False
    sentences = [text for text, _ in parsed]
    cited = [[hits[n - 1] for n in numbers if 1 <= n <= len(hits)] or list(hits) for _, numbers in parsed]
    _accept(answer, sentences, cited, hits)
    if not answer.sentences:
        answer.notes.append("no generated sentence passed the grounding check")
        return False
    answer.mode, answer.model = "generative", endpoint.model
    answer.label = GENERATIVE_LABEL.format(model=endpoint.model)
    return True


def _accept(answer: Answer, sentences: Sequence[str], cited: Sequence[Sequence[Hit]], hits: Sequence[Hit]) -> None:
    """Run the grounding check; keep supported sentences and number their citations in order of use."""
    passages = [Passage(hit.chunk_id, hit.text) for hit in hits]
    supports = check_grounding(sentences, passages, citations=[[h.chunk_id for h in c] for c in cited])
    by_id = {hit.chunk_id: hit for hit in hits}
    answer.sentences, answer.citations = [], []
    for support in supports:
        if not support.supported:
            answer.rejected.append(support)
            continue
        hit = by_id[support.chunk_id]
        if hit not in answer.citations:
            answer.citations.append(hit)
        answer.sentences.append(AnswerSentence(
            text=re.sub(r"\s+", " ", support.sentence).strip(), chunk_id=hit.chunk_id, citation=hit.citation,
            number=answer.citations.index(hit) + 1, similarity=support.similarity, overlap=support.overlap))
