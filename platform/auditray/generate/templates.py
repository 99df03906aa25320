"""Journal templates: the kinds of entries a mid-sized manufacturer's ledger is made of.

A template says which sub-ledger or person posts the entry, which accounts it hits, how many
lines it has, how large it tends to be and when in the month it happens. Amounts of the
automated flows are calibrated to a budget (revenue, cost of sales, operating expenses as shares
of revenue) so that receivables, payables, inventory and cash roll forward plausibly and the
trial balance looks like a real company's.
"""

from __future__ import annotations

from dataclasses import dataclass

# Time windows in seconds after midnight.
HOUR = 3600
BUSINESS_HOURS = (8 * HOUR, 18 * HOUR)


@dataclass(frozen=True)
class Template:
    """An entry type posted in volume: one line on the ``single`` side against several on the other.

    ``single_side`` is "D" or "C": the side holding the one control-account line (the payable of an
    AP invoice, the receivable of a sales invoice). The other side gets 1..len(``lines``) lines drawn
    from ``multi_roles``; ``lines`` are their probabilities. ``budget`` is the template's annual
    total as a share of revenue (automated flows) or None when ``median`` is absolute (manual work).
    """

    code: str
    source: str
    document_type: str
    manual: bool
    single_roles: tuple[str, ...]
    single_side: str
    multi_roles: tuple[str, ...]
    lines: tuple[float, ...]
    sigma: float
    line_share: float
    header: str
    user: str | None = None
    window: tuple[int, int] = BUSINESS_HOURS
    budget: float | None = None
    median: float | None = None
    timing: str = "any"  # any | month_end
    party: str | None = None  # vendor | customer
    vat: str | None = None  # output | input
    reference: bool = False
    distinct: bool = False  # single and multi accounts must differ (reclassifications)
    reversed_next_period: bool = False
    seniors: bool = False  # mostly posted by senior accountants
    # Settlement of a balance: (role, share of the balance at the start of the period settled in it).
    # Receipts, payments and invoice matching follow the balances, so they neither pile up nor run dry.
    settles: tuple[str, float] | None = None


VOLUME_TEMPLATES: tuple[Template, ...] = (
    # Order to cash
    Template("ar_invoice", "AR", "DR", False, ("ar_trade",), "D", ("revenue",), (0.45, 0.3, 0.15, 0.1), 1.5,
             0.15, "Customer invoice ", user="BATCH_AR", window=(22 * HOUR, 23 * HOUR + 1800), budget=1.0,
             party="customer", vat="output", reference=True),
    Template("ar_credit_memo", "AR", "DG", False, ("ar_trade",), "C", ("sales_returns",), (0.8, 0.2), 1.2,
             0.01, "Credit memo ", user="BATCH_AR", window=(22 * HOUR, 23 * HOUR + 1800), budget=0.02,
             party="customer", vat="output", reference=True),
    Template("cash_receipt", "CASH", "DZ", False, ("cash_collections",), "D", ("ar_trade",),
             (0.6, 0.25, 0.1, 0.05), 1.4, 0.09, "Customer payment ", user="BATCH_CASH",
             window=(6 * HOUR, 7 * HOUR + 1800), budget=None, party="customer", reference=True,
             settles=("ar_trade", 0.6)),
    Template("other_receipt", "CASH", "DZ", False, ("cash_collections",), "D", ("other_receivables",), (1.0,), 1.1,
             0.004, "Receipt ", user="BATCH_CASH", window=(6 * HOUR, 7 * HOUR + 1800), median=2500.0,
             reference=True, settles=("other_receivables", 0.4)),
    # Purchase to pay
    Template("ap_invoice_services", "AP", "KR", False, ("ap_trade",), "C",
             ("opex_professional", "opex_marketing", "opex_it", "opex_temp", "opex_training"),
             (0.6, 0.25, 0.1, 0.05), 1.3, 0.11, "Vendor invoice ", user="BATCH_AP", budget=0.07,
             party="vendor", vat="input", reference=True),
    Template("ap_invoice_small", "AP", "KR", False, ("ap_trade",), "C", ("opex_office", "opex_freight"),
             (0.7, 0.2, 0.1), 1.2, 0.07, "Vendor invoice ", user="BATCH_AP", budget=0.012, party="vendor",
             vat="input", reference=True),
    Template("ap_invoice_facilities", "AP", "KR", False, ("ap_trade",), "C", ("opex_facilities", "misc_expense"),
             (0.8, 0.2), 1.2, 0.03, "Vendor invoice ", user="BATCH_AP", budget=0.02, party="vendor",
             vat="input", reference=True),
    Template("ap_invoice_cogs", "AP", "KR", False, ("ap_trade",), "C", ("cogs_purchases", "cogs_overhead"),
             (0.7, 0.3), 1.3, 0.05, "Vendor invoice ", user="BATCH_AP", budget=0.05, party="vendor",
             vat="input", reference=True),
    Template("ap_invoice_inventory", "AP", "KR", False, ("ap_trade",), "C", ("grir",), (1.0,), 1.2, 0.05,
             "Vendor invoice ", user="BATCH_AP", budget=None, party="vendor", vat="input", reference=True,
             settles=("grir", 0.9)),
    Template("expense_claims", "AP", "KR", False, ("ap_other",), "C", ("opex_travel",), (0.5, 0.3, 0.15, 0.05),
             1.1, 0.04, "Expense claim ", user="BATCH_AP", budget=0.012, reference=True),
    Template("ap_invoice_prepaid", "AP", "KR", False, ("ap_trade",), "C", ("prepaid",), (1.0,), 1.0, 0.005,
             "Vendor invoice ", user="BATCH_AP", budget=None, party="vendor", vat="input", reference=True),
    Template("vendor_payment", "CASH", "KZ", False, ("cash_operating",), "C", ("ap_trade",),
             (0.55, 0.25, 0.1, 0.06, 0.04), 1.4, 0.09, "Payment run ", user="BATCH_CASH",
             window=(14 * HOUR, 15 * HOUR), budget=None, party="vendor", reference=True,
             settles=("ap_trade", 0.9)),
    Template("expense_reimbursement", "CASH", "KZ", False, ("cash_operating",), "C", ("ap_other",),
             (0.7, 0.2, 0.1), 1.1, 0.015, "Expense reimbursement ", user="BATCH_CASH",
             window=(14 * HOUR, 15 * HOUR), budget=None, reference=True, settles=("ap_other", 0.9)),
    Template("bank_fees", "CASH", "SA", False, ("cash_operating",), "C", ("bank_fees",), (1.0,), 0.9, 0.005,
             "Bank charges ", user="BATCH_CASH", window=(6 * HOUR, 7 * HOUR + 1800), median=35.0,
             reference=True),
    # Inventory
    Template("goods_receipt", "INV", "WE", False, ("grir",), "C", ("inventory",), (0.6, 0.3, 0.1), 1.2, 0.09,
             "Goods receipt ", user="BATCH_INV", window=(20 * HOUR, 21 * HOUR), budget=0.50, party="vendor",
             reference=True),
    Template("goods_issue", "INV", "WA", False, ("inventory_issue",), "C", ("cogs_goods",), (0.5, 0.3, 0.2),
             1.3, 0.10, "Goods issue for delivery ", user="BATCH_INV", window=(20 * HOUR, 21 * HOUR),
             budget=0.50, reference=True),
    # Manual work of the accounting team
    Template("accrual", "ACCRUAL", "SA", True, ("accrued",), "C",
             ("opex_facilities", "opex_professional", "opex_it", "opex_marketing", "bonus"),
             (0.6, 0.3, 0.1), 1.2, 0.035, "Month-end accrual", median=3200.0, timing="month_end",
             reversed_next_period=True, seniors=True),
    Template("reclass", "RECLASS", "AB", True, ("opex_travel", "opex_it", "opex_office", "opex_marketing"),
             "C", ("opex_travel", "opex_it", "opex_office", "opex_marketing"), (0.7, 0.2, 0.1), 1.3, 0.025,
             "Reclassification", median=1500.0, distinct=True),
    Template("prepaid_release", "GL", "SA", True, ("prepaid",), "C",
             ("insurance_expense", "opex_it", "opex_marketing", "opex_facilities"), (0.6, 0.3, 0.1), 1.1,
             0.01, "Release of prepaid expenses", median=2000.0, timing="month_end"),
    Template("bad_debt_provision", "CLOSE", "SA", True, ("allowance",), "C", ("bad_debt",), (1.0,), 1.0, 0.0015,
             "Provision for doubtful receivables", median=2000.0, timing="month_end", seniors=True),
    Template("obsolescence_provision", "CLOSE", "SA", True, ("inventory_reserve",), "C", ("obsolescence",),
             (1.0,), 1.0, 0.0015, "Inventory obsolescence provision", median=2000.0, timing="month_end",
             seniors=True),
    Template("warranty_provision", "CLOSE", "SA", True, ("warranty_provision",), "C", ("warranty_cost",),
             (1.0,), 1.0, 0.0015, "Warranty provision", median=2000.0, timing="month_end", seniors=True),
    Template("fx_revaluation", "CLOSE", "SA", True, ("ar_trade",), "C", ("fx_loss",), (1.0,), 1.3, 0.004,
             "Revaluation of foreign-currency receivables", median=1200.0, timing="month_end"),
    Template("other_receivable", "GL", "SA", True, ("other_income",), "C", ("other_receivables",), (1.0,), 1.3,
             0.006, "Recharge to third party", median=2500.0),
    Template("expense_allocation", "GL", "SA", True, ("misc_expense",), "C",
             ("opex_office", "opex_facilities", "opex_it"), (0.4, 0.3, 0.2, 0.1), 1.2, 0.012,
             "Allocation of shared costs", median=2200.0, timing="month_end"),
)

# Header phrases per manual template, so that descriptions read like a team wrote them.
MANUAL_PHRASES: dict[str, tuple[str, ...]] = {
    "accrual": ("Accrual for utilities", "Accrual for consulting services", "Accrual for legal services",
                "Accrued marketing costs", "Accrual for IT services", "Bonus accrual",
                "Accrual for goods received", "Accrual for audit fees", "Month-end accrual"),
    "reclass": ("Reclassification between cost centres", "Reclass of travel costs", "Reclass to correct cost centre",
                "Reclassification of software costs", "Reclass of marketing spend", "Cost centre transfer"),
    "prepaid_release": ("Release of prepaid insurance", "Amortisation of prepaid software",
                        "Release of prepaid marketing", "Prepaid expenses release"),
    "bad_debt_provision": ("Provision for doubtful receivables", "Allowance for expected credit losses"),
    "obsolescence_provision": ("Inventory obsolescence provision", "Provision for slow-moving stock"),
    "warranty_provision": ("Warranty provision", "Provision for warranty claims"),
    "fx_revaluation": ("Revaluation of foreign-currency receivables", "Month-end FX revaluation"),
    "other_receivable": ("Recharge to third party", "Insurance claim receivable", "Recharge of shared costs",
                         "Rebate receivable from supplier"),
    "expense_allocation": ("Allocation of shared costs", "Cost allocation to departments",
                           "Allocation of facility costs"),
}

# Header wording that names the account worked on, per manual template ({name}: the account name).
ACCOUNT_PHRASES: dict[str, tuple[str, ...]] = {
    "accrual": ("Accrual for {name}", "Month-end accrual - {name}", "Accrued {name}"),
    "reclass": ("Reclassification of {name}", "Reclass to {name}", "Cost centre transfer - {name}"),
    "prepaid_release": ("Release of prepaid {name}", "Prepaid expense release - {name}"),
    "expense_allocation": ("Allocation of shared costs to {name}", "Cost allocation - {name}"),
}

# Words and phrases that make an auditor look twice (ISA 240 A44, AS 2401 .61); the baseline never uses them.
SUSPICIOUS_KEYWORDS = ("plug", "adjust per cfo", "reverse later", "write off", "write-off", "correction",
                       "override", "per ceo", "do not reverse", "manual fix")

_VENDOR_STEMS = ("Acme", "Northwind", "Contoso", "Globex", "Initech", "Vandelay", "Hooli", "Cyberdyne", "Tyrell",
                 "Wonka", "Gringotts", "Soylent", "Oscorp", "Stark", "Wayne", "Umbrella", "Aperture", "Massive",
                 "Monarch", "Pied Piper", "Dunder", "Sterling", "Bluth", "Kramerica", "Prestige", "Nakatomi",
                 "Gekko", "Duff", "Wernham", "Cogswell", "Spacely", "Zorg", "Hanso", "Virtucon", "Ollivander",
                 "Blue Sun", "Rekall", "Yoyodyne", "Sirius", "Bishop", "Halcyon", "Meridian", "Summit", "Keystone",
                 "Harbor", "Pinnacle", "Evergreen", "Redwood", "Granite", "Silverline")
_VENDOR_TRADES = ("Industrial Supply", "Logistics", "Consulting", "Software", "Facility Services", "Electric",
                  "Components", "Office Products", "Marketing Group", "Legal Partners", "IT Services",
                  "Freight", "Metals", "Packaging", "Staffing", "Media", "Energy", "Engineering")
_CUSTOMER_TRADES = ("Manufacturing", "Automotive", "Aerospace", "Machinery", "Holdings", "Utilities",
                    "Construction", "Mining", "Rail", "Marine", "Robotics", "Energy Systems")
_LEGAL_FORMS = {"US": ("Inc.", "LLC", "Corp."), "CA": ("Inc.", "Ltd."), "GB": ("Ltd", "plc"), "IE": ("Ltd", "DAC"),
                "AU": ("Pty Ltd",), "DE": ("GmbH", "AG", "GmbH & Co. KG"), "FR": ("SAS", "SA", "SARL"),
                "NL": ("B.V.", "N.V."), "MX": ("S.A. de C.V.",), "SG": ("Pte. Ltd.",)}


def party_names(country: str, kind: str, count: int, rng) -> list[str]:
    """Vendor or customer names in the style of the entity's country."""
    trades = _VENDOR_TRADES if kind == "vendor" else _CUSTOMER_TRADES
    forms = _LEGAL_FORMS.get(country, ("Inc.",))
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = (f"{_VENDOR_STEMS[rng.integers(len(_VENDOR_STEMS))]} {trades[rng.integers(len(trades))]} "
                f"{forms[rng.integers(len(forms))]}")
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names
