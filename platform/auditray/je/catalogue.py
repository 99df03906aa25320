"""The journal-entry test battery: what each test looks for, why, on whose authority, and how much it weighs.

PCAOB AS 2401 .58-.62 and ISA 240 .32(a), A41-A45 require the auditor to test journal entries and other
adjustments, choosing entries with the characteristics of fraudulent ones (AS 2401 .61, ISA 240 A44).
The CAQ practice aid "Journal Entry Testing" (Center for Audit Quality, 2008) lists those characteristics as
tests; Nigrini (Forensic Analytics, 2nd ed., 2020) supplies the digit and number-pattern tests.

Each test has a stable id (the ids of ``auditray.generate.ANOMALY_KINDS``: a planted anomaly of kind K is
what test K must find), a one-line rationale with its source, the settings it reads, the ledger fields it
needs (a test whose field is missing is reported "not run", never silently passed), and a default weight:
the auditor's judgement of how strongly a hit alone suggests an entry needs looking at.

A weight expresses judgement, not a fitted coefficient: integrity failures and overrides of controls
(unbalanced, post-closing, duplicate, unauthorised poster, split to avoid approval) weigh most; timing
and round-number patterns, which honest entries also show, weigh least. ``system_strength`` scales a hit on
a system-generated entry: interfaces post at night and in round amounts for ordinary reasons, people rarely do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JETest:
    """One test of the battery."""

    id: str
    title: str
    rationale: str
    source: str
    weight: float
    settings: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    system_strength: float = 1.0
    level: str = "entry"  # entry: judged on the journal; line: judged on a line, the entry keeps the highest


CATALOGUE: tuple[JETest, ...] = (
    JETest("unbalanced_entry", "Debits differ from credits",
           "An entry that does not balance breaks double entry: an interface or keying error, or an entry "
           "forced past the system's controls.",
           "AS 2401 .61; ISA 240 A43; CAQ practice aid (population integrity)", 0.9, needs=("amount",)),
    JETest("sequence_gap", "Journal numbers missing before this entry",
           "Gaps in the document sequence mean the population may be incomplete or entries were deleted; a "
           "gap taken while two fiscal years were open (the neighbouring year's entries may hold it) counts "
           "weakly.",
           "AS 2401 .61 (completeness of the population); ISA 240 A43; CAQ practice aid", 0.6,
           settings=("sequence_gap_max_missing",), needs=("journal_id",)),
    JETest("duplicate_entry", "Same accounts, amounts and date as an earlier entry",
           "Entries posted twice overstate balances or hide a payment made twice.",
           "CAQ practice aid (duplicate entries); Nigrini ch. 11 (same-same-same test)", 0.7,
           settings=("duplicate_same_effective_date",)),
    JETest("high_value", "Entry at or above the high-value threshold",
           "Entries above performance materiality can alone misstate the statements; a standard entry's usual "
           "size (a monthly transfer of the same order) counts weakly.",
           "AS 2401 .61; ISA 240 A44; ISA 320 (performance materiality)", 0.6,
           settings=("high_value_threshold", "performance_materiality", "materiality"), system_strength=0.4),
    JETest("round_amount", "Round amount (a multiple of the round unit)",
           "Estimates and invented amounts tend to be round; AS 2401 .61(e) names round numbers.",
           "AS 2401 .61(e); ISA 240 A44; Nigrini ch. 8 (round numbers)", 0.5,
           settings=("round_amount_unit",), system_strength=0.3, level="line"),
    JETest("recurring_ending", "Different amounts by one user to the same accounts ending in the same digits",
           "Consistent ending numbers suggest amounts made up to a pattern: whole amounts compared on their last "
           "three whole digits (999.00), amounts with cents on their last two and the cents (12.75).",
           "AS 2401 .61(e) (consistent ending numbers); ISA 240 A44; Nigrini ch. 8 (last-digits)", 0.55,
           settings=("recurring_ending_modulus", "recurring_ending_cents_modulus", "recurring_ending_min_entries")),
    JETest("unusual_user", "Posted by a user who does not usually post, or may not",
           "Entries by individuals who typically do not make journal entries, or are not authorised to.",
           "AS 2401 .61(b); ISA 240 A44; CAQ practice aid (unauthorised posters)", 0.7,
           settings=("authorised_posters", "unusual_user_max_journals", "unusual_user_max_share"),
           needs=("entered_by",)),
    JETest("manual_to_sensitive_account", "Manual entry to a cash, revenue or equity account",
           "Accounts most exposed to management override are posted by interfaces; a person posting to them "
           "calls for a reason, weakly when the entry is a standard one the same person keys month after month.",
           "AS 2401 .62; ISA 240 A45; CAQ practice aid", 0.6,
           settings=("sensitive_accounts", "sensitive_account_types", "sensitive_name_patterns"),
           level="line"),
    JETest("weekend_posting", "Entered on a weekend (or, more weakly, dated on one)",
           "Entries keyed outside normal working days escape the usual review; a person's entry keyed on a "
           "working day but dated on a weekend counts half, and not at all on a month's first or last day "
           "(accruals, reversals); an interface's posting merely dated on one (a card payment) not at all. "
           "On a day off the entity's interfaces visibly work (a store's point of sale on Sundays) their "
           "postings trip nothing; on one its people visibly work, a person's entry counts weakly.",
           "ISA 240 A44; CAQ practice aid (unusual times)", 0.5,
           settings=("business_weekdays",), system_strength=0.3),
    JETest("holiday_posting", "Entered on a public holiday (or, more weakly, dated on one)",
           "Entries keyed on holidays escape the usual review; so do those keyed on a working day the ledger shows "
           "the office closed (a local holiday no calendar lists). On a holiday the client visibly works an entry "
           "counts weakly, and one merely dated on a holiday counts as for weekends. Users who post every day, "
           "days off included, do not make a holiday worked; an interface's posting on a holiday the interfaces "
           "work trips nothing.",
           "ISA 240 A44; CAQ practice aid (unusual times)", 0.5,
           settings=("holiday_calendar", "holidays"), system_strength=0.3),
    JETest("after_hours", "Keyed by a person outside business hours",
           "Manual entries keyed late at night or before dawn escape the usual review; in an hour next to "
           "business hours that the client's people visibly work, an entry counts weakly.",
           "ISA 240 A44; CAQ practice aid (unusual times)", 0.5,
           settings=("business_hours_start", "business_hours_end"), needs=("entry_time",), system_strength=0.0),
    JETest("period_end", "Large or undescribed manual entry at period end",
           "Entries at the end of a period, with unusual amounts or little explanation, are where results "
           "are managed; a standard accrual of its usual amount counts weakly.",
           "AS 2401 .61(c); ISA 240 A44; CAQ practice aid (period-end entries)", 0.55,
           settings=("period_end_business_days", "period_end_amount_quantile", "period_end_materiality_share"),
           system_strength=0.0),
    JETest("post_closing", "Entered after the closing date, effective within the year",
           "Post-closing entries change statements already closed.",
           "AS 2401 .61(c); ISA 240 A44; CAQ practice aid", 0.8,
           settings=("closing_date", "closing_days_after_year_end"), needs=("entry_date",)),
    JETest("backdated", "Entered long after its effective date",
           "Backdated entries move results into a period already reviewed.",
           "ISA 240 A44; CAQ practice aid (entries recorded in a period other than when keyed)", 0.65,
           settings=("backdated_min_days", "backdated_quantile"), needs=("entry_date",), system_strength=0.5),
    JETest("missing_description", "No description at all",
           "Entries with little or no explanation are a named fraud characteristic.",
           "AS 2401 .61(c); ISA 240 A44", 0.55, needs=("je_header_description|je_line_description",),
           system_strength=0.3),
    JETest("suspicious_keyword", "Description contains a suspicious keyword",
           "Words such as 'plug', 'per CFO' or 'override' describe entries forced through outside the process; "
           "words routine entries also use ('write off', 'correction') trip it weakly.",
           "CAQ practice aid (keyword searches); ISA 240 A44", 0.7, settings=("suspicious_keywords", "weak_keywords"),
           needs=("je_header_description|je_line_description",)),
    JETest("seldom_used_account", "Posting to a seldom-used account",
           "Entries to unrelated, unusual or seldom-used accounts are a named fraud characteristic.",
           "AS 2401 .61(a); ISA 240 A44", 0.6,
           settings=("seldom_used_accounts", "seldom_account_min_journals", "seldom_account_max_share",
                     "seldom_account_max_journals"),
           system_strength=0.3, level="line"),
    JETest("rare_account_pair", "Debit/credit account combination that (almost) no other entry uses",
           "Entries combining accounts that are otherwise never related are unusual by definition.",
           "AS 2401 .61(a) (unrelated accounts); ISA 240 A44", 0.6,
           settings=("rare_pair_min_journals", "rare_pair_max_share", "rare_pair_max_journals"),
           system_strength=0.5),
    JETest("below_approval_threshold", "Amount just below the poster's approval limit",
           "Amounts kept just under an authority limit avoid the second pair of eyes.",
           "CAQ practice aid (amounts just below authorisation limits); Nigrini ch. 9", 0.65,
           settings=("approval_limit", "approval_limits_by_user", "below_approval_share", "common_approval_limits"),
           needs=("entered_by",)),
    JETest("split_entry", "Several entries by one user on one day to the same accounts, together above the limit",
           "Splitting an entry keeps each part under the approval limit; of a split in k parts each is at least "
           "split_entry_min_share of the limit / (k - 1).",
           "CAQ practice aid (split transactions); Nigrini ch. 11", 0.7,
           settings=("approval_limit", "split_entry_min_share", "split_entry_min_entries"), needs=("entered_by",)),
    JETest("suspense_account", "Posting to a suspense or unallocated account",
           "Suspense accounts park differences nobody has explained.",
           "AS 2401 .61(a); CAQ practice aid", 0.6,
           settings=("suspense_accounts", "suspense_account_subtypes", "suspense_name_patterns"),
           system_strength=0.5, level="line"),
    JETest("benford_outlier", "In a subset (user, account, source) whose digits do not follow Benford's law",
           "Invented amounts do not follow the first-digit law that genuine transaction amounts do; "
           "amounts recurring month after month are set aside before a subset's lines are flagged.",
           "Nigrini (2012) ch. 5-7 and MAD conformity bands; AICPA Audit Data Analytics guide", 0.45,
           settings=("benford_by",), level="line"),
    JETest("ml_outlier", "Unusual for the entity by the unsupervised model",
           "Entries unlike the entity's other entries in amount, accounts, poster and timing together.",
           "ISA 240 A44 (entries unusual in nature); isolation forest (Liu, Ting and Zhou, 2008)", 0.55,
           settings=("ml_tail_share", "ml_trees", "ml_max_fit_entries", "ml_seed")),
)

TESTS: dict[str, JETest] = {t.id: t for t in CATALOGUE}
TEST_IDS: tuple[str, ...] = tuple(TESTS)


def catalogue_table() -> list[dict[str, object]]:
    """The catalogue as rows, for the notebook, the CLI and settings.json."""
    return [
        {"id": t.id, "title": t.title, "rationale": t.rationale, "source": t.source, "weight": t.weight,
         "system_strength": t.system_strength, "settings": list(t.settings), "needs": list(t.needs),
         "level": t.level}
        for t in CATALOGUE
    ]


__all__ = ["CATALOGUE", "TESTS", "TEST_IDS", "JETest", "catalogue_table"]
