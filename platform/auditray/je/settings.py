"""What the journal-entry tests need to know about the engagement, with defaults for a ledger never seen before.

Every test reads its thresholds from one ``JETestSettings``: materiality, approval limits, the fiscal
calendar, business hours, keywords, who may post, which accounts are sensitive. AS 2401 .61 and ISA 240
A43-A45 ask the auditor to tailor journal-entry tests to the entity; these settings are where that
judgement is written down, and ``settings.json`` of every run records them for re-performance.

Nothing here is required. When the engagement did not state a fact, the analysis derives it from the
population and says so in the population summary (``facts``): materiality from the ledger's revenue,
approval limits from the approvals the ledger records, the closing date from the fiscal year end, rarity
thresholds relative to the number of journals. Facts differ between entities (each legal entity has its own
materiality and team), so ``entities`` holds per-entity overrides of the engagement-wide values.

Load from a TOML, YAML or JSON file (``load_settings``), from an engagement of the store
(``settings_from_engagement``), or from the engagement facts file ``auditray generate`` writes
(``settings_from_engagement_facts``).
"""

from __future__ import annotations

import json
import tomllib
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Words and phrases that the AICPA/CAQ practice aid and ISA 240 A44 examples associate with entries that
# override controls or lack a business rationale: distinctive phrases, not everyday words ("temporary",
# "error"), which legitimate descriptions use all the time. Matched case-insensitively as substrings of
# header and line descriptions.
DEFAULT_SUSPICIOUS_KEYWORDS: tuple[str, ...] = (
    # German, French and Spanish counterparts of the commonest (ledgers are exported in the client's language).
    "auf anweisung", "ohne beleg", "ohne nachweis", "nicht stornieren", "sans justificatif", "sur instruction",
    "sin soporte", "por instrucción",
    "plug", "per cfo", "per ceo", "per controller", "per md", "adjust per", "as instructed", "reverse later",
    "do not reverse", "don't reverse", "override", "overridden", "manual fix", "fudge", "squeeze",
    "balancing figure", "top side", "top-side", "topside", "cookie jar", "off the books", "off-book", "kickback",
    "bribe", "facilitation payment", "conceal", "backdate", "back-date", "verbal approval", "approved verbally",
    "no support", "unsupported",
    # Earnings targets and hiding (each from the start of a word: "bury" is not in "Danbury").
    "hit forecast", "hit the forecast", "hit target", "hit the target", "hit budget", "hit the budget",
    "hit the number", "make the number", "meet guidance", "meet consensus", "window dressing", "smooth earnings",
    "earnings management", "bury", "buried",
)
# Words worth a look that routine entries also use (receivables written off, coding corrections): an entry
# whose description has only these trips the keyword test weakly (``rules.WEAK_KEYWORD_STRENGTH``). A word
# the engagement lists among its suspicious keywords counts in full.
DEFAULT_WEAK_KEYWORDS: tuple[str, ...] = ("write off", "write-off", "writeoff", "written off", "correction")

# Account names that mark a cash, revenue or equity account when no chart of accounts says so
# (AS 2401 .62: accounts susceptible to management override; ISA 240 A45).
DEFAULT_SENSITIVE_NAME_PATTERNS: tuple[str, ...] = (
    # "Sales" wherever it stands ("Merchandise Sales - Stores", "Wholesale Sales"), unless the name says it is
    # sales tax, a reserve or a cost of selling (the exclusions below).
    r"\brevenue", r"\bsales\b", r"\bturnover\b", r"^cash\b", r"\bcash (at|in) bank", r"\bpetty cash\b",
    r"^bank\b", r"\bbank account", r"\bchecking\b", r"\bsavings\b", r"\bmoney market\b", r"\bequity\b",
    r"retained earnings", r"share capital",
    r"(common|capital|preferred|treasury) stock", r"paid-in", r"\bapic\b", r"\bdividends? (declared|paid)",
    r"share premium",
    # Partnerships and LLCs (law, audit and consulting firms): the owners' capital and what they take out.
    r"\b(partners?|members?|owners?)'?s?'? (capital|equity|distributions?|drawings?)", r"\bdrawings\b",
    r"\bdistributions? to (partners|members|owners|shareholders)",
    # QuickBooks and Xero name income accounts "... Income" ("Landscape Installation Income").
    r"\bincome\b",
)
# Names that contain a sensitive word but are plainly something else (expenses, financing, cost of sales).
DEFAULT_SENSITIVE_NAME_EXCLUSIONS: tuple[str, ...] = (
    r"\bexp(ense)?s?\b", r"\bexp\.", r"charges?\b", r"\bfees?\b", r"\bcost", r"airfare", r"lodging",
    r"travel", r"meals", r"mileage", r"conference", r"commission", r"depr", r"amort", r"\bloan\b",
    r"credit facility", r"borrowing", r"\bdebt\b", r"interest", r"\bpayable\b", r"receivable", r"\ba/r\b",
    r"\ba/p\b", r"allowance for", r"overdraft",
    # Income that is not the revenue of operations, or not income at all.
    r"\bother income", r"income tax", r"\bnet income", r"comprehensive income", r"income summary",
    r"deferred income", r"unearned", r"accrued income", r"investment income", r"dividend income", r"\bgains?\b",
    r"\blosse?s?\b",
    # Sales that are not sales: taxes collected on them, reserves against their returns (a liability; a
    # reserve of equity stays sensitive), the people and promotion selling them.
    r"sales tax", r"\buse tax", r"returns? (reserve|provision|liability)",
    r"reserve for (sales )?returns", r"refund liabilit", r"salar", r"\bwages?\b", r"\bbonus", r"incentive",
    r"marketing", r"promotion", r"\bon sales\b",
    # "Sales" as the department an expense is kept for ("Payroll taxes - sales", "Travel (Sales)").
    r"[-\u2013(/,:]\s*sales\b",
)
DEFAULT_SUSPENSE_NAME_PATTERNS: tuple[str, ...] = (
    r"suspense", r"unidentified", r"unallocated", r"unapplied", r"unreconciled", r"to be cleared",
    r"to be allocated", r"pending allocation", r"\bwash\b", r"\bplug\b", r"\bdifferences? account",
    r"kl(ä|ae)rung", r"interimskonto", r"compte d'attente", r"cuenta (puente|transitoria)", r"tussenrekening",
    # QuickBooks' catch-alls.
    r"ask my accountant", r"uncategori[sz]ed",
)
DEFAULT_REVENUE_NAME_PATTERNS: tuple[str, ...] = (
    r"\brevenue", r"\bsales\b", r"\bturnover\b", r"\bincome\b")
# Balance-sheet accounts named after revenue: sensitive (a manual release of deferred revenue is a way to book
# revenue), but not revenue the materiality benchmark adds up.
DEFAULT_REVENUE_NAME_EXCLUSIONS: tuple[str, ...] = (
    r"\bdeferred\b", r"\bunearned\b", r"\bunbilled\b", r"\baccrued\b", r"contract (asset|liabilit)",
    r"(received|billed|collected) in advance", r"\badvances?\b")
# User names of interfaces and scheduled jobs: their entries are system-generated, not keyed by a person.
# Matched on the lower-cased name; a prefix may follow a Windows domain (``CORP\svc_billing``).
DEFAULT_SYSTEM_USER_PATTERNS: tuple[str, ...] = (
    r"batch", r"system", r"(^|\\)sys", r"interface", r"(^|\\)auto", r"automat", r"\bjob\b", r"sched",
    r"robot", r"\bbot\b", r"\bapi\b", r"integration", r"migration", r"(^|\\)svc", r"service",
    # Connectors of cloud tools (expense, payroll, bank feeds), often named after the tool: 'concur-sync',
    # 'adp.connector@...', 'bankfeed@...'.
    r"sync\b", r"connector", r"feed\b", r"(^|[.\-_@\\])etl($|[.\-_@])", r"no-?reply",
)
# Sources and document types of sub-ledgers and interfaces: standard entries posted through a module, not
# keyed into the general ledger by hand (used when the ledger has no Manual_Entry flag).
DEFAULT_SYSTEM_SOURCE_VALUES: tuple[str, ...] = (
    "ap", "ar", "accounts payable", "accounts receivable", "payables", "receivables", "pr", "payroll", "cr",
    "cash receipts", "cd", "cash disbursements", "fa", "fixed assets", "assets", "inv", "inventory", "billing",
    "sales", "so", "sales order", "po", "purchasing", "purchase order", "bank", "interface", "depreciation",
    "recurring", "allocation", "revaluation", "subledger", "sub-ledger",
    # Expense and time-and-billing tools posting through their own modules.
    "expense report", "expense reports", "expenses", "t&e", "timesheet", "timesheets", "time and billing",
    # QuickBooks and Xero transaction types: standard transactions entered through forms, not journal entries
    # (their only manual journal is the "Journal Entry" / "Manual Journal").
    "invoice", "bill", "payment", "bill payment", "bill payment (check)", "bill payment (credit card)",
    "receive payment", "sales receipt", "refund receipt", "credit memo", "vendor credit", "deposit", "transfer",
    "check", "expense", "credit card credit", "credit card expense", "payroll check", "paycheck",
    "payroll adjustment", "inventory qty adjust", "sales tax payment", "credit card payment", "statement charge",
    "spend money", "receive money", "accrec", "accpay",
    # NetSuite, Dynamics 365 Business Central and Sage Intacct transaction types: forms and processes of their
    # modules (their manual journal is the "Journal" / "General Journal").
    "vendor bill", "vendor payment", "vendor return authorization", "bill credit", "customer payment",
    "customer deposit", "customer refund", "cash sale", "cash refund", "return authorization", "item receipt",
    "item fulfillment", "revenue arrangement", "revenue commitment", "revenue recognition", "amortization",
    "amortisation", "currency revaluation", "purchase invoice", "purchase credit memo", "sales invoice",
    "sales credit memo", "ap bill", "ap payment", "ar invoice", "ar payment", "ar receipt",
    # SAP document types only programs post: payment run, billing, goods movements, depreciation. (Vendor and
    # customer invoices, KR and DR, are keyed by people as often as by interfaces: the user decides.)
    "zp", "rv", "wa", "we", "wl", "wi", "af",
)
# Sources and document types that mean "keyed by hand" when the ledger has no Manual_Entry flag.
DEFAULT_MANUAL_SOURCE_VALUES: tuple[str, ...] = ("manual", "mje", "gj", "je", "sa", "journal", "general journal",
                                                 "adjustment", "adj", "topside", "journal entry",
                                                 "journal entries", "general journal entry", "manual journal")
# Authority limits firms commonly set (1-2-2.5-5 steps), used only when the ledger records no approvals
# from which each poster's limit can be read and the engagement states none.
DEFAULT_COMMON_APPROVAL_LIMITS: tuple[str, ...] = (
    "1000.00", "2500.00", "5000.00", "10000.00", "25000.00", "50000.00", "100000.00", "250000.00", "500000.00",
    "1000000.00",
)


class EntityOverrides(BaseModel):
    """Facts of one legal entity that differ from the engagement-wide values."""

    model_config = ConfigDict(extra="forbid")

    materiality: Decimal | None = Field(default=None, ge=0)
    performance_materiality: Decimal | None = Field(default=None, ge=0)
    high_value_threshold: Decimal | None = Field(default=None, gt=0)
    approval_limit: Decimal | None = Field(default=None, gt=0)
    approval_limits_by_user: dict[str, Decimal] = Field(default_factory=dict)
    authorised_posters: list[str] | None = None
    suspense_accounts: list[str] | None = None
    sensitive_accounts: list[str] | None = None
    seldom_used_accounts: list[str] | None = None
    fiscal_year_end: date | None = None
    closing_date: date | None = None
    period_end_dates: list[date] | None = None

    @field_validator("materiality", "performance_materiality", "high_value_threshold", "approval_limit",
                     mode="before")
    @classmethod
    def _no_float_money(cls, value: Any) -> Any:
        return _money(value)

    @field_validator("approval_limits_by_user", mode="before")
    @classmethod
    def _no_float_limits(cls, value: Any) -> Any:
        return {str(k): _money(v) for k, v in (value or {}).items()}

    @field_validator("suspense_accounts", "sensitive_accounts", "seldom_used_accounts", "authorised_posters",
                     mode="before")
    @classmethod
    def _as_strings(cls, value: Any) -> Any:
        return None if value is None else [str(v) for v in value]


def _money(value: Any) -> Any:
    if isinstance(value, float):
        # Floats carry binary rounding into thresholds an auditor relies on; write amounts as strings.
        raise ValueError(  # noqa: TRY004 - pydantic reports only ValueError as a validation error
            f"amounts must be strings or integers, not floats ({value!r}); write \"{value:.2f}\"")
    return value


class JETestSettings(EntityOverrides):
    """Thresholds and facts for the journal-entry test battery; every field has a default.

    Engagement-wide values sit at the top level; ``entities`` overrides them for one entity. Shares
    (``*_share``) are fractions of the entity's journals, so rarity scales with the population.
    """

    # --- Scoring (catalogue ids) ---
    weights: dict[str, float] = Field(default_factory=dict, description="Per-test weight overrides in [0, 1].")
    disabled_tests: list[str] = Field(default_factory=list)
    medium_risk_from: float = Field(default=0.35, ge=0, le=1)
    high_risk_from: float = Field(default=0.65, ge=0, le=1)
    common_test_share: float = Field(
        default=0.02, ge=0, lt=1,
        description="A test tripped by more than this share of an entity's entries weighs sqrt(share / its "
                    "share) of its weight in the risk score: a sign most entries show is a poor warning sign. "
                    "0 turns the adjustment off.")
    record_bands: list[Literal["low", "medium", "high"]] = Field(default_factory=lambda: ["medium", "high"])

    # --- Materiality (ISA 320 / AU-C 320 benchmarks when the engagement gives none) ---
    materiality_revenue_share: Decimal = Field(default=Decimal("0.01"), gt=0, le=1)
    performance_materiality_share: Decimal = Field(default=Decimal("0.75"), gt=0, le=1)
    high_value_fallback_quantile: float = Field(default=0.995, gt=0.5, lt=1)

    # --- Approvals ---
    common_approval_limits: list[Decimal] = Field(
        default_factory=lambda: [Decimal(v) for v in DEFAULT_COMMON_APPROVAL_LIMITS])
    below_approval_share: float = Field(default=0.95, gt=0, lt=1)
    # Each part of a split in k parts is at least this share of the limit / (k - 1) (0.5: two parts of half the
    # limit each, three of a quarter).
    split_entry_min_share: float = Field(default=0.5, gt=0, lt=1)
    split_entry_min_entries: int = Field(default=2, ge=2)

    # --- Calendar ---
    closing_days_after_year_end: int = Field(default=30, ge=0, le=366)
    period_end_business_days: int = Field(default=2, ge=1, le=10)
    period_end_amount_quantile: float = Field(default=0.99, gt=0.5, lt=1)
    period_end_materiality_share: Decimal = Field(default=Decimal("0.25"), gt=0, le=1)
    holiday_calendar: Literal["us_federal", "none"] = "us_federal"
    holidays: list[date] | None = None
    business_hours_start: time = time(7, 0)
    business_hours_end: time = time(19, 0)
    business_weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5],
                                         description="ISO weekdays (Monday = 1) that are working days.")
    backdated_min_days: int = Field(default=30, ge=1)
    backdated_quantile: float = Field(default=0.995, gt=0.5, lt=1)

    # --- Descriptions ---
    suspicious_keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_SUSPICIOUS_KEYWORDS))
    weak_keywords: list[str] = Field(default_factory=lambda: list(DEFAULT_WEAK_KEYWORDS))

    # --- Accounts ---
    sensitive_account_types: list[str] = Field(default_factory=lambda: ["revenue", "equity"])
    sensitive_account_subtypes: list[str] = Field(default_factory=lambda: ["cash", "revenue", "equity"])
    suspense_account_subtypes: list[str] = Field(default_factory=lambda: ["suspense"])
    revenue_account_types: list[str] = Field(default_factory=lambda: ["revenue"])
    revenue_account_subtypes: list[str] = Field(default_factory=lambda: ["revenue"])
    sensitive_name_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_SENSITIVE_NAME_PATTERNS))
    sensitive_name_exclusions: list[str] = Field(default_factory=lambda: list(DEFAULT_SENSITIVE_NAME_EXCLUSIONS))
    suspense_name_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_SUSPENSE_NAME_PATTERNS))
    revenue_name_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_REVENUE_NAME_PATTERNS))
    revenue_name_exclusions: list[str] = Field(default_factory=lambda: list(DEFAULT_REVENUE_NAME_EXCLUSIONS))
    # Leading digits of account numbers, the last resort when neither a chart nor account names exist
    # (the common US numbering: 1 assets, 2 liabilities, 3 equity, 4 revenue).
    revenue_number_prefixes: list[str] = Field(default_factory=lambda: ["4"])
    sensitive_number_prefixes: list[str] = Field(default_factory=lambda: ["3", "4"])

    # --- Rarity, relative to the entity's journals (AS 2401 .61a-b) ---
    seldom_account_min_journals: int = Field(default=2, ge=1)
    seldom_account_max_share: float = Field(default=0.0005, gt=0, lt=1)
    seldom_account_max_journals: int = Field(default=20, ge=1)
    rare_pair_min_journals: int = Field(default=1, ge=1)
    rare_pair_max_share: float = Field(default=0.0001, gt=0, lt=1)
    # Pairs do not get rarer as a ledger grows the way users and accounts do (every new manual journal can
    # combine two accounts anew), so by default only a unique combination counts as rare.
    rare_pair_max_journals: int = Field(default=1, ge=1)
    # A unique pair of accounts whose groups are often combined (two travel accounts reclassified) is weak
    # evidence; one whose groups are themselves rarely combined is the "unrelated accounts" of AS 2401
    # .61(a). An account's group is the first ``account_group_digits`` digits of its number (0: no groups).
    account_group_digits: int = Field(default=2, ge=0, le=10)
    rare_group_pair_min_journals: int = Field(default=3, ge=1)
    rare_group_pair_max_share: float = Field(default=0.0002, gt=0, lt=1)
    unusual_user_max_journals: int = Field(default=5, ge=1)
    unusual_user_max_share: float = Field(default=0.0005, gt=0, lt=1)

    # --- Amounts (Nigrini; CAQ practice aid) ---
    round_amount_unit: Decimal = Field(default=Decimal("1000.00"), gt=0)
    # Whole amounts end in their digits below recurring_ending_modulus (999.00 in 4,999.00); amounts with cents
    # in their digits below recurring_ending_cents_modulus and their cents (12.75 in 3,612.75).
    recurring_ending_modulus: Decimal = Field(default=Decimal("1000.00"), gt=0)
    recurring_ending_cents_modulus: Decimal = Field(default=Decimal("100.00"), gt=0)
    recurring_ending_min_entries: int = Field(default=3, ge=2)
    duplicate_same_effective_date: bool = True
    # Standard entries (AS 2401 .58, ISA 240 A42): one user's entries from one source to one main debit and
    # credit account in at least this many different months, in steady amounts (the middle half of the months' largest amounts
    # within a factor ``standard_entry_max_spread``), no larger than ``standard_entry_amount_tolerance`` times
    # the pattern's largest amount in any other month, and no smaller than the middle half's lower end divided
    # by ``standard_entry_max_spread``. Their large amount, sensitive account and period-end
    # date are expected of them and count weakly; 0 months turns the recognition off.
    standard_entry_min_months: int = Field(default=6, ge=0)
    standard_entry_max_spread: float = Field(default=2.0, ge=1)
    standard_entry_amount_tolerance: float = Field(default=1.25, ge=1)
    sequence_gap_max_missing: int = Field(default=100, ge=1)

    # --- People and systems ---
    system_user_patterns: list[str] = Field(default_factory=lambda: list(DEFAULT_SYSTEM_USER_PATTERNS))
    manual_source_values: list[str] = Field(default_factory=lambda: list(DEFAULT_MANUAL_SOURCE_VALUES))
    system_source_values: list[str] = Field(default_factory=lambda: list(DEFAULT_SYSTEM_SOURCE_VALUES))

    # --- Digits (the benford_outlier test) ---
    benford_by: list[list[str]] | None = Field(
        default=None, description="Subsets tested, e.g. [[\"entity_id\", \"entered_by\"]]; default: per user, "
                                  "per account and per user and account (auditray.je.digits).")

    benford_manual_only: bool = Field(default=True, description="Digit tests on manual entries only, when the "
                                                                "ledger marks them (Nigrini; AS 2401 .61(b)).")

    # --- Unsupervised model (ml_outlier) ---
    ml_enabled: bool = True
    ml_seed: int = 0
    ml_trees: int = Field(default=100, ge=10, le=1000)
    ml_max_fit_entries: int = Field(default=100_000, ge=1_000)
    ml_tail_share: float = Field(default=0.005, gt=0, lt=0.5)

    entities: dict[str, EntityOverrides] = Field(default_factory=dict)

    @field_validator("materiality_revenue_share", "performance_materiality_share", "period_end_materiality_share",
                     "round_amount_unit", "recurring_ending_modulus", "recurring_ending_cents_modulus",
                     mode="before")
    @classmethod
    def _no_float_shares(cls, value: Any) -> Any:
        return Decimal(str(value)) if isinstance(value, float) else value

    @field_validator("common_approval_limits", mode="before")
    @classmethod
    def _no_float_list(cls, value: Any) -> Any:
        return [_money(v) for v in value]

    @field_validator("standard_entry_min_months")
    @classmethod
    def _recurring(cls, value: int) -> int:
        if value == 1:
            raise ValueError("an entry keyed in one month does not recur: use 2 or more, or 0 to turn standard "
                             "entries off")
        return value

    @field_validator("business_weekdays")
    @classmethod
    def _iso_weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= d <= 7 for d in value):
            raise ValueError("business_weekdays are ISO weekday numbers 1 (Monday) to 7 (Sunday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _consistent(self) -> JETestSettings:
        from auditray.je.catalogue import TEST_IDS

        unknown = (set(self.weights) | set(self.disabled_tests)) - set(TEST_IDS)
        if unknown:
            raise ValueError(f"unknown test ids {sorted(unknown)}; the catalogue has {', '.join(TEST_IDS)}")
        bad = {k: w for k, w in self.weights.items() if not 0 <= w <= 1}
        if bad:
            raise ValueError(f"weights must lie in [0, 1]: {bad}")
        if self.medium_risk_from >= self.high_risk_from:
            raise ValueError("medium_risk_from must be below high_risk_from")
        if self.business_hours_start >= self.business_hours_end:
            raise ValueError("business_hours_start must be before business_hours_end")
        if self.performance_materiality is not None and self.materiality is not None \
                and self.performance_materiality > self.materiality:
            raise ValueError("performance_materiality exceeds materiality")
        if self.recurring_ending_modulus % self.recurring_ending_cents_modulus:
            raise ValueError("recurring_ending_modulus must be a multiple of recurring_ending_cents_modulus (an "
                             "amount's whole-amount ending then decides its ending with cents)")
        return self

    def for_entity(self, entity_id: str) -> EntityOverrides:
        """The engagement-wide facts with this entity's overrides applied."""
        base = {name: getattr(self, name) for name in EntityOverrides.model_fields}
        override = self.entities.get(entity_id)
        if override is not None:
            base.update(override.model_dump(exclude_unset=True))
        return EntityOverrides.model_validate(base)

    def effective(self) -> dict[str, Any]:
        """Every setting as JSON-ready values (Decimals and dates as strings), for settings.json."""
        return json.loads(self.model_dump_json())


class SettingsError(ValueError):
    """A settings file that cannot be read or does not validate; the message names the file and field."""


def load_settings(path: str | Path) -> JETestSettings:
    """Settings from a ``.toml``, ``.yaml``/``.yml`` or ``.json`` file (top level, or a ``[je]`` table).

    A JSON file in the shape ``auditray generate`` writes as ``engagement.json`` is read as engagement
    facts (``settings_from_engagement_facts``).
    """
    file = Path(path)
    if not file.is_file():
        raise SettingsError(f"{file}: settings file not found")
    text = file.read_text(encoding="utf-8")
    try:
        if file.suffix == ".toml":
            data = tomllib.loads(text)
        elif file.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        elif file.suffix == ".json":
            data = json.loads(text)
        else:
            raise SettingsError(f"{file.name}: settings files end in .toml, .yaml, .yml or .json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"{file.name}: {exc}") from None
    except Exception as exc:  # yaml.YAMLError without importing yaml at module level
        if type(exc).__module__.startswith("yaml"):
            raise SettingsError(f"{file.name}: {exc}") from None
        raise
    if not isinstance(data, dict):
        raise SettingsError(f"{file.name}: expected a table of settings at the top level")
    if isinstance(data.get("entities"), list) and "fiscal_period_end" in data:
        return settings_from_engagement_facts(data)
    data = data.get("je", data)
    try:
        return JETestSettings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(f"{file.name}: {_describe(exc)}") from None


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def settings_from_engagement(engagement: Any, base: JETestSettings | None = None) -> JETestSettings:
    """Fill materiality and the fiscal year end from an engagement of the store, unless already set."""
    base = base or JETestSettings()
    updates: dict[str, Any] = {}
    if base.materiality is None and getattr(engagement, "materiality", None) is not None:
        updates["materiality"] = engagement.materiality
    if base.performance_materiality is None and getattr(engagement, "performance_materiality", None) is not None:
        updates["performance_materiality"] = engagement.performance_materiality
    if base.fiscal_year_end is None and getattr(engagement, "period_end", None) is not None:
        updates["fiscal_year_end"] = engagement.period_end
    return base.model_copy(update=updates)


def settings_from_engagement_facts(facts: dict[str, Any], base: JETestSettings | None = None) -> JETestSettings:
    """Settings from an engagement facts file: per-entity materiality, approval limit, posters, accounts.

    The file ``auditray generate`` writes (``engagement.json``) is one such file; a firm's planning
    system can export the same shape. Facts the file does not state keep their defaults.
    """
    data = (base or JETestSettings()).model_dump(exclude_unset=True)
    if facts.get("closing_date"):
        data["closing_date"] = facts["closing_date"]
    if facts.get("fiscal_period_end"):
        data["fiscal_year_end"] = facts["fiscal_period_end"]
    if facts.get("suspicious_keywords"):
        data["suspicious_keywords"] = sorted(set(DEFAULT_SUSPICIOUS_KEYWORDS) | set(facts["suspicious_keywords"]))
    if facts.get("holidays"):
        data["holidays"] = [h["date"] if isinstance(h, dict) else h for h in facts["holidays"]]
    hours = facts.get("business_hours") or {}
    if hours.get("start") and hours.get("end"):
        data["business_hours_start"], data["business_hours_end"] = hours["start"], hours["end"]
    entities: dict[str, Any] = {}
    for entity in facts.get("entities", []):
        overrides: dict[str, Any] = {}
        for key, target in (("materiality", "materiality"), ("performance_materiality", "performance_materiality"),
                            ("high_value_threshold", "high_value_threshold"), ("approval_limit", "approval_limit"),
                            ("authorised_posters", "authorised_posters"), ("suspense_accounts", "suspense_accounts"),
                            ("sensitive_accounts", "sensitive_accounts"),
                            ("seldom_used_accounts", "seldom_used_accounts")):
            if entity.get(key) is not None:
                overrides[target] = entity[key]
        entities[str(entity["entity_id"])] = overrides
    data["entities"] = entities
    return JETestSettings.model_validate(data)


__all__ = [
    "DEFAULT_SUSPICIOUS_KEYWORDS",
    "DEFAULT_SYSTEM_SOURCE_VALUES",
    "DEFAULT_WEAK_KEYWORDS",
    "EntityOverrides",
    "JETestSettings",
    "SettingsError",
    "load_settings",
    "settings_from_engagement",
    "settings_from_engagement_facts",
]
