"""The facts each test needs, per entity: stated by the engagement where it can, read from the ledger where not.

AS 2401 .61 and ISA 240 A44 describe fraudulent entries relative to the entity: unusual for its accounts,
its people and its calendar. This module turns the settings and the population into those reference
points, and records for each one where it came from (``basis``), so the population summary can say
"high-value threshold 195,000.00: performance materiality, stated by the engagement" or "... estimated as
0.75 x 1 % of revenue (ISA 320 A7 benchmark) because the engagement stated none".

- Accounts: a name (chart, trial balance, the account's commonest line description, in that order) and its
  classes: sensitive (cash, revenue, equity: AS 2401 .62), suspense, revenue, inactive, and its usage.
- Calendar: fiscal year end, closing date, period ends and their last business days, holidays.
- Thresholds: high value, the approval limit of each poster, backdating lag, period-end amount, and the
  rarity thresholds for users, accounts and account pairs, relative to the entity's journals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

import polars as pl

from auditray.je.population import ACCOUNT_KEYS
from auditray.je.settings import EntityOverrides, JETestSettings

CENT = Decimal("0.01")


def _cents(amount: Decimal | None) -> int | None:
    return None if amount is None else int((Decimal(amount) / CENT).to_integral_value())


def money_text(cents: int | None) -> str:
    """Exact money for people: 1234567 -> '12,345.67'."""
    if cents is None:
        return "n/a"
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{part:02d}"


def regex_any(patterns: list[str] | tuple[str, ...]) -> str:
    return "(?i)" + "|".join(f"(?:{p})" for p in patterns) if patterns else "(?!)"


# --- Accounts ----------------------------------------------------------------------------------------


# Journals, and days between an account's first and last posting, from which it is in regular use.
REGULAR_USE_MIN_JOURNALS = 6
REGULAR_USE_MIN_DAYS = 150


def classify_accounts(profile: pl.DataFrame, settings: JETestSettings, *, chart: pl.DataFrame | None = None,
                      trial_balance: pl.DataFrame | None = None) -> pl.DataFrame:
    """The account table: profile + name + classes, with the basis of each class, and a dense code.

    Order of evidence, most reliable first: accounts the engagement lists; the chart's type and subtype;
    the account's name (chart, trial balance, the name on the lines, or the commonest line description)
    against keyword patterns; and
    for sensitive and revenue accounts, the leading digits of the number (``*_number_prefixes``).
    """
    accounts = profile
    if chart is not None and chart.height:
        cols = [c for c in ("gl_account_name", "account_type", "account_subtype", "active") if c in chart.columns]
        accounts = accounts.join(chart.select(*ACCOUNT_KEYS, *cols).unique(ACCOUNT_KEYS, keep="first"),
                                 on=ACCOUNT_KEYS, how="left")
    for column, dtype in (("gl_account_name", pl.String), ("account_type", pl.String),
                          ("account_subtype", pl.String), ("active", pl.Boolean), ("described_as", pl.String),
                          ("described_share", pl.Float64), ("line_name", pl.String)):
        if column not in accounts.columns:
            accounts = accounts.with_columns(pl.lit(None, dtype=dtype).alias(column))
    if trial_balance is not None and "gl_account_name" in trial_balance.columns:
        tb_names = (trial_balance.filter(pl.col("gl_account_name").is_not_null())
                    .group_by(ACCOUNT_KEYS).agg(tb_name=pl.col("gl_account_name").min()))
        accounts = accounts.join(tb_names, on=ACCOUNT_KEYS, how="left")
    else:
        accounts = accounts.with_columns(tb_name=pl.lit(None, dtype=pl.String))
    # A line description names the account only when most of the account's lines agree on it. (Even on an
    # account of two lines: a suspense account's few lines say "suspense" more often than not.)
    described = pl.when(pl.col("described_share") >= 0.5).then(pl.col("described_as"))
    accounts = accounts.with_columns(
        account_name=pl.coalesce("gl_account_name", "tb_name", "line_name", described),
        name_basis=pl.when(pl.col("gl_account_name").is_not_null()).then(pl.lit("chart of accounts"))
        .when(pl.col("tb_name").is_not_null()).then(pl.lit("trial balance"))
        .when(pl.col("line_name").is_not_null()).then(pl.lit("account name on the lines"))
        .when(described.is_not_null()).then(pl.lit("commonest line description"))
        .otherwise(pl.lit(None, dtype=pl.String)),
    )
    name = pl.col("account_name").fill_null("")
    typed = pl.col("account_type").str.to_lowercase()
    subtype = pl.col("account_subtype").str.to_lowercase()
    number = pl.col("gl_account_number")

    def listed(kind: str) -> pl.Expr:
        entries = [(entity, account) for entity, account in _listed_accounts(settings, kind, profile)]
        if not entries:
            return pl.lit(False)
        frame = pl.DataFrame(entries, schema=["entity_id", "gl_account_number"], orient="row")
        return pl.struct(ACCOUNT_KEYS).is_in(frame.select(pl.struct(ACCOUNT_KEYS)).to_series().implode())

    def starts(prefixes: list[str]) -> pl.Expr:
        return pl.any_horizontal([number.str.starts_with(p) for p in prefixes]) if prefixes else pl.lit(False)

    sensitive_name = name.str.contains(regex_any(settings.sensitive_name_patterns)) & \
        ~name.str.contains(regex_any(settings.sensitive_name_exclusions))
    suspense_name = name.str.contains(regex_any(settings.suspense_name_patterns))
    revenue_name = name.str.contains(regex_any(settings.revenue_name_patterns)) & \
        ~name.str.contains(regex_any(settings.sensitive_name_exclusions)) & \
        ~name.str.contains(regex_any(settings.revenue_name_exclusions))
    has_type = typed.is_not_null() | subtype.is_not_null()
    has_name = pl.col("account_name").is_not_null()
    suspense_listed = listed("suspense_accounts")
    accounts = accounts.with_columns(
        is_suspense=suspense_listed | subtype.is_in(settings.suspense_account_subtypes).fill_null(False)
        | suspense_name,
        suspense_basis=pl.when(suspense_listed).then(pl.lit("listed by the engagement"))
        .when(subtype.is_in(settings.suspense_account_subtypes).fill_null(False))
        .then(pl.format("chart subtype {}", subtype))
        .when(suspense_name).then(pl.lit("account name")),
    )
    sensitive_listed = listed("sensitive_accounts")
    by_chart = (typed.is_in(settings.sensitive_account_types) | subtype.is_in(settings.sensitive_account_subtypes))
    accounts = accounts.with_columns(
        is_sensitive=(sensitive_listed
                      | pl.when(has_type).then(by_chart.fill_null(False))
                      .when(has_name).then(sensitive_name)
                      .otherwise(starts(settings.sensitive_number_prefixes)))
        & ~pl.col("is_suspense"),
        sensitive_basis=pl.when(sensitive_listed).then(pl.lit("listed by the engagement"))
        .when(has_type).then(pl.format("chart type {} / {}", typed.fill_null("-"), subtype.fill_null("-")))
        .when(has_name).then(pl.lit("account name"))
        .otherwise(pl.lit("account number range")),
        is_revenue=pl.when(has_type).then((typed.is_in(settings.revenue_account_types)
                                           | subtype.is_in(settings.revenue_account_subtypes)).fill_null(False))
        .when(has_name).then(revenue_name)
        .otherwise(starts(settings.revenue_number_prefixes)),
        inactive=pl.col("active").not_().fill_null(False),
        seldom_listed=listed("seldom_used_accounts"),
    )
    accounts = accounts.with_columns(
        sensitive_basis=pl.when(pl.col("is_sensitive")).then(pl.col("sensitive_basis")),
        # Usage for the seldom-used test: distinct journals where counted (accounts with few lines),
        # otherwise lines; a closed account or one the engagement lists counts as unused.
        usage=pl.when(pl.col("inactive") | pl.col("seldom_listed")).then(0)
        .otherwise(pl.coalesce("journals", "lines")).cast(pl.Int64),
    )
    # An account posted to month after month (a department's monthly stock compensation, 12 journals a year) is
    # in regular use, however few its journals: not a seldom-used account.
    accounts = accounts.with_columns(
        regular_use=((pl.col("usage") >= REGULAR_USE_MIN_JOURNALS)
                     & ((pl.col("last_effective") - pl.col("first_effective")).dt.total_days()
                        >= REGULAR_USE_MIN_DAYS)).fill_null(False))
    return accounts.sort(ACCOUNT_KEYS).with_columns(
        account_code=pl.int_range(pl.len(), dtype=pl.Int32).over("entity_id"))


def _listed_accounts(settings: JETestSettings, kind: str, profile: pl.DataFrame) -> list[tuple[str, str]]:
    out = []
    for entity in profile["entity_id"].unique().to_list():
        accounts = getattr(settings.for_entity(entity), kind)
        out += [(entity, str(a)) for a in accounts or []]
    return out


# --- Calendar and thresholds -------------------------------------------------------------------------


@dataclass
class EntityFacts:
    """The resolved reference points of one entity, each with the basis a reviewer can check."""

    entity_id: str
    journals: int
    manual_journals: int
    fiscal_year_start: date
    fiscal_year_end: date
    closing_date: date
    period_end_dates: list[date]
    high_value_cents: int
    backdated_days: int
    period_end_amount_cents: int
    unusual_user_max_journals: int
    seldom_account_max_journals: int
    rare_pair_max_journals: int
    rare_group_pair_max_journals: int
    authorised_posters: list[str] | None
    revenue_cents: int | None = None
    basis: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "entity_id": self.entity_id,
            "journals": self.journals,
            "manual_journals": self.manual_journals,
            "fiscal_year_start": self.fiscal_year_start.isoformat(),
            "fiscal_year_end": self.fiscal_year_end.isoformat(),
            "closing_date": self.closing_date.isoformat(),
            "period_end_dates": [d.isoformat() for d in self.period_end_dates],
            "high_value_threshold": money_text(self.high_value_cents),
            "revenue": money_text(self.revenue_cents) if self.revenue_cents is not None else None,
            "backdated_days": self.backdated_days,
            "period_end_amount": money_text(self.period_end_amount_cents),
            "unusual_user_max_journals": self.unusual_user_max_journals,
            "seldom_account_max_journals": self.seldom_account_max_journals,
            "rare_pair_max_journals": self.rare_pair_max_journals,
            "rare_group_pair_max_journals": self.rare_group_pair_max_journals,
            "authorised_posters": self.authorised_posters,
            "basis": dict(self.basis),
        }


def _month_end(day: date) -> date:
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def holidays_for(settings: JETestSettings, first: date, last: date) -> list[date]:
    """The holiday calendar: the engagement's list, or observed US federal holidays (5 U.S.C. 6103)."""
    if settings.holidays is not None:
        return sorted(settings.holidays)
    if settings.holiday_calendar == "none":
        return []
    from auditray.generate import us_federal_holidays

    days: list[date] = []
    for year in range(first.year - 1, last.year + 2):
        days += us_federal_holidays(year)
    return sorted(d for d in set(days) if first - timedelta(days=366) <= d <= last + timedelta(days=366))


# A calendar holiday on which entries are keyed at least at this share of an ordinary working day's median
# is a day the client works (many private employers work Columbus Day, Veterans Day or Presidents' Day).
WORKED_HOLIDAY_SHARE = 0.5
# Below this many entries on an ordinary working day (the median), a few entries on a holiday prove nothing.
WORKED_HOLIDAY_MIN_DAY = 20


# A user who posted on at least this share of the days off (outside the business week) between their own first
# and last posting posts every day of the year: a revenue engine, a card processor's feed, a store's point of sale.
ALWAYS_ON_SHARE = 0.8


def worked_holidays(journals: pl.DataFrame, holidays: list[date], business_weekdays: list[int], *,
                    interfaces: bool = False) -> list[date]:
    """The holidays of a general calendar on which the population posts like on any working day.

    Counted by the day entries were keyed (entry date), or by their effective date when the ledger has no
    entry dates: a holiday with at least ``WORKED_HOLIDAY_SHARE`` of the median working day's entries is
    worked. The users who post every day, days off included (``always_on_users``), are left out: a revenue
    engine that runs every night says nothing of which days the office works. Entries on a worked holiday still
    trip holiday_posting, weakly (``rules.WORKED_HOLIDAY_STRENGTH``).

    ``interfaces``: counted over the interfaces' postings alone (every interface, those always on included):
    the holidays on which the client's systems post as on a working day, where an interface's posting trips
    nothing. Holidays the engagement states itself are never second-guessed (the caller decides).
    """
    if not holidays or journals.is_empty():
        return []
    day = "entry_date" if journals["entry_date"].null_count() < journals.height else "effective_date"
    # The few columns first: filtering or joining the whole multi-chunk summary would copy every column of it.
    journals = journals.select(*(c for c in ("entity_id", "entered_by", "manual") if c in journals.columns), day)
    if interfaces:
        journals = journals.filter(~pl.col("manual").fill_null(True))
    else:
        always = always_on_users(journals, day, business_weekdays)
        if always.height:
            journals = journals.join(always, on=["entity_id", "entered_by"], how="anti")
    if journals.is_empty():
        return []
    counts = journals.select(day).group_by(day).len().drop_nulls(day)
    listed = pl.Series(holidays, dtype=pl.Date)
    ordinary = counts.filter(pl.col(day).dt.weekday().is_in(business_weekdays) & ~pl.col(day).is_in(listed.implode()))
    if ordinary.is_empty():
        return []
    median = float(ordinary["len"].median())
    if median < WORKED_HOLIDAY_MIN_DAY:
        return []
    worked = counts.filter(pl.col(day).is_in(listed.implode()) & (pl.col("len") >= WORKED_HOLIDAY_SHARE * median))
    return sorted(worked[day].to_list())


def always_on_users(journals: pl.DataFrame, day: str, business_weekdays: list[int]) -> pl.DataFrame:
    """(entity_id, entered_by) of the users who posted on at least ``ALWAYS_ON_SHARE`` of the days off (outside
    the business week) from their own first posting to their last, where there are at least
    ``WORKED_WEEKDAY_MIN_DATES`` of them (a feed switched on mid-year counts from then; a stray entry keyed
    months after the year does not stretch anyone's span)."""
    schema = {"entity_id": pl.String, "entered_by": pl.String}
    if not set(schema) <= set(journals.columns):
        return pl.DataFrame(schema=schema)
    off = ~pl.col(day).dt.weekday().is_in(business_weekdays)
    users = (journals.lazy().filter(pl.col("entered_by").is_not_null() & pl.col(day).is_not_null())
             .group_by("entity_id", "entered_by")
             .agg(first=pl.col(day).min(), last=pl.col(day).max(), posted=pl.col(day).filter(off).n_unique()))
    spans = (users.filter(pl.col("posted") >= WORKED_WEEKDAY_MIN_DATES)
             .with_columns(pl.date_ranges("first", "last").alias(day)).explode(day).filter(off)
             .group_by("entity_id", "entered_by").agg(pl.len().alias("days_off"), pl.col("posted").first()))
    return (spans.filter((pl.col("days_off") >= WORKED_WEEKDAY_MIN_DATES)
                         & (pl.col("posted") >= ALWAYS_ON_SHARE * pl.col("days_off")))
            .select(*schema).collect())


# A working day on which an entity keyed at most this share of an ordinary working day's entries (the median
# day) was a day its office was closed: a local or company holiday no general calendar lists (Good Friday in
# Bavaria, the day after Thanksgiving). The few entries keyed on it are keyed on a holiday.
CLOSED_DAY_SHARE = 0.1
# Below this many entries on the median working day, a quiet day is chance, not a closure.
CLOSED_DAY_MIN_DAY = 10
# A weekday that is quiet on more than this share of its days (and more than twice) is a short day of the
# client's week (a Friday half day), not a run of holidays.
CLOSED_WEEKDAY_MAX_SHARE = 0.25


def closed_days(journals: pl.DataFrame, facts: dict[str, EntityFacts], holidays: list[date],
                business_weekdays: list[int]) -> pl.DataFrame:
    """The working days on which each entity's ledger shows its office closed, read from the ledger itself.

    Counted by entry date within the entity's fiscal year (after the year end only the old year's stragglers
    are in the population): a business weekday, not a calendar holiday, on which the entity keyed at most
    ``CLOSED_DAY_SHARE`` of its median working day's entries, that median being at least
    ``CLOSED_DAY_MIN_DAY``; unless that weekday is as quiet week after week (``CLOSED_WEEKDAY_MAX_SHARE``).
    Returns (entity_id, entry_date, closed_day_entries, closed_day_usual).
    """
    schema = {"entity_id": pl.String, "entry_date": pl.Date, "closed_day_entries": pl.Int64,
              "closed_day_usual": pl.Int64}
    if journals.is_empty() or journals["entry_date"].null_count() == journals.height:
        return pl.DataFrame(schema=schema)
    years = facts_frame(facts).select("entity_id", "fy_start", "fye")
    listed = pl.Series(holidays, dtype=pl.Date)
    counts = (journals.select("entity_id", "entry_date").drop_nulls().group_by("entity_id", "entry_date")
              .agg(closed_day_entries=pl.len().cast(pl.Int64))
              .join(years, on="entity_id", how="inner")
              .filter(pl.col("entry_date").is_between(pl.col("fy_start"), pl.col("fye"))
                      & pl.col("entry_date").dt.weekday().is_in(business_weekdays)
                      & ~pl.col("entry_date").is_in(listed.implode())))
    usual = pl.col("closed_day_entries").median().over("entity_id")
    weekday = [pl.col("entity_id"), pl.col("entry_date").dt.weekday()]
    quiet = ((pl.col("closed_day_usual") >= CLOSED_DAY_MIN_DAY)
             & (pl.col("closed_day_entries") <= CLOSED_DAY_SHARE * pl.col("closed_day_usual")))
    quiet_days, days = quiet.sum().over(weekday), pl.len().over(weekday)
    return (counts.with_columns(closed_day_usual=usual.round().cast(pl.Int64))
            .filter(quiet & ((quiet_days <= 2) | (quiet_days <= CLOSED_WEEKDAY_MAX_SHARE * days)))
            .select(*schema).sort("entity_id", "entry_date"))


# A day of the week outside the business week on which an entity's interfaces (or, apart, its people) posted
# on at least this share of its dates in the fiscal year is a day they work: a store's point of sale, a
# warehouse's Saturday shift, a nightly interface that runs every day.
WORKED_WEEKDAY_SHARE = 0.5
# Fewer of a weekday's dates than this in the fiscal year (a short population) prove nothing.
WORKED_WEEKDAY_MIN_DATES = 8


def worked_weekdays(journals: pl.DataFrame, facts: dict[str, EntityFacts], business_weekdays: list[int]
                    ) -> pl.DataFrame:
    """The days outside the business week on which each entity's interfaces, and apart from them its people,
    post as a matter of course: on at least ``WORKED_WEEKDAY_SHARE`` of that weekday's dates within the fiscal
    year (up to the last day keyed), counted by entry date.

    A retailer's point of sale posts every Sunday; its finance team does not work Sundays. So an interface's
    posting on a day its interfaces work trips nothing, and a person's entry on a day the entity's people work
    (a six-day week) trips weekend_posting weakly (``rules.WORKED_WEEKDAY_STRENGTH``); a person's Sunday entry
    at the retailer still trips in full. Returns (entity_id, worked_manual, entry_weekday, worked_weekday_dates,
    weekday_dates).
    """
    schema = {"entity_id": pl.String, "worked_manual": pl.Boolean, "entry_weekday": pl.Int8,
              "worked_weekday_dates": pl.Int64, "weekday_dates": pl.Int64}
    off = [d for d in range(1, 8) if d not in business_weekdays]
    if not off or journals.is_empty() or journals["entry_date"].null_count() == journals.height:
        return pl.DataFrame(schema=schema)
    years = facts_frame(facts).select("entity_id", "fy_start", "fye")
    keyed = (journals.lazy().select("entity_id", "entry_date", worked_manual=pl.col("manual").fill_null(True))
             .drop_nulls("entry_date").join(years.lazy(), on="entity_id", how="inner")
             .filter(pl.col("entry_date").is_between(pl.col("fy_start"), pl.col("fye"))))
    last = keyed.group_by("entity_id").agg(pl.col("entry_date").max().alias("_last"))
    posted = (keyed.filter(pl.col("entry_date").dt.weekday().is_in(off))
              .group_by("entity_id", "worked_manual", entry_weekday=pl.col("entry_date").dt.weekday())
              .agg(worked_weekday_dates=pl.col("entry_date").n_unique().cast(pl.Int64)))
    # Every date of the weekday from the year's start up to the last day keyed in it.
    dates = (years.lazy().join(last, on="entity_id")
             .select("entity_id", day=pl.date_ranges("fy_start", pl.min_horizontal("fye", "_last"))).explode("day")
             .filter(pl.col("day").dt.weekday().is_in(off))
             .group_by("entity_id", entry_weekday=pl.col("day").dt.weekday())
             .agg(weekday_dates=pl.len().cast(pl.Int64)))
    return (posted.join(dates, on=["entity_id", "entry_weekday"], how="inner")
            .filter((pl.col("weekday_dates") >= WORKED_WEEKDAY_MIN_DATES)
                    & (pl.col("worked_weekday_dates") >= WORKED_WEEKDAY_SHARE * pl.col("weekday_dates")))
            .select(*schema).collect().cast(schema).sort("entity_id", "worked_manual", "entry_weekday"))


# An hour just outside business hours in which people key at least this share of an ordinary office hour's
# manual entries (the median hour of the business day) is an hour the accounting team works: the close that
# runs into the evening, the early shift.
WORKED_HOUR_SHARE = 0.25
# Below this many manual entries in the median office hour, a few entries in an evening hour prove nothing.
WORKED_HOUR_MIN = 20


def worked_hours(journals: pl.DataFrame, business_hours: tuple[time, time]) -> list[int]:
    """The hours of the day, next to business hours, in which the population's people key entries as a
    matter of course (``WORKED_HOUR_SHARE`` of the median office hour's manual entries).

    Only hours that extend the working day count: 19:00 may be worked, then 20:00 if 19:00 is; an hour in the
    night with no worked hour before it never is. Entries keyed in a worked hour still trip after_hours,
    weakly (``rules.WORKED_HOUR_STRENGTH``). Business hours the engagement states are not second-guessed (the
    caller decides).
    """
    start, end = business_hours
    manual = journals.lazy().filter(pl.col("manual").fill_null(False) & pl.col("entry_time").is_not_null())
    counts = dict(manual.group_by(hour=pl.col("entry_time").dt.hour()).len().collect().iter_rows())
    office = [counts.get(h, 0) for h in range(24) if start <= time(h) and time(h, 59, 59) < end]
    if not office:
        return []
    median = float(pl.Series(office).median())
    if median < WORKED_HOUR_MIN:
        return []

    def worked(hour: int) -> bool:
        return counts.get(hour, 0) >= WORKED_HOUR_SHARE * median

    hours = []
    hour = end.hour if end.minute == 0 else end.hour + 1
    while hour < 24 and worked(hour):
        hours.append(hour)
        hour += 1
    hour = start.hour - 1
    while hour >= 0 and worked(hour):
        hours.append(hour)
        hour -= 1
    return sorted(hours)


def business_days_before(end: date, count: int, workdays: set[int], holidays: set[date]) -> list[date]:
    """The last ``count`` business days up to and including ``end``."""
    days, day = [], end
    while len(days) < count:
        if day.isoweekday() in workdays and day not in holidays:
            days.append(day)
        day -= timedelta(days=1)
    return days


def nicest_limit(low: int, high: int, common: Sequence[int] = ()) -> int:
    """The likeliest approval limit in [low, high), in cents: a ``common`` limit there if any (the roundest),
    else the roundest amount: most trailing zeros, then a 1, 2, 2.5 or 5 mantissa.

    An approval limit is a number someone chose: when the largest unapproved entry is 9,900.00 and the
    smallest approved one 10,213.00, the limit is 10,000.00; between 24,823.09 and 30,251.82 it is the
    common 25,000.00 rather than 30,000.00.
    """
    if high <= low:
        return low
    inside = [c for c in common if low <= c < high]
    if inside:
        return max(inside, key=lambda c: (len(str(c)) - len(str(c).rstrip("0")), -c))
    for zeros in range(len(str(high)), -1, -1):
        step = 10 ** zeros
        first = -(-low // step) * step
        if first >= high:
            continue
        candidates = range(first, high, step)[:20]
        nice = [c for c in candidates if str(c // step).rstrip("0") in ("1", "2", "25", "5")]
        return nice[0] if nice else first
    return low


def resolve_facts(journals: pl.DataFrame, accounts: pl.DataFrame, settings: JETestSettings) -> dict[str, EntityFacts]:
    """Per entity: calendar and thresholds from the settings, or from the population with the basis stated."""
    facts: dict[str, EntityFacts] = {}
    entity_ids = journals["entity_id"].unique().sort().to_list()
    revenue = dict(accounts.filter(pl.col("is_revenue")).group_by("entity_id")
                   .agg(pl.col("activity_cents").sum()).iter_rows())
    # A unit of a group that books no revenue of its own (a holding, a shared-services unit) is tested at the
    # threshold of the group's smallest revenue-earning unit: its own amounts say nothing about materiality,
    # and group auditors set a component's materiality below the group's (ISA 600 A44-A46).
    earning = {e: -v for e, v in revenue.items() if v is not None and -v > 0}
    smallest = min(earning.items(), key=lambda item: (item[1], item[0])) if earning else None
    for entity in entity_ids:
        stated = settings.for_entity(entity)
        rows = journals.select("entity_id", "fiscal_year", "period", "effective_date", "entry_date", "manual",
                               "debit_cents").filter(pl.col("entity_id") == entity)
        facts[entity] = _entity_facts(entity, rows, stated, settings, revenue.get(entity),
                                      None if entity in earning else smallest)
    return facts


def _year_end(in_year: pl.DataFrame) -> tuple[date, str]:
    """The fiscal year end read from the entries of one fiscal year, and how.

    With periods, the month most entries of the last regular period are dated in (a regular period holds at
    least a quarter of the median period's entries: adjustment periods such as 13-16 hold a few); without,
    the month of the latest effective date once the latest thousandth of the entries is set aside. Either way
    a few entries dated outside the year cannot move it.
    """
    periods = (in_year.drop_nulls("period").group_by("period").len() if "period" in in_year.columns
               else pl.DataFrame(schema={"period": pl.Int8, "len": pl.UInt32}))
    if periods.height:
        regular = periods.filter(pl.col("len") >= 0.25 * pl.col("len").median())
        period = int(regular["period"].max())
        months = (in_year.filter(pl.col("period") == period)
                  .group_by(month=pl.col("effective_date").dt.month_end()).len().sort("len", "month"))
        return (months["month"][-1], (f"month end in which most entries of the ledger's last regular period "
                                     f"({period}) are dated"))
    dates = in_year["effective_date"].drop_nulls().sort()
    return (_month_end(dates[min(len(dates) - 1, int(len(dates) * 0.999))]),
            ("month end of the latest effective date in the ledger's fiscal year (its latest 0.1 % of entries "
            "set aside)"))


def _entity_facts(entity: str, rows: pl.DataFrame, stated: EntityOverrides, settings: JETestSettings,
                  revenue_activity: int | None, group_unit: tuple[str, int] | None = None) -> EntityFacts:
    basis: dict[str, str] = {}
    n = rows.height
    manual = rows.filter(pl.col("manual"))
    # Fiscal year end: stated, else the month end of the last effective date of the commonest fiscal year.
    if stated.fiscal_year_end is not None:
        fye, basis["fiscal_year_end"] = stated.fiscal_year_end, "stated by the engagement"
    else:
        in_year = rows
        if rows["fiscal_year"].null_count() < n:
            modal = rows["fiscal_year"].drop_nulls().mode().sort()[-1]
            in_year = rows.filter(pl.col("fiscal_year") == modal)
        fye, basis["fiscal_year_end"] = _year_end(in_year)
    start = _add_months(_month_end(fye) + timedelta(days=1), -12)
    if stated.closing_date is not None:
        closing, basis["closing_date"] = stated.closing_date, "stated by the engagement"
    else:
        closing = fye + timedelta(days=settings.closing_days_after_year_end)
        basis["closing_date"] = f"fiscal year end + {settings.closing_days_after_year_end} days (not stated)"
    if stated.period_end_dates:
        period_ends, basis["period_end_dates"] = sorted(stated.period_end_dates), "stated by the engagement"
    else:
        period_ends = [_month_end(_add_months(start, m)) for m in range(12)]
        basis["period_end_dates"] = "calendar month ends of the fiscal year"

    # High value: performance materiality, stated or estimated from revenue (ISA 320 A7 benchmarks).
    pm = stated.performance_materiality
    if stated.high_value_threshold is not None:
        high, basis["high_value_threshold"] = _cents(stated.high_value_threshold), "stated by the engagement"
    elif pm is not None:
        high, basis["high_value_threshold"] = _cents(pm), "performance materiality stated by the engagement"
    elif stated.materiality is not None:
        high = _cents(stated.materiality * settings.performance_materiality_share)
        basis["high_value_threshold"] = (f"{settings.performance_materiality_share} x materiality stated by the "
                                         "engagement")
    elif revenue_activity is not None and -revenue_activity > 0:
        high = _cents(Decimal(-revenue_activity) / 100 * settings.materiality_revenue_share
                      * settings.performance_materiality_share)
        basis["high_value_threshold"] = (
            f"estimated: {settings.performance_materiality_share} x {settings.materiality_revenue_share} x "
            "revenue in the ledger (ISA 320 A7 revenue benchmark; the engagement stated no materiality)")
    elif group_unit is not None:
        peer, peer_revenue = group_unit
        high = _cents(Decimal(peer_revenue) / 100 * settings.materiality_revenue_share
                      * settings.performance_materiality_share)
        basis["high_value_threshold"] = (
            f"estimated as for {peer}, the group's smallest revenue-earning unit in the ledger: "
            f"{settings.performance_materiality_share} x {settings.materiality_revenue_share} x its revenue "
            "(this unit books no revenue of its own; ISA 320 A7, ISA 600 A44)")
    else:
        quantile = rows["debit_cents"].quantile(settings.high_value_fallback_quantile, "higher")
        high = int(quantile or 1)
        basis["high_value_threshold"] = (f"estimated: the {settings.high_value_fallback_quantile:.1%} quantile of "
                                         "entry amounts (no materiality and no revenue accounts identified)")
    high = max(int(high), 1)

    lag = (rows.select((pl.col("entry_date") - pl.col("effective_date")).dt.total_days().alias("lag"))
           .drop_nulls()["lag"])
    q_lag = math.ceil(lag.quantile(settings.backdated_quantile, "higher")) if lag.len() else 0
    backdated = max(settings.backdated_min_days, q_lag)
    basis["backdated_days"] = (f"more than max({settings.backdated_min_days} days, the "
                               f"{settings.backdated_quantile:.1%} quantile of entry lags = {q_lag} days)")

    manual_q = manual["debit_cents"].quantile(settings.period_end_amount_quantile, "higher") \
        if manual.height else None
    share_of_high = int(high * settings.period_end_materiality_share)
    period_end_amount = min(int(manual_q), share_of_high) if manual_q is not None else share_of_high
    basis["period_end_amount"] = (f"min({settings.period_end_materiality_share} x high-value threshold, the "
                                  f"{settings.period_end_amount_quantile:.0%} quantile of manual entry amounts)")

    unusual = max(settings.unusual_user_max_journals, int(settings.unusual_user_max_share * n))
    seldom = _clip(int(settings.seldom_account_max_share * n), settings.seldom_account_min_journals,
                   settings.seldom_account_max_journals)
    rare_pair = _clip(int(settings.rare_pair_max_share * n), settings.rare_pair_min_journals,
                      settings.rare_pair_max_journals)
    rare_group = max(settings.rare_group_pair_min_journals, int(settings.rare_group_pair_max_share * n))
    basis["rarity"] = (
        f"of {n:,} journals: users keying at most max({settings.unusual_user_max_journals}, "
        f"{settings.unusual_user_max_share:.2%}) = {unusual}; accounts used by at most "
        f"{settings.seldom_account_max_share:.2%} (between {settings.seldom_account_min_journals} and "
        f"{settings.seldom_account_max_journals}) = {seldom}; account pairs used by at most "
        f"{settings.rare_pair_max_share:.2%} (between {settings.rare_pair_min_journals} and "
        f"{settings.rare_pair_max_journals}) = {rare_pair}, strongly so when their account groups (first "
        f"{settings.account_group_digits} digits) are combined by at most max({settings.rare_group_pair_min_journals}, "
        f"{settings.rare_group_pair_max_share:.2%}) = {rare_group} journals")
    posters = stated.authorised_posters
    basis["authorised_posters"] = "stated by the engagement" if posters is not None else \
        "not stated: unusual users are judged by how rarely they post"
    return EntityFacts(
        entity_id=entity, journals=n, manual_journals=manual.height, fiscal_year_start=start, fiscal_year_end=fye,
        closing_date=closing, period_end_dates=period_ends, high_value_cents=high, backdated_days=backdated,
        period_end_amount_cents=max(period_end_amount, 1), unusual_user_max_journals=unusual,
        seldom_account_max_journals=seldom, rare_pair_max_journals=rare_pair,
        rare_group_pair_max_journals=rare_group,
        authorised_posters=list(posters) if posters is not None else None,
        revenue_cents=-revenue_activity if revenue_activity is not None else None, basis=basis,
    )


def _clip(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def facts_frame(facts: dict[str, EntityFacts]) -> pl.DataFrame:
    """One row per entity with the thresholds the tests compare against."""
    return pl.DataFrame(
        [{"entity_id": f.entity_id, "entity_journals": f.journals, "fye": f.fiscal_year_end,
          "fy_start": f.fiscal_year_start, "closing_date": f.closing_date, "high_value_cents": f.high_value_cents,
          "backdated_days": f.backdated_days, "period_end_amount_cents": f.period_end_amount_cents,
          "unusual_user_max": f.unusual_user_max_journals, "seldom_max": f.seldom_account_max_journals,
          "rare_pair_max": f.rare_pair_max_journals, "rare_group_pair_max": f.rare_group_pair_max_journals}
         for f in facts.values()],
        schema={"entity_id": pl.String, "entity_journals": pl.Int64, "fye": pl.Date, "fy_start": pl.Date,
                "closing_date": pl.Date, "high_value_cents": pl.Int64, "backdated_days": pl.Int64,
                "period_end_amount_cents": pl.Int64, "unusual_user_max": pl.Int64, "seldom_max": pl.Int64,
                "rare_pair_max": pl.Int64, "rare_group_pair_max": pl.Int64},
    )


def period_end_windows(facts: dict[str, EntityFacts], settings: JETestSettings,
                       holidays: list[date]) -> pl.DataFrame:
    """(entity, date) for every day in the last ``period_end_business_days`` business days of each period."""
    workdays, off = set(settings.business_weekdays), set(holidays)
    rows = []
    for f in facts.values():
        for end in f.period_end_dates:
            last = business_days_before(end, settings.period_end_business_days, workdays, off)
            # Calendar days from the first of those business days to the period end are all "at period end".
            day = min(last)
            while day <= end:
                rows.append((f.entity_id, day, end))
                day += timedelta(days=1)
    return pl.DataFrame(rows, schema={"entity_id": pl.String, "date": pl.Date, "period_end": pl.Date},
                        orient="row").unique(["entity_id", "date"], keep="first")


def next_period_ends(facts: dict[str, EntityFacts]) -> pl.DataFrame:
    """(entity, day, the first period end on or after it) for every day from a year before the fiscal year
    to the last period end: a join table, so no entry has to be sorted by date to find its period end."""
    frames = []
    for f in facts.values():
        ends = sorted(f.period_end_dates)
        if not ends:
            continue
        days = pl.date_range(f.fiscal_year_start - timedelta(days=366), ends[-1], "1d", eager=True)
        frame = pl.DataFrame({"effective_date": days}).join_asof(
            pl.DataFrame({"next_period_end": ends}, schema={"next_period_end": pl.Date}),
            left_on="effective_date", right_on="next_period_end", strategy="forward")
        frames.append(frame.with_columns(entity_id=pl.lit(f.entity_id)))
    schema = {"entity_id": pl.String, "effective_date": pl.Date, "next_period_end": pl.Date}
    return pl.concat(frames).select(list(schema)) if frames else pl.DataFrame(schema=schema)


def approval_limits(users: pl.DataFrame, settings: JETestSettings) -> pl.DataFrame:
    """Each poster's approval limit: stated, or read from the approvals the ledger records.

    ``users`` is the user activity statistic (``auditray.je.stats.USER_ACTIVITY``). A manual entry above
    its poster's limit carries an approver other than the poster. Where a poster's approved and unapproved
    manual entries separate cleanly (every unapproved entry below every approved one), the limit is the
    roundest amount between the two (``nicest_limit``). Returns (entity_id, entered_by, limit_cents,
    limit_basis); posters whose limit is neither stated nor readable are absent.
    """
    rows = []
    posters = users.filter(pl.col("entered_by").is_not_null() & (pl.col("manual_journals") > 0))
    common = sorted(_cents(v) for v in settings.common_approval_limits)
    policies = _entity_policies(posters, common)
    for row in posters.iter_rows(named=True):
        entity, user = row["entity_id"], row["entered_by"]
        stated = settings.for_entity(entity)
        high, low = row["min_approved_cents"], row["max_unapproved_cents"]
        if user in stated.approval_limits_by_user:
            rows.append((entity, user, _cents(stated.approval_limits_by_user[user]), "stated for this user"))
        elif stated.approval_limit is not None:
            rows.append((entity, user, _cents(stated.approval_limit), "stated by the engagement"))
        elif entity in policies:
            rows.append((entity, user, *policies[entity]))
        elif row["approved_journals"] and high is not None and low is not None and high > low:
            rows.append((entity, user, nicest_limit(int(low), int(high), common),
                         (f"read from approvals: unapproved entries up to {money_text(low)}, approved from "
                         f"{money_text(high)}")))
    return pl.DataFrame(rows, schema={"entity_id": pl.String, "entered_by": pl.String, "limit_cents": pl.Int64,
                                      "limit_basis": pl.String}, orient="row")


def _entity_policies(posters: pl.DataFrame, common: Sequence[int]) -> dict[str, tuple[int, str]]:
    """One limit per entity when all its posters' approvals fit one: every unapproved manual entry, whoever
    keyed it, below every approved one. Read from everyone's entries together, the interval is narrower
    than any one poster's, and the limit likelier the policy's (one poster's few entries leave it wide)."""
    pooled = (posters.group_by("entity_id")
              .agg(low=pl.col("max_unapproved_cents").max(), high=pl.col("min_approved_cents").min(),
                   approved=pl.col("approved_journals").sum(), people=pl.len())
              .filter((pl.col("approved") > 0) & (pl.col("people") > 1) & (pl.col("low") < pl.col("high"))))
    return {entity: (nicest_limit(int(low), int(high), common),
                     (f"read from the approvals of all {people} posters: unapproved entries up to "
                      f"{money_text(low)}, approved from {money_text(high)}"))
            for entity, low, high, people in pooled.select("entity_id", "low", "high", "people").iter_rows()}


# The endings a keyword may take and still be the word: "plugged", "backdating", "bribery", "concealment".
_ENDINGS = r"(?:s|es|d|ed|ged|ing|ging|ment|ments|ry|ery|ly)?"


def _word(keyword: str) -> str:
    """One literal keyword as a pattern of whole words, inflections allowed: "plug" is in "Plugged the
    difference" but neither in "Plugin licence" nor in "unplugged", "bury" not in "Danbury Plumbing"."""
    start = r"\b" if re.match(r"\w", keyword) else ""
    if not re.search(r"\w$", keyword):
        return start + re.escape(keyword)
    if keyword.endswith("e"):
        # "backdate": "backdates", "backdated", "backdating"; "bribe": "bribery".
        return start + re.escape(keyword[:-1]) + r"(?:e(?:s|d|ment|ments|ry|ly)?|ing)\b"
    return start + re.escape(keyword) + _ENDINGS + r"\b"


def _words(words: list[str]) -> str:
    """Literal words or phrases as one case-insensitive pattern of whole words (``_word``)."""
    return regex_any([_word(k) for k in words])


def keyword_regex(settings: JETestSettings) -> str:
    """The suspicious keywords as one case-insensitive pattern."""
    return _words(settings.suspicious_keywords)


def weak_keywords(settings: JETestSettings) -> list[str]:
    """The weak keywords that are not also listed as suspicious (a listed word counts in full)."""
    strong = {k.lower() for k in settings.suspicious_keywords}
    return [k for k in settings.weak_keywords if k.lower() not in strong]


def weak_keyword_regex(settings: JETestSettings) -> str:
    return _words(weak_keywords(settings))


__all__ = [
    "EntityFacts",
    "approval_limits",
    "business_days_before",
    "classify_accounts",
    "facts_frame",
    "holidays_for",
    "money_text",
    "next_period_ends",
    "nicest_limit",
    "period_end_windows",
    "resolve_facts",
    "weak_keyword_regex",
    "weak_keywords",
]
