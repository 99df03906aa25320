"""Regulation documents in, citable chunks out: formats, citation metadata, paragraph structure, stable ids.

No model and no database here: reading and chunking are plain functions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from auditray.rag.chunking import chunk_document, citation_label, paragraph_reference
from auditray.rag.documents import CorpusError, read_document
from auditray.rag.evaluation import anchor_index, load_eval_set, recall_at_k, reciprocal_rank, starter_chunks
from auditray.rag.ingest import STARTER_CORPUS, collect_files, read_all
from auditray.rag.injection import scan
from auditray.rag.search import corpus_filter, normalise_standard
from auditray.rag.vocabulary import expand_query

from tests.conftest import REPO_ROOT

EVAL_SET = REPO_ROOT / "tests" / "data" / "rag" / "eval.jsonl"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with the given lines of text (Helvetica), built by hand so no PDF writer is needed."""
    content = "BT /F1 11 Tf 72 760 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- Citations and paragraph numbers ------------------------------------------------------------------


@pytest.mark.parametrize("heading, reference", [
    (".58 Why journal entries are tested", ".58"),
    (".58–.62 Journal entries", ".58–.62"),
    ("32(a) Testing journal entries", "32(a)"),
    ("A41–A44 Selecting journal entries", "A41–A44"),
    ("606-10-25-1 Step 1 — Identify the contract", "606-10-25-1"),
    ("Rule 2-01(c)(4) Non-audit services", "Rule 2-01(c)(4)"),
    (".A3, .A7, .A11 Definitions", ".A3, .A7, .A11"),
    ("Appendix 2 Factors", "Appendix 2"),
    ("Why journal entries are tested", None),
    ("2024 amendments", None),
])
def test_a_heading_gives_the_paragraph_number_it_starts_with(heading: str, reference: str | None) -> None:
    assert paragraph_reference(heading)[0] == reference


@pytest.mark.parametrize("source, standard, paragraph, label", [
    ("PCAOB", "AS 2401", ".61", "PCAOB AS 2401.61"),
    ("IAASB", "ISA 240", "A45", "IAASB ISA 240.A45"),
    ("IAASB", "ISA 240", "32(a)", "IAASB ISA 240.32(a)"),
    ("FASB", "ASC 606", "606-10-25-1", "FASB ASC 606-10-25-1"),
    ("SEC", "Regulation S-X", "Rule 2-01(c)(6)", "SEC Regulation S-X Rule 2-01(c)(6)"),
    ("PCAOB", "AS 2310", "", "PCAOB AS 2310"),
])
def test_citations_read_the_way_auditors_write_them(source, standard, paragraph, label) -> None:
    assert citation_label(source, standard, paragraph) == label


def test_a_numbered_paragraph_is_one_chunk_under_its_heading(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path / "as2401.md", (
        "---\nsource: PCAOB\nstandard: AS 2401\ntitle: Fraud\neffective_date: 2002-12-15\n"
        "url: https://pcaobus.org/AS2401\nnotice: A summary, not the standard's text.\n---\n"
        "# Fraud\n\n## Journal entries\n\n.58 The auditor designs procedures to test journal entries.\n\n"
        "A second block that belongs to the same paragraph.\n\n.61 Testing focuses on period-end entries.\n\n"
        "## .66 Unusual transactions\n\nThe auditor evaluates the business rationale.\n")))
    chunks = chunk_document(doc)
    assert [c.citation for c in chunks] == ["PCAOB AS 2401.58", "PCAOB AS 2401.61", "PCAOB AS 2401.66"]
    assert "second block" in chunks[0].text and chunks[0].heading == "Journal entries"
    assert chunks[2].heading == "Unusual transactions"
    assert all(c.url == "https://pcaobus.org/AS2401" and str(c.effective_date) == "2002-12-15" for c in chunks)
    assert all(c.notice == "A summary, not the standard's text." for c in chunks)
    assert chunks[0].search_text.startswith("PCAOB AS 2401.58. Fraud — Journal entries.")


def test_chunk_ids_survive_a_reworded_paragraph_but_the_content_hash_does_not(tmp_path: Path) -> None:
    text = "---\nsource: PCAOB\nstandard: AS 2401\n---\n## .61 Timing\nTesting focuses on period end.\n"
    before = chunk_document(read_document(write(tmp_path / "a.md", text)))[0]
    after = chunk_document(read_document(write(tmp_path / "a.md", text.replace("period end", "the period end"))))[0]
    assert before.chunk_id == after.chunk_id
    assert before.content_hash != after.content_hash


def test_a_long_paragraph_is_split_at_sentence_ends_and_keeps_its_citation(tmp_path: Path) -> None:
    sentence = "The auditor considers whether the journal entry was authorised by an appropriate person. "
    doc = read_document(write(tmp_path / "long.md", f"---\nsource: IAASB\nstandard: ISA 240\n---\n## 32(a) JE\n"
                                                      f"{sentence * 30}\n"))
    chunks = chunk_document(doc, max_chars=400)
    assert len(chunks) > 3 and all(len(c.text) <= 400 for c in chunks)
    assert {c.citation for c in chunks} == {"IAASB ISA 240.32(a)"}
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert all(c.text.endswith(".") for c in chunks)


# --- Formats and metadata -----------------------------------------------------------------------------


def test_html_pdf_and_text_keep_their_citations(tmp_path: Path) -> None:
    html = write(tmp_path / "isa505.html", (
        "<html><head><title>External Confirmations</title>"
        '<meta name="auditray:source" content="IAASB"><meta name="auditray:standard" content="ISA 505">'
        '<link rel="canonical" href="https://www.iaasb.org/isa-505"></head><body><nav>menu</nav>'
        "<h2>7 Maintaining control</h2><p>The auditor maintains control over confirmation requests.</p>"
        "<h2>15 Negative confirmations</h2><ul><li>Low risk.</li><li>Many small balances.</li></ul></body></html>"))
    chunks = chunk_document(read_document(html))
    assert [c.citation for c in chunks] == ["IAASB ISA 505.7", "IAASB ISA 505.15"]
    assert chunks[0].url == "https://www.iaasb.org/isa-505" and chunks[0].title == "External Confirmations"
    assert "menu" not in " ".join(c.text for c in chunks) and "Many small balances" in chunks[1].text

    pdf = tmp_path / "as2315.pdf"
    pdf.write_bytes(minimal_pdf([".24 Sample items should be selected so the sample is representative.",
                                 ".25 Procedures appropriate to the objective are applied to each item."]))
    write(tmp_path / "as2315.pdf.meta.json", json.dumps({"source": "PCAOB", "title": "Audit Sampling"}))
    chunks = chunk_document(read_document(pdf, {"standard": "AS 2315"}))
    assert [c.citation for c in chunks] == ["PCAOB AS 2315.24", "PCAOB AS 2315.25"]
    assert all(c.page == 1 and c.title == "Audit Sampling" for c in chunks)

    text = write(tmp_path / "AS 2805 notes.txt", "11. Refusal to give representations limits the scope.\n")
    chunk = chunk_document(read_document(text))[0]
    assert chunk.citation == "PCAOB AS 2805.11"  # standard from the file name, source from the standard


def test_front_matter_wins_over_the_sidecar_and_the_sidecar_over_the_defaults(tmp_path: Path) -> None:
    doc = write(tmp_path / "x.md", "---\nstandard: ISA 230\n---\n## 8 Documentation\nEnough for an experienced auditor.\n")
    write(tmp_path / "x.md.meta.yaml", "standard: ISA 500\nsource: IAASB\ntitle: From the sidecar\n")
    meta = read_document(doc, {"standard": "AS 1215", "source": "PCAOB", "url": "https://example.org/x"}).metadata
    assert (meta.standard, meta.source, meta.title, meta.url) == ("ISA 230", "IAASB", "From the sidecar",
                                                                  "https://example.org/x")


@pytest.mark.parametrize("content, problem", [
    ("## Heading\nNo standard anywhere.\n", "no 'standard'"),
    ("---\nstandard: House Rules 7\n---\nText.\n", "no 'source'"),
    ("---\nstandard: AS 2401\neffective_date: 15/12/2002\n---\nText.\n", "effective_date '15/12/2002' is not a date"),
    ("---\nstandard: AS 2401\nurl: ftp://x\n---\nText.\n", r"is not an http\(s\) address"),
    ("---\nstandard: [unclosed\n---\nText.\n", "not valid YAML"),
])
def test_an_uncitable_document_is_refused_naming_the_file_and_field(tmp_path: Path, content: str, problem: str) -> None:
    path = write(tmp_path / "notes.md", content)
    with pytest.raises(CorpusError, match=problem) as refused:
        read_document(path)
    assert str(path) in str(refused.value)


def test_one_bad_file_rejects_the_batch_and_names_every_problem(tmp_path: Path) -> None:
    write(tmp_path / "good.md", "---\nstandard: AS 2401\n---\n## .61 Timing\nText.\n")
    write(tmp_path / "bad1.md", "no standard\n")
    write(tmp_path / "bad2.txt", "also none\n")
    with pytest.raises(CorpusError) as refused:
        read_all(collect_files([tmp_path]), {})
    assert "bad1.md" in str(refused.value) and "bad2.txt" in str(refused.value)
    with pytest.raises(CorpusError, match="unsupported file type"):
        read_document(write(tmp_path / "x.docx", "x"))


# --- The starter corpus and the evaluation set --------------------------------------------------------


def test_the_starter_corpus_is_large_citable_and_says_it_is_a_summary() -> None:
    documents = read_all(collect_files([STARTER_CORPUS]), {})
    chunks = [c for d in documents for c in chunk_document(d)]
    assert len(documents) >= 40 and len(chunks) >= 250
    assert {d.metadata.source for d in documents} == {"PCAOB", "IAASB", "AICPA", "FASB", "SEC"}
    for document in documents:
        assert "summary" in (document.metadata.notice or "").lower() and "not the text" in document.metadata.notice
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    assert all(len(c.search_text) <= 1100 for c in chunks), "MiniLM reads about 256 tokens"
    for required in ("AS 2401", "ISA 240", "AS 2315", "AU-C 530", "ISA 530", "AS 2110", "ISA 315", "AS 1105",
                     "ISA 500", "AS 1215", "ISA 230", "AS 2410", "ISA 550", "AS 2415", "ISA 570", "ASC 606",
                     "AS 2105", "ISA 320", "AS 2305", "ISA 520", "AS 2310", "ISA 505", "AS 2801", "ISA 560",
                     "AS 2805", "ISA 580", "AS 1301", "ISA 260", "AS 2201", "AS 2501", "ISA 540", "AS 1206",
                     "ISA 600", "Regulation S-X"):
        assert any(d.metadata.standard == required for d in documents), required
    cited = {c.citation for c in chunks}
    for paragraph in ("PCAOB AS 2401.58", "PCAOB AS 2401.61", "PCAOB AS 2401.66", "PCAOB AS 2401.67",
                      "IAASB ISA 240.32(a)", "IAASB ISA 240.33", "IAASB ISA 240.A41–A44", "IAASB ISA 240.A45"):
        assert paragraph in cited


def test_no_starter_chunk_looks_like_a_prompt_injection() -> None:
    flagged = {c.citation: scan(c.text, c.chunk_id) for c in starter_chunks()}
    assert {citation: f for citation, f in flagged.items() if f} == {}


def test_every_evaluation_question_names_chunks_that_exist() -> None:
    questions = load_eval_set(EVAL_SET)
    assert len(questions) >= 60
    assert {q.split for q in questions} == {"dev", "holdout"}
    assert sum(q.split == "holdout" for q in questions) >= 30
    ids = set(anchor_index(starter_chunks()).values())
    assert all(q.relevant and set(q.relevant) <= ids for q in questions)


def test_recall_and_reciprocal_rank_count_what_they_should() -> None:
    assert recall_at_k(["a", "x", "b", "y"], {"a", "b"}, 2) == 0.5
    assert recall_at_k(["a", "x", "b"], {"a", "b"}, 3) == 1.0
    assert reciprocal_rank(["x", "y", "a"], {"a"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["x"], {"a"}) == 0.0


# --- Query side ---------------------------------------------------------------------------------------


def test_the_auditors_shorthand_is_spelled_out() -> None:
    assert "journal entry" in expand_query("testing JEs after YE").lower() or "journal entries" in \
        expand_query("testing JEs after YE").lower()
    assert "written representations" in expand_query("what goes in the rep letter?")
    assert "those charged with governance" in expand_query("what do I tell TCWG")
    assert "accounts receivable" in expand_query("do I need to confirm AR")
    assert expand_query("year-end ar balance") == expand_query("year-end ar balance")  # deterministic
    assert "accounts receivable" not in expand_query("we are here")  # "ar" in lower case is not "AR"


def test_filters_are_quoted_so_input_cannot_change_the_query() -> None:
    where = corpus_filter(source=["pcaob"], standard="as2401' OR '1'='1", org_id=7)
    assert where == ("source IN ('PCAOB') AND standard IN ('as2401'' OR ''1''=''1') AND "
                     "(org_id IS NULL OR org_id = 7)")
    assert normalise_standard(" as2401 ") == "AS 2401" and normalise_standard("isa  240") == "ISA 240"


def test_corpus_help_imports_no_heavy_library() -> None:
    heavy = ("ray", "torch", "lancedb", "polars", "pyarrow", "sqlalchemy", "sentence_transformers", "numpy")
    code = ("import sys\nfrom auditray.cli import main\nsys.argv = ['auditray', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', [m for m in {heavy!r} if m in sys.modules])\n")
    for argv in (["corpus", "--help"], ["corpus", "ask", "--help"], ["corpus", "ingest", "--help"]):
        out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True,
                             env={**os.environ}).stdout
        assert "Usage" in out and out.strip().splitlines()[-1] == "LOADED []", argv
