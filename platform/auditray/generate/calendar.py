"""The business calendar of an engagement: holidays, business days, fiscal periods and close windows.

Journal-entry tests for weekend, holiday, after-hours, period-end and post-closing postings
(AS 2401 .61, ISA 240 A44) all need the same calendar the ledger was kept on; the generator and
the tests share this module so they can never disagree about what a business day is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np

# Federal holidays under 5 U.S.C. 6103(a); Juneteenth was added in 2021.
_JUNETEENTH_FIRST_YEAR = 2021


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (Monday = 0) of a month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """Holiday on a Saturday is observed the Friday before, on a Sunday the Monday after (5 U.S.C. 6103(b))."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def _legal_holidays(year: int) -> list[tuple[date, str]]:
    holidays = [
        (date(year, 1, 1), "New Year's Day"),
        (_nth_weekday(year, 1, 0, 3), "Birthday of Martin Luther King, Jr."),
        (_nth_weekday(year, 2, 0, 3), "Washington's Birthday"),
        (_nth_weekday(year, 5, 0, -1), "Memorial Day"),
        (date(year, 7, 4), "Independence Day"),
        (_nth_weekday(year, 9, 0, 1), "Labor Day"),
        (_nth_weekday(year, 10, 0, 2), "Columbus Day"),
        (date(year, 11, 11), "Veterans Day"),
        (_nth_weekday(year, 11, 3, 4), "Thanksgiving Day"),
        (date(year, 12, 25), "Christmas Day"),
    ]
    if year >= _JUNETEENTH_FIRST_YEAR:
        holidays.append((date(year, 6, 19), "Juneteenth National Independence Day"))
    return holidays


def us_federal_holidays_named(year: int) -> list[tuple[date, str]]:
    """Observed US federal holidays that fall in ``year``, with their names, in date order.

    Observed dates follow OPM's rule (5 U.S.C. 6103(b), Executive Order 11582): a Saturday
    holiday is observed on the Friday before, a Sunday holiday on the Monday after. A New Year's
    Day on a Saturday is therefore observed on 31 December of the *previous* year, and it is
    listed under that year (2027 includes 2027-12-31 for 1 January 2028), so that "is this date a
    holiday" is answered by the holidays of the date's own year.
    """
    observed = [(_observed(day), name) for day, name in _legal_holidays(year)]
    observed += [(_observed(day), name) for day, name in _legal_holidays(year + 1) if day.month == 1 and day.day == 1]
    return sorted((day, name) for day, name in observed if day.year == year)


def us_federal_holidays(year: int) -> list[date]:
    """Observed US federal holidays that fall in ``year`` (see ``us_federal_holidays_named``)."""
    return [day for day, _ in us_federal_holidays_named(year)]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class FiscalPeriod:
    number: int
    start: date
    end: date


@dataclass(frozen=True)
class FiscalCalendar:
    """One fiscal year on the US federal holiday calendar, Monday to Friday.

    ``fiscal_year`` names the year in which the fiscal year ends (FY2025 with a July start runs
    from 1 July 2024 to 30 June 2025), the usual US convention. The closing date is the last day
    on which entries for the year are accepted: ``closing_business_days`` business days after year
    end. Month-end close windows are the first ``close_window_business_days`` business days of the
    next month.
    """

    fiscal_year: int
    start_month: int = 1
    closing_business_days: int = 20
    close_window_business_days: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.start_month <= 12:
            raise ValueError(f"fiscal-year start month must be 1-12, got {self.start_month}")
        if self.closing_business_days < 1 or self.close_window_business_days < 1:
            raise ValueError("closing and close-window business days must be at least 1")

    @cached_property
    def periods(self) -> tuple[FiscalPeriod, ...]:
        first = date(self.fiscal_year - (self.start_month != 1), self.start_month, 1)
        return tuple(
            FiscalPeriod(p + 1, _add_months(first, p), _add_months(first, p + 1) - timedelta(days=1))
            for p in range(12)
        )

    @property
    def start(self) -> date:
        return self.periods[0].start

    @property
    def end(self) -> date:
        return self.periods[-1].end

    @cached_property
    def holidays_named(self) -> tuple[tuple[date, str], ...]:
        """Holidays from the year before the fiscal year to the year after the closing date."""
        years = range(self.start.year - 1, self.end.year + 2)
        return tuple(h for year in years for h in us_federal_holidays_named(year))

    @cached_property
    def holidays(self) -> np.ndarray:
        return np.array([day for day, _ in self.holidays_named], dtype="datetime64[D]")

    @cached_property
    def _busdays(self) -> np.busdaycalendar:
        return np.busdaycalendar(weekmask="1111100", holidays=self.holidays)

    def is_business_day(self, days: np.ndarray) -> np.ndarray:
        return np.is_busday(np.asarray(days, dtype="datetime64[D]"), busdaycal=self._busdays)

    def add_business_days(self, days: np.ndarray, offset: np.ndarray | int) -> np.ndarray:
        """Business day ``offset`` business days after ``days`` (rolled forward first if not one)."""
        return np.busday_offset(np.asarray(days, dtype="datetime64[D]"), offset, roll="forward",
                                busdaycal=self._busdays)

    def business_days(self, start: date, end: date) -> np.ndarray:
        """Business days from ``start`` to ``end`` inclusive."""
        every = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
        return every[self.is_business_day(every)]

    def last_business_day(self, period: int) -> np.datetime64:
        end = np.datetime64(self.periods[period - 1].end, "D")
        return np.busday_offset(end, 0, roll="backward", busdaycal=self._busdays)

    def first_business_day(self, period: int) -> np.datetime64:
        start = np.datetime64(self.periods[period - 1].start, "D")
        return np.busday_offset(start, 0, roll="forward", busdaycal=self._busdays)

    def period_end_days(self, period: int, business_days: int = 2) -> np.ndarray:
        """The last ``business_days`` business days of a period: where period-end entries cluster."""
        last = self.last_business_day(period)
        return np.busday_offset(last, -np.arange(business_days)[::-1], busdaycal=self._busdays)

    def close_window(self, period: int) -> np.ndarray:
        """Business days after period end on which that period's closing entries are keyed.

        For the last period the window runs to the closing date.
        """
        end = np.datetime64(self.periods[period - 1].end, "D")
        count = self.closing_business_days if period == 12 else self.close_window_business_days
        return np.busday_offset(end, np.arange(1, count + 1), roll="forward", busdaycal=self._busdays)

    @cached_property
    def closing_date(self) -> date:
        end = np.datetime64(self.end, "D")
        day = np.busday_offset(end, self.closing_business_days, roll="forward", busdaycal=self._busdays)
        return day.astype(object)

    def period_of(self, days: np.ndarray) -> np.ndarray:
        """Fiscal period (1-12) of each date; dates outside the year get 0 or 13."""
        starts = np.array([p.start for p in self.periods], dtype="datetime64[D]")
        days = np.asarray(days, dtype="datetime64[D]")
        period = np.searchsorted(starts, days, side="right").astype(np.int8)
        period[days > np.datetime64(self.end, "D")] = 13
        return period
