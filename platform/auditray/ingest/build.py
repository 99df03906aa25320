"""From text columns to the canonical schema, with a flag for every way a cell can be wrong.

The plan (which column feeds which field) and a survey of the data (date formats, the decimal
separator) are settled first; then one lazy query computes every canonical field and, beside it, a
boolean flag per check. The flags are what make a complete error report cheap: a file is scanned
once for its values and its problems together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

from auditray.contract import contract_for
from auditray.contract.money import MONEY_DTYPE
from auditray.ingest.amounts import (
    BAD,
    TOO_LARGE,
    TOO_PRECISE,
    choose_decimal_comma,
    money_from_text,
    normalized_money_text,
    separator_evidence,
)
from auditray.ingest.dates import (
    FAMILIES,
    MAX_YEAR,
    MIN_YEAR,
    DateChoice,
    explicit_date_format,
    infer_date_format,
    infer_time_format,
    parse_datetime,
    parse_time,
)
from auditray.ingest.layout import describe_footers, footer_summary
from auditray.ingest.plan import IngestPlan
from auditray.ingest.report import Issue, ValidationReport
from auditray.ingest.sources import SourceTable

POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(), "int16": pl.Int16(), "int8": pl.Int8(), "int32": pl.Int32(),
    "date32[day]": pl.Date(), "time64[us]": pl.Time(), "bool": pl.Boolean(),
    "decimal128(18, 2)": MONEY_DTYPE,
}
INTEGER_RANGES = {"fiscal_year": (MIN_YEAR, MAX_YEAR), "period": (0, 99), "line_number": (0, 2**31 - 1)}
PLAIN_MONEY = r"^-?\d{1,16}(?:\.\d{1,2})?$"
TRUE_WORDS = ["Y", "YES", "TRUE", "T", "1", "X", "J", "JA"]
FALSE_WORDS = ["N", "NO", "FALSE", "F", "0", "NEIN"]

# Keywords of client account types (QuickBooks "Other Current Asset", Xero "Direct Costs", NetSuite
# "Deferred Revenue", ADS "Revenue") and the contract's five types; checked in this order, so
# "Deferred Expense" is an asset, "Deferred Revenue" a liability and "Cost of Sales" an expense.
ACCOUNT_TYPE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("asset", ("asset", "bank", "cash", "receivable", "inventory", "prepayment", "prepaid",
               "deferred expense")),
    ("liability", ("liabilit", "payable", "credit card", "deferred revenue", "unearned")),
    ("equity", ("equity", "capital", "retained")),
    ("expense", ("expense", "cost", "overhead", "depreciation")),
    ("revenue", ("revenue", "income", "sales")),
)


@dataclass(frozen=True)
class Check:
    """A flag column and what to say about each row it marks."""

    kind: str
    flag: str
    column: str
    value: str | None
    message: str
    warning: bool = False


@dataclass
class Survey:
    """What one pass over the data says about it, before any value is converted."""

    rows: int
    date_choices: dict[str, DateChoice] = field(default_factory=dict)
    time_patterns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    decimal_comma: bool = False
    # Money columns already in canonical "-1234.56" form: cast directly, nothing can be wrong.
    plain_money: set[str] = field(default_factory=set)
    # Report total rows ("TOTAL", "Total for Checking") counted in ``rows`` but not data.
    footers: int = 0


@dataclass
class CanonicalFrame:
    """The lazy canonical frame (plus ``__row`` and flag columns) and the checks behind the flags."""

    frame: pl.LazyFrame
    checks: list[Check]
    mapping: dict[str, str]


def internal_names(source: SourceTable) -> dict[str, str]:
    """Source headers get private names so a source column called ``amount`` cannot collide with
    the canonical ``amount``."""
    return {header: f"__s{i}" for i, header in enumerate(source.headers)}


def date_fields(kind: str) -> list[str]:
    return [f.name for f in contract_for(kind).fields if str(f.type) == "date32[day]"]


def time_fields(kind: str) -> list[str]:
    return [f.name for f in contract_for(kind).fields if str(f.type) == "time64[us]"]


def survey(source: SourceTable, plan: IngestPlan, report: ValidationReport,
           footer: pl.Expr | None = None) -> Survey:
    """Count rows and choose date formats and the decimal separator from every value; name the
    report total rows ``footer`` marks, in the same pass."""
    names = internal_names(source)
    frame = source.frame
    date_columns = sorted({plan.columns[f] for f in date_fields(plan.kind) + time_fields(plan.kind)
                           if f in plan.columns})
    money_columns = sorted({c for m in plan.money.values() for c in (m.amount, m.debit, m.credit) if c})
    exprs: list[pl.Expr] = [pl.len().alias("rows")]
    for column in date_columns:
        exprs.append(pl.col(column).drop_nulls().unique(maintain_order=True).implode().alias(names[column]))
    for i, column in enumerate(money_columns):
        exprs.append(pl.col(column).str.contains(PLAIN_MONEY).or_(pl.col(column).is_null()).all()
                     .alias(f"__m{i}_plain"))
        exprs.append(pl.col(column).str.contains(".", literal=True).sum().alias(f"__m{i}_point"))
    if footer is not None:
        exprs.extend(footer_summary(frame, source.headers, footer))
    row = frame.select(exprs).collect(engine="streaming").row(0, named=True)
    result = Survey(rows=row["rows"])
    if footer is not None and row["__footer_count"]:
        result.footers = row["__footer_count"]
        report.warn(describe_footers(row["__footer_rows"], row["__footer_labels"], result.footers))
    plain = {c for i, c in enumerate(money_columns) if row[f"__m{i}_plain"]}
    # Plain "-1234.56" columns say "decimal point" by every dot; only other columns pay for the
    # regular expressions that weigh the evidence.
    points = sum(row[f"__m{i}_point"] for i, c in enumerate(money_columns) if c in plain)
    evidence = {"comma": 0, "point": points, "ambiguous": 0}
    examples: list[str] = []
    messy = [c for c in money_columns if c not in plain]
    if messy:
        exprs = [e for i, c in enumerate(messy) for e in separator_evidence(pl.col(c), f"__e{i}_")]
        weighed = frame.select(exprs).collect(engine="streaming").row(0, named=True)
        for i, _ in enumerate(messy):
            for key in evidence:
                evidence[key] += weighed[f"__e{i}_{key}"] or 0
            if weighed[f"__e{i}_example"] is not None:
                examples.append(weighed[f"__e{i}_example"])

    if plan.decimal_comma is not None:
        result.decimal_comma = plan.decimal_comma
    elif money_columns:
        result.decimal_comma, why = choose_decimal_comma(
            evidence["comma"], evidence["point"], plan.default_decimal_comma)
        if result.decimal_comma or (evidence["ambiguous"] and not (evidence["comma"] or evidence["point"])):
            shown = "decimal comma" if result.decimal_comma else "decimal point"
            example = f" (for example {examples[0]!r})" if examples and evidence["ambiguous"] else ""
            report.warn(f"amounts read with a {shown}: {why}{example}")
    if not result.decimal_comma:
        result.plain_money = plain

    for name in time_fields(plan.kind):
        if name in plan.columns:
            column = plan.columns[name]
            if name in plan.date_formats:
                result.time_patterns[column] = (plan.date_formats[name],)
            else:
                values = pl.Series(row[names[column]] or [], dtype=pl.String)
                result.time_patterns[column] = infer_time_format(values)
    choices: dict[str, tuple[DateChoice, pl.Series]] = {}
    for name in date_fields(plan.kind):
        if name not in plan.columns:
            continue
        column = plan.columns[name]
        values = pl.Series(row[names[column]] or [], dtype=pl.String)
        if name in plan.date_formats:
            choice = explicit_date_format(values, plan.date_formats[name])
        else:
            choice = infer_date_format(values, column=column, order=plan.date_order,
                                       order_origin=plan.date_order_origin)
        choices[column] = (choice, values)
    _settle_ambiguous_orders(choices)
    for column, (choice, values) in choices.items():
        if choice.note:
            report.warn(choice.note)
        if choice.ambiguous:
            report.add(Issue(
                "ambiguous_date_format",
                "every value reads both as month/day/year and day/month/year; set date_order "
                "('us' or 'eu') or date_format in a mapping file",
                file=report.source, column=column, value=_first(values)))
        result.date_choices[column] = choice
    return result


FAMILY_ORDER = {f.name: f.order for f in FAMILIES}


def _settle_ambiguous_orders(choices: dict[str, tuple[DateChoice, pl.Series]]) -> None:
    """Read an ambiguous date column in the day/month order the file's other date columns prove.

    One export uses one date convention: when ``Effective_Date`` holds 12/31/2024 (month first beyond
    doubt) and ``Entered_Date`` holds only values like 01/03/2025, the latter is month first too. Only
    when no column of the file settles the order does the ambiguity stand as an error.
    """
    proven = {FAMILY_ORDER.get(c.family) for c, _ in choices.values() if not c.ambiguous} - {None}
    if len(proven) != 1:
        return
    order = proven.pop()
    witness = next(col for col, (c, _) in choices.items()
                   if not c.ambiguous and FAMILY_ORDER.get(c.family) == order)
    for column, (choice, values) in list(choices.items()):
        if choice.ambiguous:
            settled = infer_date_format(values, column=column, order=order)
            shown = "month/day/year" if order == "us" else "day/month/year"
            note = (f"column {column!r}: every date reads both month-first and day-first; read as {shown}, "
                    f"the order column {witness!r} of the same file proves")
            choices[column] = (replace(settled, note=note), values)


def _first(values: pl.Series) -> str | None:
    return values[0] if values.len() else None


class _Builder:
    """Accumulates helper columns, canonical outputs and checks for one plan."""

    def __init__(self, source: SourceTable, plan: IngestPlan, found: Survey) -> None:
        self.source = source
        self.plan = plan
        self.survey = found
        self.names = internal_names(source)
        self.helpers: dict[str, pl.Expr] = {}
        self.outputs: dict[str, pl.Expr] = {}
        self.flags: dict[str, pl.Expr] = {}
        self.checks: list[Check] = []
        self.mapping = plan.describe()

    def raw(self, column: str) -> pl.Expr:
        return pl.col(self.names[column])

    def check(self, kind: str, flag: pl.Expr, column: str, message: str, *, value_of: str | None = None,
              warning: bool = False) -> None:
        name = f"__e{len(self.checks)}"
        self.flags[name] = flag.fill_null(False)
        value = self.names[value_of] if value_of is not None else None
        self.checks.append(Check(kind, name, column, value, message, warning))

    def require(self, column: str, field_name: str) -> None:
        self.check("missing_value", self.raw(column).is_null(), column,
                   f"{field_name} is required but the cell is empty")

    # --- field types ---

    def text(self, name: str, column: str, required: bool) -> None:
        raw = self.raw(column)
        value = raw
        if column in self.plan.account_name_columns and name in ("gl_account_number", "gl_account_name"):
            parens = self.plan.code_in_parentheses
            value = (account_number(raw, parens) if name == "gl_account_number"
                     else account_name(raw, parens))
            if name == "gl_account_number":
                self.check("account_name_only", account_number_missing(raw, parens), column,
                           "no leading account number; the account name is used as the account number",
                           value_of=column, warning=True)
        if name == "account_type":
            value = account_type(raw)
            self.mapping[name] += " (as asset, liability, equity, revenue or expense)"
            self.check("unknown_account_type", raw.is_not_null() & ~is_known_account_type(raw), column,
                       "account type kept as written; not one of asset, liability, equity, revenue, expense",
                       value_of=column, warning=True)
        if name == "normal_balance":
            value = self.debit_or_credit_word(raw)
            self.check("bad_indicator", raw.is_not_null() & value.is_null(), column,
                       "normal balance is not a debit or credit word", value_of=column)
        if name == "journal_id" and self.plan.journal_id_fallback:
            parts = self.plan.journal_id_fallback
            value = pl.coalesce(raw, pl.concat_str([self.raw(c) for c in parts], separator=" "))
            self.mapping[name] += f", else {' + '.join(parts)} where it is blank"
            self.check("journal_id_derived", raw.is_null() & value.is_not_null(), column,
                       f"{column} is blank; the journal id is {' + '.join(parts)}", warning=True)
            self.outputs[name] = value
            if required:
                self.check("missing_value", value.is_null(), column, f"{name} is required but the cell is empty")
            return
        self.outputs[name] = value
        if required:
            self.require(column, name)

    def integer(self, name: str, column: str, required: bool) -> None:
        raw = self.raw(column)
        low, high = INTEGER_RANGES[name]
        number = raw.str.replace(r"\.0*$", "").cast(pl.Int64, strict=False)
        good = raw.str.contains(r"^[+]?\d+(?:\.0*)?$") & number.is_between(low, high)
        self.outputs[name] = pl.when(good).then(number)
        self.check("bad_integer", raw.is_not_null() & ~good.fill_null(False), column,
                   f"{name} must be a whole number from {low} to {high}", value_of=column)
        if required:
            self.require(column, name)

    def date(self, name: str, column: str, required: bool) -> None:
        raw = self.raw(column)
        choice = self.survey.date_choices[column]
        helper = f"__d_{self.names[column]}"
        self.helpers[helper] = parse_datetime(raw, choice.patterns)
        parsed = pl.col(helper)
        good = parsed.dt.year().is_between(MIN_YEAR, MAX_YEAR)
        self.outputs[name] = pl.when(good).then(parsed.dt.date())
        if not choice.ambiguous:
            self.check("bad_date", raw.is_not_null() & ~good.fill_null(False), column,
                       f"not a valid date in this column's format ({choice.describe}) "
                       f"between {MIN_YEAR} and {MAX_YEAR}", value_of=column)
        if required:
            self.require(column, name)
        if name == "entry_date" and "entry_time" not in self.plan.columns and choice.has_time:
            with_time = raw.str.contains(r"\d:\d")
            self.outputs["entry_time"] = pl.when(with_time).then(whole_seconds(parsed.dt.time()))
            self.mapping["entry_time"] = f"time part of {column}"

    def time(self, name: str, column: str, required: bool) -> None:
        raw = self.raw(column)
        helper = f"__t_{self.names[column]}"
        self.helpers[helper] = parse_time(raw, self.survey.time_patterns[column])
        self.outputs[name] = whole_seconds(pl.col(helper))
        self.check("bad_time", raw.is_not_null() & pl.col(helper).is_null(), column,
                   "not a time of day (10:30:00, 103000, 10:30 PM)", value_of=column)

    def boolean(self, name: str, column: str, required: bool) -> None:
        raw = self.raw(column)
        upper = raw.str.to_uppercase()
        self.outputs[name] = (pl.when(upper.is_in(TRUE_WORDS)).then(pl.lit(True))
                              .when(upper.is_in(FALSE_WORDS)).then(pl.lit(False)))
        self.check("bad_boolean", raw.is_not_null() & ~upper.is_in(TRUE_WORDS + FALSE_WORDS), column,
                   "expected a yes/no value (Y/N, Yes/No, True/False, 1/0, X)", value_of=column)

    def debit_or_credit_word(self, raw: pl.Expr) -> pl.Expr:
        key = raw.str.to_uppercase().str.replace_all(r"\.", "")
        return (pl.when(key.is_in(list(self.plan.debit_values))).then(pl.lit("debit"))
                .when(key.is_in(list(self.plan.credit_values))).then(pl.lit("credit")))

    # --- money ---

    def money_column(self, column: str) -> pl.Expr:
        """The exact amount in one source column, with its three ways of being wrong checked."""
        if column in self.survey.plain_money:
            return self.raw(column).cast(MONEY_DTYPE, strict=False)
        helper = f"__n_{self.names[column]}"
        if helper not in self.helpers:
            raw = self.raw(column)
            self.helpers[helper] = normalized_money_text(raw, self.survey.decimal_comma)
            text = pl.col(helper)
            separator = "decimal comma" if self.survey.decimal_comma else "decimal point"
            self.check("bad_amount", text == BAD, column, f"not an amount (read with a {separator})",
                       value_of=column)
            self.check("too_many_decimals", text == TOO_PRECISE, column,
                       "more than 2 decimal places; amounts are kept exact to the cent, never rounded",
                       value_of=column)
            self.check("amount_out_of_range", text == TOO_LARGE, column,
                       "more than 16 integer digits does not fit Decimal(18, 2)", value_of=column)
        return money_from_text(pl.col(helper))

    def money(self, name: str, required: bool) -> None:
        source = self.plan.money[name]
        if source.mode == "debit_credit":
            debit, credit = self.money_column(source.debit), self.money_column(source.credit)
            both = f"{source.debit}, {source.credit}"
            neither = self.raw(source.debit).is_null() & self.raw(source.credit).is_null()
            difference = (debit.fill_null(0) - credit.fill_null(0)).cast(MONEY_DTYPE, strict=False)
            self.outputs[name] = pl.when(~neither).then(difference)
            self.check("amount_out_of_range", ~neither & debit.is_not_null() & credit.is_not_null()
                       & difference.is_null(), both, "debit - credit does not fit Decimal(18, 2)")
            if required:
                self.check("missing_value", neither, both,
                           f"{name} is required but debit and credit are both empty")
            return
        amount = self.money_column(source.amount)
        if source.mode == "signed":
            self.outputs[name] = amount
        else:
            indicator = self.raw(source.indicator)
            sign = self.indicator_sign(indicator)
            # An unsigned amount takes its sign from the indicator; an amount already negative
            # with a credit indicator is a signed export (SAP line-item reports) and stays negative.
            credit = pl.when(amount > 0).then(-amount).otherwise(amount)
            self.outputs[name] = pl.when(sign == -1).then(credit).when(sign == 1).then(amount)
            self.check("bad_indicator", indicator.is_not_null() & sign.is_null(), source.indicator,
                       "unknown debit/credit indicator; expected one of "
                       + "/".join(sorted(self.plan.debit_values - {"+"})) + " for debit or "
                       + "/".join(sorted(self.plan.credit_values - {"-"})) + " for credit",
                       value_of=source.indicator)
            self.check("sign_conflict", (sign == 1) & (amount < 0), source.amount,
                       f"negative amount marked as a debit by {source.indicator}", value_of=source.amount)
            if required:
                self.check("missing_value", indicator.is_null() & self.raw(source.amount).is_not_null(),
                           source.indicator, "the debit/credit indicator is required but the cell is empty")
        if required:
            self.require(source.amount, name)

    def indicator_sign(self, raw: pl.Expr) -> pl.Expr:
        key = raw.str.to_uppercase().str.replace_all(r"\.", "")
        return (pl.when(key.is_in(list(self.plan.debit_values))).then(pl.lit(1, pl.Int8))
                .when(key.is_in(list(self.plan.credit_values))).then(pl.lit(-1, pl.Int8)))


def whole_seconds(time: pl.Expr) -> pl.Expr:
    """The contract stores times to the second (ADS Entry_Time)."""
    nanos = time.cast(pl.Int64)
    return (nanos - nanos % 1_000_000_000).cast(pl.Time)


_NUMBER = r"(\d[\d.\-]*)(?:\s|\u00b7|$)"
_CODE_IN_PARENTHESES = r"\s*\((\d[\w.\-]*)\)\s*$"


def embedded_account_number(raw: pl.Expr, code_in_parentheses: bool = False) -> pl.Expr:
    """The account number written inside account text, or null when there is none.

    The leaf's own number wins ("1000 Cash : 1010 Checking" -> "1010"); otherwise the number leading
    the text ("2110 Payroll Liabilities:Federal Withholding" -> "2110", QuickBooks writes a
    sub-account's number before its full name); Xero's "Sales (200)" -> "200" when asked.
    """
    last = raw.str.replace(r"^.*:\s*", "")
    candidates = [last.str.extract("^" + _NUMBER, 1), raw.str.extract("^" + _NUMBER, 1)]
    if code_in_parentheses:
        candidates.insert(0, raw.str.extract(_CODE_IN_PARENTHESES, 1))
    return pl.coalesce(candidates).str.strip_chars("-.")


def account_number(raw: pl.Expr, code_in_parentheses: bool = False) -> pl.Expr:
    """"1000 Checking" -> "1000"; a bare name ("Checking", "Payroll Liabilities:Federal Withholding")
    is its own account number: QuickBooks files often have no numbers, and the full name is unique."""
    return pl.coalesce(embedded_account_number(raw, code_in_parentheses), raw)


def account_number_missing(raw: pl.Expr, code_in_parentheses: bool = False) -> pl.Expr:
    return raw.is_not_null() & embedded_account_number(raw, code_in_parentheses).is_null()


def account_name(raw: pl.Expr, code_in_parentheses: bool = False) -> pl.Expr:
    """The full account name without numbers: "1000 Checking" -> "Checking"; "1000 - Checking" ->
    "Checking"; QuickBooks Desktop "2100 \u00b7 Payroll Liabilities:2110 \u00b7 Federal Withholding" ->
    "Payroll Liabilities:Federal Withholding" (the full path tells sub-accounts of different parents
    apart); Xero "Sales (200)" -> "Sales"."""
    name = raw.str.replace_all(r"(^|:)(\s*)\d[\d.\-]*(?:\s*\u00b7\s*|\s+-\s+|\s+)", "${1}${2}")
    if code_in_parentheses:
        name = name.str.replace(_CODE_IN_PARENTHESES, "")
    name = name.str.strip_chars()
    return pl.when(name.str.len_chars() > 0).then(name).otherwise(raw)


def account_type(raw: pl.Expr) -> pl.Expr:
    lower = raw.str.to_lowercase()
    result = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    for canonical, words in ACCOUNT_TYPE_KEYWORDS:
        result = result.when(pl.any_horizontal([lower.str.contains(w, literal=True) for w in words])).then(
            pl.lit(canonical))
    return result.otherwise(raw)


def is_known_account_type(raw: pl.Expr) -> pl.Expr:
    lower = raw.str.to_lowercase()
    return pl.any_horizontal([lower.str.contains(w, literal=True)
                              for _, words in ACCOUNT_TYPE_KEYWORDS for w in words])


def build_canonical(source: SourceTable, plan: IngestPlan, found: Survey,
                    footer: pl.Expr | None = None) -> CanonicalFrame:
    """The canonical fields, ``__row`` and one flag column per check, lazily; ``footer`` rows
    (report totals, already named in a warning by the survey) are left out."""
    contract = contract_for(plan.kind)
    builder = _Builder(source, plan, found)
    for f in contract.fields:
        type_name = str(f.type)
        if f.name in plan.money:
            builder.money(f.name, f.required)
            continue
        column = plan.columns.get(f.name)
        if column is None:
            continue
        if type_name == "string":
            builder.text(f.name, column, f.required)
        elif type_name in ("int16", "int8", "int32"):
            builder.integer(f.name, column, f.required)
        elif type_name == "date32[day]":
            builder.date(f.name, column, f.required)
        elif type_name == "time64[us]":
            builder.time(f.name, column, f.required)
        elif type_name == "bool":
            builder.boolean(f.name, column, f.required)
        else:  # pragma: no cover - the contract has no other types
            raise TypeError(f"no parser for {f.name}: {type_name}")

    for name, value in plan.constants.items():
        dtype = POLARS_TYPES[str(contract.field(name).type)]
        # Polars cannot cast text to a date; the plan has checked the constant is ISO.
        constant = pl.lit(value).str.to_date("%Y-%m-%d") if dtype == pl.Date() else pl.lit(value).cast(dtype)
        builder.outputs[name] = constant

    names = internal_names(source)
    frame = source.frame if footer is None else source.frame.filter(~footer)
    frame = frame.rename(names)
    if source.headers:
        frame = frame.filter(~pl.all_horizontal([pl.col(n).is_null() for n in names.values()]))
    frame = frame.with_columns(**builder.helpers) if builder.helpers else frame
    typed = {name: expr.cast(POLARS_TYPES[str(contract.field(name).type)], strict=False)
             for name, expr in builder.outputs.items()}
    frame = frame.with_columns(**typed, **builder.flags)
    if plan.derive_line_number and "journal_id" in typed:
        # ADS Journal_ID_Line_Number is absent: lines are numbered 1, 2, ... within each journal in
        # the order the file lists them, so the key (entity, journal, line) stays unique and stable.
        group = [c for c in ("entity_id", "journal_id") if c in typed]
        frame = frame.with_columns(
            line_number=(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over(group)))
    missing = [pl.lit(None, POLARS_TYPES[str(f.type)]).alias(f.name) for f in contract.fields
               if f.name not in typed and not (f.name == "line_number" and plan.derive_line_number
                                                and "journal_id" in typed)]
    if missing:
        frame = frame.with_columns(missing)
    mapping = {name: builder.mapping[name] for name in contract.names if name in builder.mapping}
    return CanonicalFrame(frame=frame, checks=builder.checks, mapping=mapping)
