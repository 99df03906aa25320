"""``auditray je benford``: Nigrini's digit tests on one column of any CSV or Parquet file.

The file need not be a canonical ledger. The column is read as text (CSV) and parsed exactly as a
decimal: thousands separators, a leading or trailing minus sign and accounting parentheses are
understood; a value that is not an amount stops the command with its file, row (header = row 1)
and column, unless ``--skip-invalid`` counts it as excluded instead. Parquet columns are used as
stored (Decimal, integer or text); a float column is rounded to the cent first, and the output
says so. Heavy libraries load inside the command, so ``auditray je --help`` stays instant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from auditray.cli.app import je_app

_TESTS = ("first", "second", "first_two", "last_two")
_SIGNS = ("absolute", "positive", "negative")
_MAX_REPORTED = 20


def _read_column(path: Path, column: str, by: list[str], separator: str | None) -> tuple[Any, int, str | None]:
    """The frame (amount column + --by columns), the row offset for messages, and a note on floats."""
    import polars as pl

    suffix = path.suffix.lower()
    wanted = [column, *[b for b in by if b != column]]
    if suffix == ".parquet":
        names = pl.read_parquet_schema(path)
        _check_columns(path, wanted, list(names))
        frame = pl.read_parquet(path, columns=wanted)
        if frame.schema[column].is_float():
            from auditray.je.digits_amounts import money_from_float

            frame = frame.with_columns(money_from_float(frame[column]))
            return frame, 1, f"{column} is stored as binary floats: amounts rounded to the nearest cent first"
        return frame, 1, None
    if suffix in (".csv", ".txt", ".tsv"):
        sep = separator or _sniff_separator(path)
        try:
            header = pl.read_csv(path, separator=sep, n_rows=0, infer_schema=False).columns
        except pl.exceptions.PolarsError as exc:
            raise typer.BadParameter(f"{path} is not a readable CSV file: {exc}", param_hint="INPUT") from None
        _check_columns(path, wanted, header)
        frame = pl.read_csv(path, separator=sep, columns=wanted, infer_schema=False, encoding="utf8-lossy")
        # Data row i (0-based) is file row i + 2: the header is row 1.
        return frame, 2, None
    raise typer.BadParameter(f"{path.name}: expected a .csv or .parquet file", param_hint="INPUT")


def _sniff_separator(path: Path) -> str:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def _check_columns(path: Path, wanted: list[str], available: list[str]) -> None:
    missing = [c for c in wanted if c not in available]
    if missing:
        raise typer.BadParameter(f"{path.name} has no column {', '.join(map(repr, missing))}; its columns are "
                                 f"{', '.join(available)}", param_hint="--column/--by")


def _format_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return f"{p:.3g}" if p >= 1e-4 else f"{p:.1e}"


def _print_result(result: Any, path: Path, column: str, note: str | None) -> None:
    from auditray.je.digits import MAD_BANDS, TEST_NAMES

    echo = typer.echo
    echo(f"{TEST_NAMES[result.test].capitalize()} test (Nigrini 2012) on {path.name}, column {column}")
    if note:
        echo(f"  note: {note}")
    echo(f"  amounts tested     {result.n:,}")
    echo(f"  excluded           {result.excluded:,} below 10, {result.missing:,} missing, "
         f"{result.invalid:,} not amounts")
    if not result.n:
        echo("  nothing to test: no amount of 10 or more")
        return
    bands = MAD_BANDS.get(result.test)
    band_text = (f"(bands: close <= {bands[0]}, acceptable <= {bands[1]}, marginal <= {bands[2]})" if bands
                 else "(no published MAD bands for this test)")
    echo(f"  MAD                {result.mad:.5f} {band_text}")
    echo(f"  chi-square         {result.chi_square:.2f} with {result.degrees_of_freedom} degrees of freedom, "
         f"p = {_format_p(result.p_value)} ({result.p_method})")
    echo(f"  conformity         {result.conformity}")
    echo("  largest deviations:")
    echo(f"    {'digit':>5}  {'observed':>9}  {'expected':>9}  {'excess':>8}  {'Z':>6}")
    for d in result.largest_deviations:
        mark = " *" if d["significant"] else ""
        echo(f"    {d['label']:>5}  {d['observed_count']:>9,}  {d['expected_count']:>9,.1f}  {d['excess']:>+8.1f}  "
             f"{d['z']:>6.2f}{mark}")
    echo("    (* significant at 5%: Z > 1.96)")


def _print_profile(profile: Any, by: list[str], test: str) -> None:
    from auditray.je.digits import TEST_NAMES

    echo = typer.echo
    echo(f"{TEST_NAMES[test].capitalize()} test per {', '.join(by)}: {profile.height} subsets, "
         f"{int(profile['tested'].sum())} large enough to test, {int(profile['nonconforming'].sum())} nonconforming")
    echo(f"  {'subset':<30} {'n':>9} {'MAD':>8} {'chi-square':>11} {'p':>9}  conformity")
    for row in profile.sort(["nonconforming", "p_value"], descending=[True, False], nulls_last=True).iter_rows(
            named=True):
        name = ", ".join(str(row[c]) for c in by)[:30]
        mad = f"{row['mad']:.5f}" if row["mad"] is not None else "n/a"
        chi = f"{row['chi_square']:.1f}" if row["chi_square"] is not None else "n/a"
        if not row["tested"]:
            verdict = "too few amounts to test"
        else:
            verdict = (row["conformity"] or "") + ("  NONCONFORMING" if row["nonconforming"] else "")
        echo(f"  {name:<30} {row['n']:>9,} {mad:>8} {chi:>11} {_format_p(row['p_value']):>9}  {verdict}")
    for explanation in profile.filter("nonconforming")["explanation"]:
        echo(f"  - {explanation}")


@je_app.command("benford")
def benford(
    input_path: Path = typer.Argument(..., metavar="INPUT", exists=True, dir_okay=False, readable=True,
                                      help="Any CSV or Parquet file."),
    column: str = typer.Option(..., "--column", "-c", help="The amount column."),
    test: str = typer.Option("first_two", "--test", "-t", help="first, second, first_two or last_two."),
    by: list[str] = typer.Option([], "--by", help="Test each subset of this column separately (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    sign: str = typer.Option("absolute", "--sign", help="absolute (default), positive or negative amounts."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                      help="Count values that are not amounts as excluded instead of stopping."),
    decimal_comma: bool = typer.Option(False, "--decimal-comma",
                                       help="Text amounts write 1.234,56 (comma decimals, dot thousands)."),
    separator: str = typer.Option(None, "--separator", help="CSV separator; sniffed from the header if omitted."),
    min_count: int = typer.Option(None, "--min-count", help="With --by: smallest subset to test."),
) -> None:
    """Benford digit test (Nigrini 2012) on one column: n, MAD, chi-square, conformity, largest deviations.

    Amounts below 10 are excluded, the sign is ignored (unless --sign), and digits come from the
    exact decimal value as written in the file. Exits 1 when a value is not an amount (its row and
    column are named), unless --skip-invalid.
    """
    if test not in _TESTS:
        raise typer.BadParameter(f"expected one of {', '.join(_TESTS)}", param_hint="--test")
    if sign not in _SIGNS:
        raise typer.BadParameter(f"expected one of {', '.join(_SIGNS)}", param_hint="--sign")
    import polars as pl

    from auditray.je.digits import digit_profile_by, digit_test
    from auditray.je.digits_amounts import canonical_amount_text, invalid_amounts

    frame, first_row, note = _read_column(input_path, column, by, separator)
    values = frame[column]
    unit = "row" if first_row == 2 else "record"
    if values.dtype == pl.String:
        problems = invalid_amounts(values, decimal_comma=decimal_comma)
        if problems and not skip_invalid:
            for index, value in problems[:_MAX_REPORTED]:
                typer.echo(f"{input_path}: {unit} {index + first_row}, column {column!r}: {value!r} is not an amount",
                           err=True)
            if len(problems) > _MAX_REPORTED:
                typer.echo(f"{input_path}: ... and {len(problems) - _MAX_REPORTED} more values that are not amounts",
                           err=True)
            typer.echo("Fix the file or pass --skip-invalid to count them as excluded.", err=True)
            raise typer.Exit(1)
        if decimal_comma:
            frame = frame.with_columns(canonical_amount_text(values, decimal_comma=True))
    if by:
        profile = digit_profile_by(frame, by, test=test, amount=column, sign=sign, min_count=min_count)  # type: ignore[arg-type]
        if as_json:
            typer.echo(json.dumps({"file": str(input_path), "column": column, "test": test, "by": by, "note": note,
                                   "subsets": profile.to_dicts()}, indent=2, default=str))
        else:
            if note:
                typer.echo(f"note: {note}")
            _print_profile(profile, by, test)
        return
    result = digit_test(frame[column], test, sign=sign, invalid="exclude")  # type: ignore[arg-type]
    if as_json:
        payload = {"file": str(input_path), "column": column, "note": note, **result.to_dict()}
        typer.echo(json.dumps(payload, indent=2, default=str))
    else:
        _print_result(result, input_path, column, note)
