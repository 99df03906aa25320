"""Which source column feeds each canonical field: from a header profile or a mapping file.

The plan is settled before any data row is read, so a missing required column is reported with the
headers that were found, the field's ADS name, and what the profile looked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from auditray.contract import contract_for
from auditray.ingest.headers import (
    MONEY_COMPANIONS,
    MONEY_FIELDS,
    DateOrder,
    HeaderProfile,
    detect_profile,
    match_profile,
    normalize_header,
    profile_named,
)
from auditray.ingest.mapping import ColumnMapping
from auditray.ingest.report import Issue, ValidationReport

DEFAULT_DEBIT_VALUES = frozenset({"D", "DR", "DEBIT", "S", "SOLL", "+"})
DEFAULT_CREDIT_VALUES = frozenset({"C", "CR", "CREDIT", "H", "HABEN", "-"})


@dataclass(frozen=True)
class MoneySource:
    """Where one money field comes from: a signed column, an unsigned one with a debit/credit
    indicator, or separate debit and credit columns (amount = debit - credit)."""

    field: str
    amount: str | None = None
    indicator: str | None = None
    debit: str | None = None
    credit: str | None = None

    @property
    def mode(self) -> str:
        if self.debit is not None:
            return "debit_credit"
        return "indicator" if self.indicator is not None else "signed"

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.amount, self.indicator, self.debit, self.credit) if c is not None)

    def describe(self) -> str:
        if self.mode == "debit_credit":
            return f"{self.debit} - {self.credit}"
        if self.mode == "indicator":
            return f"{self.amount} signed by {self.indicator}"
        return f"{self.amount}"


@dataclass(frozen=True)
class IngestPlan:
    kind: str
    profile: str
    columns: dict[str, str]
    money: dict[str, MoneySource]
    constants: dict[str, str]
    constant_origins: dict[str, str]
    derive_line_number: bool
    account_name_columns: frozenset[str]
    code_in_parentheses: bool
    date_order: DateOrder | None
    date_order_origin: str
    decimal_comma: bool | None
    default_decimal_comma: bool
    decimal_origin: str
    date_formats: dict[str, str]
    debit_values: frozenset[str]
    credit_values: frozenset[str]
    unused: tuple[str, ...] = field(default=())
    # Columns whose text, joined, is the journal id where the journal id column is blank.
    journal_id_fallback: tuple[str, ...] = ()

    def source_columns(self) -> list[str]:
        used = list(self.columns.values())
        for money in self.money.values():
            used.extend(money.columns)
        return list(dict.fromkeys(used))

    def describe(self) -> dict[str, str]:
        """Canonical field -> where its values come from, for the report."""
        result: dict[str, str] = {}
        for name in contract_for(self.kind).names:
            if name in self.money:
                result[name] = self.money[name].describe()
            elif name in self.columns:
                extra = ""
                if self.columns[name] in self.account_name_columns and name == "gl_account_number":
                    extra = " (the account number in the text, else the full account name)"
                elif self.columns[name] in self.account_name_columns and name == "gl_account_name":
                    extra = " (the full account name without account numbers)"
                result[name] = self.columns[name] + extra
            elif name in self.constants:
                result[name] = f"constant {self.constants[name]!r} ({self.constant_origins[name]})"
            elif name == "line_number" and self.derive_line_number:
                result[name] = "derived: position within the journal in file order"
        return result


@dataclass(frozen=True)
class PeriodHint:
    """What the caller and the file say about the period a trial balance closes: explicit
    ``period_end``/``fiscal_year``/``period`` arguments, and the date the report's title names."""

    period_end: date | None = None
    fiscal_year: int | None = None
    period: int | None = None
    title_date: date | None = None
    title_origin: str = ""


def plan_ingest(headers: Sequence[str], kind: str, report: ValidationReport, *,
                mapping: ColumnMapping | None = None, entity_id: str | None = None,
                profile: str | None = None, duplicate_headers: Sequence[str] = (),
                period: PeriodHint | None = None) -> IngestPlan:
    """Resolve every canonical field to a column, a constant or a derivation; problems go to ``report``."""
    mapping = mapping or ColumnMapping()
    chosen: HeaderProfile | None = None
    forced = profile or mapping.profile
    if forced:
        chosen = profile_named(forced)
    if mapping.columns:
        columns = _explicit_columns(mapping, headers, report)
        profile_label = f"mapping file {mapping.origin}"
        if chosen is not None:
            profile_label += f" with {chosen.name} conventions"
    else:
        match = match_profile(chosen, headers, kind) if chosen else detect_profile(headers, kind)
        if match is not None:
            chosen = match.profile
            columns = dict(match.columns)
            profile_label = chosen.name
        else:
            columns = {}
            profile_label = "none (no profile recognised the headers)"
            if headers:
                report.warn("no profile recognised these headers; name the columns in a mapping file "
                            "(YAML, JSON or TOML: columns: {journal_id: ..., amount: ...})")
    report.profile = profile_label

    money = _resolve_money(columns, kind)
    names = set(contract_for(kind).names) - set(MONEY_FIELDS[kind])
    plain = {k: v for k, v in columns.items() if k in names}
    constants, origins = _constants(kind, plain, mapping, entity_id, report)
    if kind == "trial_balance":
        _period_constants(plain, constants, origins, period or PeriodHint(), report)
    derive_line = kind == "gl_detail" and "line_number" not in plain
    _report_missing(kind, headers, plain, money, constants, derive_line, chosen, columns, report)
    _report_duplicate_headers(plain, money, duplicate_headers, report)

    used = set(plain.values()) | {c for m in money.values() for c in m.columns}
    debit = frozenset(v.upper() for v in mapping.debit_values) or DEFAULT_DEBIT_VALUES
    credit = frozenset(v.upper() for v in mapping.credit_values) or DEFAULT_CREDIT_VALUES
    date_formats = dict(mapping.date_formats)
    if mapping.date_format:
        for f in contract_for(kind).fields:
            if f.type.equals(_DATE_TYPE):
                date_formats.setdefault(f.name, mapping.date_format)
    date_order = mapping.date_order or (chosen.date_order if chosen else None)
    return IngestPlan(
        kind=kind,
        profile=profile_label,
        columns=plain,
        money=money,
        constants=constants,
        constant_origins=origins,
        derive_line_number=derive_line,
        account_name_columns=frozenset(chosen.account_name_columns if chosen else ()),
        code_in_parentheses=bool(chosen and chosen.code_in_parentheses),
        date_order=date_order,
        date_order_origin=_order_origin(mapping, chosen),
        decimal_comma=mapping.decimal_comma,
        default_decimal_comma=chosen.decimal_comma if chosen else False,
        decimal_origin=f"{chosen.name} profile" if chosen else "default",
        date_formats=date_formats,
        debit_values=debit,
        credit_values=credit,
        unused=tuple(h for h in headers if h not in used),
    )


def _order_origin(mapping: ColumnMapping, profile: HeaderProfile | None) -> str:
    if mapping.date_order:
        return "mapping file's"
    return f"{profile.name} profile's" if profile else ""


def _explicit_columns(mapping: ColumnMapping, headers: Sequence[str],
                      report: ValidationReport) -> dict[str, str]:
    """The mapping's columns, matched exactly or, failing that, ignoring case and spacing."""
    by_norm: dict[str, list[str]] = {}
    for header in headers:
        by_norm.setdefault(normalize_header(header), []).append(header)
    columns: dict[str, str] = {}
    for name, column in mapping.columns.items():
        if column in headers:
            columns[name] = column
            continue
        near = by_norm.get(normalize_header(column), [])
        if len(near) == 1:
            columns[name] = near[0]
            continue
        report.add(Issue(
            "mapping_column_not_found",
            f"{mapping.origin} maps {name} to column {column!r}, which the file does not have; "
            f"headers found: {', '.join(headers)}",
            file=report.source, column=column,
        ))
    return columns


def _resolve_money(columns: dict[str, str], kind: str) -> dict[str, MoneySource]:
    """Debit and credit columns win over an amount column (QuickBooks and Xero export both)."""
    money: dict[str, MoneySource] = {}
    for name in MONEY_FIELDS[kind]:
        debit, credit = columns.get(f"{name}_debit"), columns.get(f"{name}_credit")
        if debit is not None and credit is not None:
            money[name] = MoneySource(name, debit=debit, credit=credit)
        elif name in columns:
            money[name] = MoneySource(name, amount=columns[name], indicator=columns.get(f"{name}_indicator"))
    return money


DEFAULT_ENTITY = "DEFAULT"


def _constants(kind: str, plain: dict[str, str], mapping: ColumnMapping, entity_id: str | None,
               report: ValidationReport) -> tuple[dict[str, str], dict[str, str]]:
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for name, value in mapping.constants.items():
        values[name], origins[name] = value, mapping.origin
    if entity_id is not None:
        if "entity_id" in values and values["entity_id"] != entity_id:
            report.warn(f"entity_id argument {entity_id!r} overrides {values['entity_id']!r} "
                        f"from {mapping.origin}")
        values["entity_id"], origins["entity_id"] = entity_id, "entity_id argument"
    if "entity_id" not in plain and "entity_id" not in values:
        # Single-company exports (QuickBooks, Xero, most ADS files of one client) carry no entity column.
        values["entity_id"], origins["entity_id"] = DEFAULT_ENTITY, "default"
        report.warn(f"no entity column (ADS Business_Unit_Code): every row belongs to entity {DEFAULT_ENTITY!r}; "
                    "pass entity_id= (--entity) or set entity_id in a mapping file to name it")
    for name in list(values):
        if name in plain:
            report.warn(f"{name} comes from column {plain[name]!r}; the constant {values[name]!r} "
                        f"({origins[name]}) is not used")
            del values[name], origins[name]
        elif not _constant_ok(kind, name, values[name]):
            report.add(Issue("bad_mapping", f"constant {values[name]!r} is not a valid {name}",
                             file=report.source, column=name, value=values[name]))
            del values[name], origins[name]
    return values, origins


PERIOD_HOW = ("pass period_end= (auditray ingest --period-end 2025-12-31), or fiscal_year= and period=, "
              "or set constants fiscal_year and period (or period_end_date) in a mapping file")


def _period_constants(plain: dict[str, str], values: dict[str, str], origins: dict[str, str],
                      hint: PeriodHint, report: ValidationReport) -> None:
    """Fiscal year and period of a single-period trial balance that has no such columns.

    Precedence: a column, then the caller's arguments, then mapping-file constants, then the date
    the report title names. From a period end date alone the fiscal year and period are its calendar
    year and month (a calendar fiscal year), an assumption the report states so it can be corrected.
    """
    for name, given in (("period_end_date", hint.period_end), ("fiscal_year", hint.fiscal_year),
                        ("period", hint.period)):
        if given is None:
            continue
        text = given.isoformat() if isinstance(given, date) else str(given)
        if name in plain:
            report.warn(f"{name} comes from column {plain[name]!r}; the argument {text!r} is not used")
            continue
        if name in values and values[name] != text:
            report.warn(f"{name} argument {text!r} overrides {values[name]!r} from {origins[name]}")
        values[name], origins[name] = text, f"{name if name != 'period_end_date' else 'period_end'} argument"
    end: date | None = None
    if "period_end_date" in values:
        try:
            end = date.fromisoformat(values["period_end_date"])
        except ValueError:
            return  # reported as a bad constant
        if hint.title_date is not None and hint.title_date != end:
            report.warn(f"period_end_date {end.isoformat()} ({origins['period_end_date']}) differs from "
                        f"{hint.title_date.isoformat()} in {hint.title_origin}; {end.isoformat()} is used")
    elif "period_end_date" not in plain and hint.title_date is not None:
        end = hint.title_date
        values["period_end_date"], origins["period_end_date"] = end.isoformat(), hint.title_origin
        report.warn(f"period_end_date {end.isoformat()} read from {hint.title_origin}")
    if end is None:
        return
    derived = []
    for name, value in (("fiscal_year", end.year), ("period", end.month)):
        if name not in plain and name not in values:
            values[name] = str(value)
            origins[name] = f"from period end {end.isoformat()}, calendar fiscal year assumed"
            derived.append(f"{name} {value}")
    if derived:
        report.warn(f"{' and '.join(derived)} derived from period end {end.isoformat()} assuming a calendar "
                    "fiscal year (period = month); if the client's fiscal year ends in another month, pass "
                    "fiscal_year= and period= or set them as constants in a mapping file")


def _constant_ok(kind: str, name: str, value: str) -> bool:
    if name in ("fiscal_year", "period"):
        return value.lstrip("+").isdigit()
    if name in ("effective_date", "entry_date", "period_end_date", "approved_date", "last_modified_date"):
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
    return bool(value)


def _report_missing(kind: str, headers: Sequence[str], plain: dict[str, str], money: dict[str, MoneySource],
                    constants: dict[str, str], derive_line: bool, profile: HeaderProfile | None,
                    columns: dict[str, str], report: ValidationReport) -> None:
    contract = contract_for(kind)
    found = ", ".join(repr(h) for h in headers) or "(none)"
    for f in contract.fields:
        if not f.required or f.name in plain or f.name in money or f.name in constants:
            continue
        if f.name == "line_number" and derive_line:
            continue
        looked = _looked_for(profile, kind, f.name)
        if kind == "trial_balance" and f.name in ("fiscal_year", "period"):
            looked += ("; no period end date was given or found in the report's title rows: "
                       + PERIOD_HOW)
        how = ""
        if f.name in MONEY_FIELDS[kind]:
            partial = [c for c in (f"{f.name}_debit", f"{f.name}_credit") if c in columns]
            how = (" (a signed amount, an unsigned amount with a debit/credit indicator, or both debit and "
                   "credit columns" + (f"; only {columns[partial[0]]!r} was found" if partial else "") + ")")
        report.add(Issue(
            "missing_column",
            f"required field {f.name} (ADS {f.ads_name}) has no column{how}{looked}. Headers found: {found}",
            file=report.source, column=None))


def _looked_for(profile: HeaderProfile | None, kind: str, name: str) -> str:
    if profile is None:
        return ""
    aliases = profile.aliases(kind).get(name, ())
    return f"; the {profile.name} profile looks for {', '.join(aliases)}" if aliases else ""


def _report_duplicate_headers(plain: dict[str, str], money: dict[str, MoneySource],
                              duplicate_headers: Sequence[str], report: ValidationReport) -> None:
    used = set(plain.values()) | {c for m in money.values() for c in m.columns}
    for header in duplicate_headers:
        if header in used:
            report.add(Issue("ambiguous_column", "the column name appears more than once in the header row",
                             file=report.source, column=header))


_DATE_TYPE = contract_for("gl_detail").field("effective_date").type
__all__ = ["MONEY_COMPANIONS", "IngestPlan", "MoneySource", "PeriodHint", "plan_ingest"]
