"""``auditray corpus ingest|search|ask|versions``: the regulation corpus at the terminal.

Thin over ``auditray.rag``; heavy libraries (torch, lancedb) load inside the commands, so
``auditray corpus --help`` stays instant.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from auditray.cli.app import corpus_app

MODES = ("hybrid", "vector", "fulltext")


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise typer.BadParameter(f"use one of {', '.join(MODES)}", param_hint="--mode")
    return mode


def _check_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--effective-date") from None
    return value


def _version(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


@corpus_app.command("ingest")
def ingest_command(
    paths: list[Path] = typer.Argument(None, help="Files or directories (.md, .txt, .html, .pdf)."),
    starter: bool = typer.Option(False, "--starter", help="Ingest the summaries shipped with Auditray."),
    source: str = typer.Option(None, help="Issuer (PCAOB, AICPA, IAASB, SEC, FASB...) for files that do not say."),
    standard: str = typer.Option(None, help="Standard (e.g. 'AS 2401') for files that do not say."),
    title: str = typer.Option(None, help="Title for files that do not say."),
    effective_date: str = typer.Option(None, "--effective-date", help="YYYY-MM-DD, for files that do not say."),
    url: str = typer.Option(None, help="Where the standard is published, for files that do not say."),
    org: str = typer.Option(None, help="Organization slug: the documents are that firm's only (licensed texts)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Chunk, embed and store regulation documents; re-ingesting a changed document replaces its chunks.

    Citation metadata (source, standard, title, effective date, URL) comes from Markdown front matter,
    HTML <meta name="auditray:..."> tags or a sidecar FILE.meta.json/.yaml; the options fill what is
    missing. Each ingest that changes the corpus becomes a tagged version and an audit event.
    """
    if not paths and not starter:
        raise typer.BadParameter("give files or directories, or --starter", param_hint="PATHS")
    _check_date(effective_date)
    from auditray.cli.data_cmds import cli_actor, resolve_org
    from auditray.cli.progress import line_progress
    from auditray.rag import CorpusError
    from auditray.rag.ingest import STARTER_CORPUS, collect_files, ingest
    from auditray.settings import get_settings
    from auditray.store import init_db, make_engine, session_scope

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    targets = [*(paths or []), *([STARTER_CORPUS] if starter else [])]
    try:
        files = collect_files(targets)
    except CorpusError as problem:
        raise typer.BadParameter(str(problem), param_hint="PATHS") from None
    init_db(settings.resolved_database_url)
    try:
        with session_scope(make_engine()) as session:
            org_id = resolve_org(session, org) if org else None
            with line_progress(f"ingesting {len(files)} file(s)", total=0) as advance:
                result = ingest(files, source=source, standard=standard, title=title, effective_date=effective_date,
                                url=url, org_id=org_id, settings=settings, session=session, actor=cli_actor(),
                                progress=advance)
    except CorpusError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    if result.changed:
        typer.echo(f"corpus version {result.version} ({result.tag}): {len(result.documents)} document(s), "
                   f"{result.chunks} chunks — {result.added} added, {result.updated} updated, {result.removed} removed, "
                   f"{result.unchanged} unchanged")
    else:
        typer.echo(f"nothing changed: {len(result.documents)} document(s), {result.chunks} chunks already stored "
                   f"(corpus version {result.version})")
    for chunk_id, kinds in result.flagged.items():
        typer.echo(f"warning: chunk {chunk_id} carries instruction-like text ({', '.join(kinds)}); answers will not "
                   "quote it", err=True)


@corpus_app.command("search")
def search_command(
    query: str = typer.Argument(..., help="What to look for, in your own words."),
    mode: str = typer.Option("hybrid", "--mode", "-m", help="hybrid, vector or fulltext."),
    k: int = typer.Option(5, "-k", min=1, max=100, help="How many passages."),
    source: list[str] = typer.Option(None, "--source", help="Only this issuer (repeatable)."),
    standard: list[str] = typer.Option(None, "--standard", help="Only this standard, e.g. 'AS 2401' (repeatable)."),
    version: str = typer.Option(None, "--version", help="Search an earlier corpus version (number or tag)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """The passages that best match QUERY, with citations and the corpus version searched."""
    _check_mode(mode)
    from auditray.rag import CorpusEmpty, search

    try:
        result = search(query, mode=mode, k=k, source=source or None, standard=standard or None,
                        version=_version(version))
    except (CorpusEmpty, LookupError, ValueError) as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    typer.echo(f"{mode} search, corpus version {result.version}, {result.elapsed_ms:.0f} ms")
    for rank, hit in enumerate(result.hits, start=1):
        heading = f" — {hit.heading}" if hit.heading else ""
        typer.echo(f"\n{rank}. {hit.citation}{heading}  [{hit.chunk_id}, score {hit.score:.4f}]")
        typer.echo(f"   {hit.text[:400]}{'…' if len(hit.text) > 400 else ''}")


@corpus_app.command("ask")
def ask_command(
    question: str = typer.Argument(..., help="The question, as you would ask a colleague."),
    k: int = typer.Option(5, "-k", min=1, max=20, help="How many passages to draw on."),
    source: list[str] = typer.Option(None, "--source", help="Only this issuer (repeatable)."),
    standard: list[str] = typer.Option(None, "--standard", help="Only this standard (repeatable)."),
    version: str = typer.Option(None, "--version", help="Answer from an earlier corpus version."),
    extractive: bool = typer.Option(False, "--extractive", help="Never call the LLM, even if configured."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
) -> None:
    """An answer quoted from (or, with the GPU LLM, generated from) the corpus, citing every passage."""
    from auditray.rag import CorpusEmpty, ask

    try:
        answer = ask(question, k=k, source=source or None, standard=standard or None, version=_version(version),
                     llm=None if extractive else "auto")
    except (CorpusEmpty, LookupError, ValueError) as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(answer.to_dict(), indent=2, default=str) if as_json else answer.to_markdown())


@corpus_app.command("versions")
def versions_command(as_json: bool = typer.Option(False, "--json", help="Print JSON lines.")) -> None:
    """Every tagged ingest of the corpus: version, tag, when, and how many chunks it holds."""
    from auditray.rag import versions
    from auditray.rag.store import count_chunks
    from auditray.settings import get_settings

    uri = get_settings().resolved_lancedb_uri
    rows = versions(uri=uri)
    if not rows:
        typer.echo("the corpus is empty: run `auditray corpus ingest --starter`")
        return
    for row in rows:
        chunks = count_chunks(uri, row.tag)
        when = row.committed_at.isoformat(timespec="seconds") if row.committed_at else "?"
        if as_json:
            typer.echo(json.dumps({"version": row.version, "tag": row.tag, "committed_at": when, "chunks": chunks}))
        else:
            typer.echo(f"{row.version:>5}  {row.tag:<14} {when}  {chunks:>6} chunks")
