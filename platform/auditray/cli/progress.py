"""Progress bars for long work, on stderr so piped output stays clean."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def line_progress(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A bar counting lines; yields the ``advance(n)`` callback the library's ``progress=`` takes."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
        # Targets are approximate (the generator lands within a few per cent): finish the bar honestly.
        bar.update(task, total=bar.tasks[0].completed)
