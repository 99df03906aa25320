"""A group chart of accounts, localised per entity.

Numbering follows the common US layout (1000s assets, 2000s liabilities, 3000s equity, 4000s
revenue, 5000s cost of sales, 6000-7000s operating expenses, 8000s other income and expense,
9000s tax). Every entity shares the numbers, as group charts do, but drops some optional
accounts and names the rest in its own house style, because no two clients spell "Trade
debtors" the same way and ingestion must cope with that.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from auditray.contract import CHART_OF_ACCOUNTS
from auditray.generate.entities import EntityProfile

DEPARTMENTS = ("Sales", "Marketing", "Research and development", "General and administrative",
               "Operations", "Information technology")
PRODUCT_LINES = ("Industrial components", "Spare parts", "Field services", "Software licences",
                 "Maintenance contracts")
# Asset classes: (key, asset account, accumulated depreciation, depreciation expense, name).
ASSET_CLASSES = (
    ("buildings", "1510", "1610", "7010", "Buildings"),
    ("leasehold", "1520", "1620", "7020", "Leasehold improvements"),
    ("machinery", "1530", "1630", "7030", "Machinery and equipment"),
    ("vehicles", "1540", "1640", "7040", "Vehicles"),
    ("furniture", "1550", "1650", "7050", "Furniture and fixtures"),
    ("computers", "1560", "1660", "7060", "Computer equipment"),
    ("software", "1570", "1670", "7070", "Capitalised software"),
)
# Journal-entry tests treat postings to these subtypes as sensitive (revenue recognition, cash,
# equity: the presumed fraud risks of AS 2401 .41 and ISA 240 .26).
SENSITIVE_SUBTYPES = ("cash", "revenue", "equity")


@dataclass(frozen=True)
class AccountSpec:
    number: str
    name: str
    account_type: str
    subtype: str
    fs_caption: str
    roles: tuple[str, ...] = ()
    normal_balance: str = ""
    # Seldom-used accounts exist in the chart but the baseline ledger never posts to them.
    seldom: bool = False
    optional: bool = False
    active: bool = True
    parent: str | None = None
    department: int = -1

    @property
    def sensitive(self) -> bool:
        return self.subtype in SENSITIVE_SUBTYPES


def _a(number: str, name: str, type_: str, subtype: str, caption: str, *roles: str, **flags) -> AccountSpec:
    normal = flags.pop("normal", "debit" if type_ in ("asset", "expense") else "credit")
    return AccountSpec(number, name, type_, subtype, caption, tuple(roles), normal, **flags)


def _catalogue(profile: EntityProfile, others: list[str]) -> list[AccountSpec]:
    bank_a, bank_b, bank_c = profile.banks
    cash, rec, inv, pre = ("Cash and cash equivalents", "Trade and other receivables", "Inventories",
                           "Prepaid expenses and other current assets")
    ppe, oth = "Property, plant and equipment", "Other non-current assets"
    pay, accr, tax = "Trade and other payables", "Accrued liabilities and provisions", "Income and other taxes"
    debt, eq = "Borrowings", "Equity"
    accounts = [
        _a("1000", f"Cash - {bank_a} operating", "asset", "cash", cash, "cash_operating"),
        _a("1010", f"Cash - {bank_b} collections", "asset", "cash", cash, "cash_collections"),
        _a("1020", f"Cash - {bank_a} payroll", "asset", "cash", cash, "cash_payroll"),
        _a("1030", f"Cash - {bank_c} deposit account", "asset", "cash", cash, optional=True),
        _a("1035", f"Cash - {bank_c} old operating account (closed)", "asset", "cash", cash, active=False),
        _a("1040", "Petty cash", "asset", "cash", cash, seldom=True),
        _a("1100", "Accounts receivable - trade", "asset", "receivables", rec, "ar_trade"),
        _a("1105", "Accounts receivable - export customers", "asset", "receivables", rec, "ar_trade"),
        _a("1110", "Allowance for doubtful accounts", "asset", "allowance", rec, "allowance",
           normal="credit", parent="1100"),
        _a("1120", "Other receivables", "asset", "other_receivables", rec, "other_receivables"),
        _a("1130", "Employee advances", "asset", "other_receivables", rec, seldom=True),
        _a("1140", "VAT refund receivable", "asset", "tax_receivable", rec, "input_tax"),
        _a("1150", "Income tax receivable", "asset", "tax_receivable", rec, optional=True),
        _a("1200", "Raw materials", "asset", "inventory", inv, "inventory"),
        _a("1210", "Work in progress", "asset", "inventory", inv, "inventory"),
        _a("1220", "Finished goods", "asset", "inventory", inv, "inventory", "inventory_issue"),
        _a("1230", "Goods in transit", "asset", "inventory", inv, "inventory", optional=True),
        _a("1240", "Spare parts inventory", "asset", "inventory", inv, "inventory", "inventory_issue"),
        _a("1290", "Inventory obsolescence reserve", "asset", "inventory_reserve", inv, "inventory_reserve",
           normal="credit", parent="1220"),
        _a("1300", "Prepaid insurance", "asset", "prepaid", pre, "prepaid", "prepaid_insurance"),
        _a("1310", "Prepaid rent", "asset", "prepaid", pre, "prepaid", optional=True),
        _a("1320", "Prepaid software and subscriptions", "asset", "prepaid", pre, "prepaid"),
        _a("1330", "Prepaid marketing", "asset", "prepaid", pre, "prepaid", optional=True),
        _a("1340", "Other prepaid expenses", "asset", "prepaid", pre, "prepaid"),
        _a("1350", "Security deposits", "asset", "prepaid", pre),
    ]
    for i, other in enumerate(others):
        accounts.append(_a(f"14{i:02d}", f"Intercompany receivable - {other}", "asset", "intercompany",
                           "Amounts due from group companies", f"ic_receivable_{other}"))
    accounts += [
        _a("1500", "Land", "asset", "ppe", ppe),
    ]
    for key, asset, accdep, _, name in ASSET_CLASSES:
        accounts.append(_a(asset, name, "asset", "ppe", ppe, f"ppe_{key}"))
    accounts.append(_a("1580", "Construction in progress", "asset", "ppe", ppe, optional=True))
    for key, asset, accdep, _, name in ASSET_CLASSES:
        label = "Accumulated amortisation" if key == "software" else "Accumulated depreciation"
        accounts.append(_a(accdep, f"{label} - {name.lower()}", "asset", "accumulated_depreciation", ppe,
                           f"accdep_{key}", normal="credit", parent=asset))
    accounts += [
        _a("1700", "Right-of-use assets", "asset", "right_of_use", ppe, "rou"),
        _a("1710", "Accumulated amortisation - right-of-use assets", "asset", "accumulated_depreciation",
           ppe, "accdep_rou", normal="credit", parent="1700"),
        _a("1800", "Deferred tax assets", "asset", "deferred_tax", oth),
        _a("1850", "Goodwill", "asset", "intangibles", oth),
        _a("1860", "Investments in subsidiaries", "asset", "investments", oth, seldom=True),
        _a("1870", "Long-term deposits", "asset", "other_assets", oth, optional=True),
        _a("1895", "Other non-current assets", "asset", "other_assets", oth, seldom=True),
        _a("1990", "Suspense account", "asset", "suspense", "Other current assets", "suspense"),
        _a("1995", "Cash clearing - unidentified items", "asset", "suspense", "Other current assets", "suspense"),
        # Liabilities
        _a("2000", "Accounts payable - trade", "liability", "payables", pay, "ap_trade"),
        _a("2010", "Accounts payable - employee reimbursements", "liability", "payables", pay, "ap_other"),
        _a("2050", "Goods received not invoiced (GR/IR clearing)", "liability", "clearing", pay, "grir"),
        _a("2100", "Accrued expenses - general", "liability", "accruals", accr, "accrued"),
        _a("2110", "Accrued utilities", "liability", "accruals", accr, "accrued"),
        _a("2120", "Accrued professional fees", "liability", "accruals", accr, "accrued"),
        _a("2130", "Accrued interest", "liability", "accruals", accr, "accrued_interest"),
        _a("2140", "Accrued bonuses", "liability", "accruals", accr, "accrued", "accrued_bonus"),
        _a("2150", "Accrued vacation", "liability", "accruals", accr, "accrued"),
        _a("2160", "Warranty provision", "liability", "provisions", accr, "warranty_provision"),
        _a("2170", "Legal provision", "liability", "provisions", accr, optional=True),
        _a("2180", "Accrued freight", "liability", "accruals", accr, "accrued", optional=True),
        _a("2200", "Wages payable", "liability", "payroll_liabilities", pay, "wages_payable"),
        _a("2210", "Payroll taxes payable", "liability", "payroll_liabilities", pay, "payroll_tax_payable"),
        _a("2220", "Employee benefits payable", "liability", "payroll_liabilities", pay, "benefits_payable"),
        _a("2230", "Pension contributions payable", "liability", "payroll_liabilities", pay, optional=True),
        _a("2300", "VAT and sales tax control account", "liability", "tax_payable", tax, "output_tax"),
        _a("2310", "Income tax payable", "liability", "tax_payable", tax, "income_tax_payable"),
        _a("2320", "Deferred tax liabilities", "liability", "deferred_tax", tax),
        _a("2330", "Other taxes payable", "liability", "tax_payable", tax, optional=True),
    ]
    for i, other in enumerate(others):
        accounts.append(_a(f"24{i:02d}", f"Intercompany payable - {other}", "liability", "intercompany",
                           "Amounts due to group companies", f"ic_payable_{other}"))
    accounts += [
        _a("2500", "Deferred revenue", "liability", "deferred_revenue", "Contract liabilities"),
        _a("2510", "Customer deposits", "liability", "deferred_revenue", "Contract liabilities", seldom=True),
        _a("2600", f"Revolving credit facility - {bank_a}", "liability", "debt", debt, "debt"),
        _a("2610", "Term loan - current portion", "liability", "debt", debt, "debt"),
        _a("2700", "Term loan - non-current", "liability", "debt", debt, "debt"),
        _a("2710", "Lease liabilities - current", "liability", "lease_liabilities", debt),
        _a("2720", "Lease liabilities - non-current", "liability", "lease_liabilities", debt),
        _a("2800", "Other long-term liabilities", "liability", "other_liabilities", debt, seldom=True),
        _a("2900", "Dividends payable", "liability", "other_liabilities", pay, seldom=True),
        _a("2990", "Suspense - unallocated receipts", "liability", "suspense", pay, "suspense"),
        # Equity
        _a("3000", "Common stock", "equity", "equity", eq, "share_capital"),
        _a("3100", "Additional paid-in capital", "equity", "equity", eq, "apic"),
        _a("3200", "Retained earnings", "equity", "equity", eq, "retained_earnings"),
        _a("3300", "Treasury stock", "equity", "equity", eq, seldom=True, normal="debit"),
        _a("3400", "Accumulated other comprehensive income", "equity", "equity", eq, seldom=True),
        _a("3500", "Dividends declared", "equity", "equity", eq, seldom=True, normal="debit"),
    ]
    for i, line in enumerate(PRODUCT_LINES[:2] + PRODUCT_LINES[3:4]):
        accounts.append(_a(f"40{i:02d}", f"Product sales - {line.lower()} - domestic", "revenue", "revenue",
                           "Revenue", "revenue"))
        accounts.append(_a(f"40{10 + i:02d}", f"Product sales - {line.lower()} - export", "revenue", "revenue",
                           "Revenue", "revenue"))
    accounts += [
        _a("4100", "Service revenue - field services", "revenue", "revenue", "Revenue", "revenue"),
        _a("4110", "Service revenue - maintenance contracts", "revenue", "revenue", "Revenue", "revenue"),
        _a("4120", "Installation revenue", "revenue", "revenue", "Revenue", "revenue", optional=True),
        _a("4130", "Training revenue", "revenue", "revenue", "Revenue", "revenue", optional=True),
        _a("4200", "Licence revenue", "revenue", "revenue", "Revenue", "revenue"),
        _a("4210", "Subscription revenue", "revenue", "revenue", "Revenue", "revenue"),
        _a("4300", "Freight revenue", "revenue", "revenue", "Revenue", "revenue"),
        _a("4500", "Sales returns and allowances", "revenue", "revenue", "Revenue", "sales_returns",
           normal="debit"),
        _a("4510", "Sales discounts", "revenue", "revenue", "Revenue", "sales_returns", normal="debit"),
        _a("4520", "Customer rebates", "revenue", "revenue", "Revenue", "sales_returns", normal="debit",
           optional=True),
        _a("4900", "Other operating revenue", "revenue", "revenue", "Revenue", seldom=True),
    ]
    cogs = "Cost of sales"
    for i, line in enumerate(PRODUCT_LINES):
        accounts.append(_a(f"50{i:02d}", f"Cost of goods sold - {line.lower()}", "expense", "cogs", cogs,
                           "cogs_goods"))
        accounts.append(_a(f"51{i:02d}", f"Direct labour - {line.lower()}", "expense", "cogs", cogs,
                           "cogs_overhead", optional=i > 2))
        accounts.append(_a(f"52{i:02d}", f"Manufacturing overhead - {line.lower()}", "expense", "cogs", cogs,
                           "cogs_overhead", optional=i > 1))
    accounts += [
        _a("5300", "Freight-in", "expense", "cogs", cogs, "cogs_purchases"),
        _a("5400", "Purchase price variance", "expense", "cogs", cogs, "inventory_variance"),
        _a("5500", "Inventory shrinkage", "expense", "cogs", cogs, "inventory_variance"),
        _a("5600", "Inventory obsolescence expense", "expense", "cogs", cogs, "obsolescence"),
        _a("5700", "Warranty costs", "expense", "cogs", cogs, "warranty_cost"),
        _a("5800", "Subcontractor costs", "expense", "cogs", cogs, "cogs_purchases"),
        _a("5900", "Royalties on sales", "expense", "cogs", cogs, "cogs_purchases", optional=True),
    ]
    per_department = (
        (6000, "Salaries and wages", "payroll", "salaries"),
        (6010, "Bonuses and incentives", "payroll", "bonus"),
        (6020, "Payroll taxes", "payroll", "payroll_tax"),
        (6030, "Employee benefits", "payroll", "benefits"),
        (6040, "Temporary staff", "personnel", "opex_temp"),
        (6050, "Training and education", "personnel", "opex_training"),
        (6300, "Airfare", "travel", "opex_travel"),
        (6310, "Lodging", "travel", "opex_travel"),
        (6320, "Meals and entertainment", "travel", "opex_travel"),
        (6330, "Mileage and car rental", "travel", "opex_travel"),
        (6340, "Conferences and seminars", "travel", "opex_travel"),
        (6400, "Software subscriptions", "it", "opex_it"),
        (6410, "Telephone and mobile", "it", "opex_it"),
    )
    opex = "Operating expenses"
    for base, name, subtype, role in per_department:
        for d, department in enumerate(DEPARTMENTS):
            accounts.append(_a(str(base + d), f"{name} - {department.lower()}", "expense", subtype, opex,
                               role, department=d, optional=role in ("opex_temp",) and d in (2, 5)))
    accounts += [
        _a("6090", "Share-based compensation", "expense", "payroll", opex, "sbc"),
        _a("6099", "Salaries - discontinued division", "expense", "payroll", opex, active=False),
        _a("6200", "Rent expense - offices", "expense", "rent", opex, "rent"),
        _a("6205", "Rent expense - warehouse", "expense", "rent", opex, "rent"),
        _a("6210", "Utilities - electricity", "expense", "facilities", opex, "opex_facilities"),
        _a("6215", "Utilities - gas and water", "expense", "facilities", opex, "opex_facilities"),
        _a("6220", "Repairs and maintenance", "expense", "facilities", opex, "opex_facilities"),
        _a("6225", "Cleaning and janitorial", "expense", "facilities", opex, "opex_facilities"),
        _a("6230", "Security services", "expense", "facilities", opex, "opex_facilities", optional=True),
        _a("6235", "Property taxes", "expense", "facilities", opex, "opex_facilities"),
        _a("6245", "Waste disposal", "expense", "facilities", opex, "opex_facilities", optional=True),
        _a("6450", "Cloud hosting", "expense", "it", opex, "opex_it"),
        _a("6460", "IT hardware (expensed)", "expense", "it", opex, "opex_it"),
        _a("6470", "IT support and maintenance", "expense", "it", opex, "opex_it"),
        _a("6500", "Legal fees", "expense", "professional_fees", opex, "opex_professional"),
        _a("6510", "Audit fees", "expense", "professional_fees", opex, "opex_professional"),
        _a("6520", "Tax advisory fees", "expense", "professional_fees", opex, "opex_professional"),
        _a("6530", "Consulting fees", "expense", "professional_fees", opex, "opex_professional"),
        _a("6540", "Recruiting fees", "expense", "professional_fees", opex, "opex_professional"),
        _a("6550", "Outsourced payroll services", "expense", "professional_fees", opex, "opex_professional",
           optional=True),
        _a("6600", "Advertising - online", "expense", "marketing", opex, "opex_marketing"),
        _a("6610", "Advertising - print", "expense", "marketing", opex, "opex_marketing", optional=True),
        _a("6620", "Trade shows and events", "expense", "marketing", opex, "opex_marketing"),
        _a("6630", "Sponsorships", "expense", "marketing", opex, "opex_marketing"),
        _a("6640", "Promotional materials", "expense", "marketing", opex, "opex_marketing"),
        _a("6650", "Market research", "expense", "marketing", opex, "opex_marketing", optional=True),
        _a("6660", "Public relations", "expense", "marketing", opex, "opex_marketing"),
        _a("6700", "Office supplies", "expense", "office", opex, "opex_office"),
        _a("6710", "Postage and courier", "expense", "office", opex, "opex_office"),
        _a("6720", "Printing and stationery", "expense", "office", opex, "opex_office"),
        _a("6730", "Subscriptions and publications", "expense", "office", opex, "opex_office"),
        _a("6740", "Memberships and dues", "expense", "office", opex, "opex_office"),
        _a("6750", "Bank charges", "expense", "office", opex, "bank_fees"),
        _a("6760", "Small tools and equipment", "expense", "office", opex, "opex_office"),
        _a("6770", "Kitchen and refreshments", "expense", "office", opex, "opex_office"),
        _a("6780", "Licences and permits", "expense", "office", opex, "opex_office", optional=True),
    ]
    for key, _, _, depexp, name in ASSET_CLASSES:
        label = "Amortisation" if key == "software" else "Depreciation"
        accounts.append(_a(depexp, f"{label} - {name.lower()}", "expense", "depreciation", opex, f"dep_{key}"))
    accounts += [
        _a("7080", "Amortisation - right-of-use assets", "expense", "depreciation", opex, "dep_rou"),
        _a("7100", "Bad debt expense", "expense", "bad_debt", opex, "bad_debt"),
        _a("7110", "Insurance - general liability", "expense", "insurance", opex, "insurance_expense"),
        _a("7120", "Insurance - directors and officers", "expense", "insurance", opex, "insurance_expense"),
        _a("7130", "Vehicle expenses", "expense", "other_opex", opex, "opex_office"),
        _a("7140", "Freight out", "expense", "other_opex", opex, "opex_freight"),
        _a("7150", "Warranty expense", "expense", "other_opex", opex, "warranty_cost"),
        _a("7160", "Fines and penalties", "expense", "other_opex", opex, seldom=True),
        _a("7170", "Charitable donations", "expense", "other_opex", opex, seldom=True),
        _a("7180", "Research materials", "expense", "other_opex", opex, "opex_office"),
        _a("7190", "Miscellaneous expense", "expense", "other_opex", opex, "misc_expense"),
        _a("7200", "Management fees - group", "expense", "other_opex", opex, "ic_fee_expense"),
        # Other income and expense
        _a("8000", "Interest income", "revenue", "other_income", "Finance income", "interest_income"),
        _a("8100", "Interest expense - bank", "expense", "interest", "Finance costs", "interest_expense"),
        _a("8110", "Interest expense - leases", "expense", "interest", "Finance costs", optional=True),
        _a("8200", "Foreign exchange gains - realised", "revenue", "other_income", "Other gains and losses",
           "fx_gain"),
        _a("8210", "Foreign exchange losses - realised", "expense", "fx", "Other gains and losses", "fx_loss"),
        _a("8220", "Foreign exchange - unrealised", "expense", "fx", "Other gains and losses", "fx_loss"),
        _a("8300", "Gain on disposal of fixed assets", "revenue", "other_income", "Other gains and losses",
           seldom=True),
        _a("8310", "Loss on disposal of fixed assets", "expense", "other_expense", "Other gains and losses",
           seldom=True),
        _a("8400", "Management fee income - group", "revenue", "other_income", "Other income", "ic_fee_income"),
        _a("8500", "Other income", "revenue", "other_income", "Other income", "other_income"),
        _a("8600", "Other expense", "expense", "other_expense", "Other expenses", "other_expense"),
        _a("8700", "Dividend income", "revenue", "other_income", "Finance income", seldom=True),
        _a("8800", "Impairment losses", "expense", "other_expense", "Other expenses", seldom=True),
        # Tax
        _a("9000", "Current income tax expense", "expense", "income_tax", "Income tax expense",
           "income_tax_expense"),
        _a("9010", "Income tax - prior-year adjustments", "expense", "income_tax", "Income tax expense",
           seldom=True),
        _a("9100", "Deferred tax expense", "expense", "income_tax", "Income tax expense"),
        _a("9200", "Franchise and other taxes", "expense", "income_tax", "Income tax expense", optional=True),
        _a("9950", "Extraordinary items", "expense", "other_expense", "Other expenses", seldom=True),
    ]
    return accounts


# House styles: how different clients spell the same account.
_UK_WORDS = (
    ("Accounts receivable - trade", "Trade debtors"),
    ("Accounts receivable - export customers", "Trade debtors - export"),
    ("Accounts payable - trade", "Trade creditors"),
    ("Accounts payable - employee reimbursements", "Creditors - staff expenses"),
    ("Allowance for doubtful accounts", "Bad debt provision"),
    ("Raw materials", "Stock - raw materials"),
    ("Finished goods", "Stock - finished goods"),
    ("Work in progress", "Stock - work in progress"),
    ("Common stock", "Called-up share capital"),
    ("Additional paid-in capital", "Share premium account"),
    ("Retained earnings", "Profit and loss reserve"),
    ("Product sales", "Turnover"),
    ("Salaries and wages", "Wages and salaries"),
    ("Payroll taxes", "Employer's national insurance"),
    ("VAT and sales tax control account", "VAT control account"),
    ("Vehicles", "Motor vehicles"),
    ("Accrued", "Accruals -"),
    ("Prepaid", "Prepayments -"),
    ("Inventory", "Stock"),
    ("Utilities", "Light and heat"),
)
_ABBREVIATIONS = (
    ("Accumulated depreciation", "Accum. depr."),
    ("Accumulated amortisation", "Accum. amort."),
    ("Accounts receivable", "A/R"),
    ("Accounts payable", "A/P"),
    ("Intercompany", "I/C"),
    ("Accrued", "Accr."),
    ("Depreciation", "Depr."),
    ("Amortisation", "Amort."),
    ("expense", "exp."),
    (" and ", " & "),
    ("General and administrative", "G&A"),
    ("general and administrative", "G&A"),
    ("Research and development", "R&D"),
    ("research and development", "R&D"),
    ("information technology", "IT"),
)


def _styled(name: str, style: str) -> str:
    if style == "uk":
        for old, new in _UK_WORDS:
            if name.startswith(old) or old in name:
                name = name.replace(old, new)
        return name.replace("Accruals - ", "Accruals - ").replace("  ", " ")
    if style == "abbreviated":
        for old, new in _ABBREVIATIONS:
            name = name.replace(old, new)
        return name
    if style == "upper":
        return name.upper().replace(" - ", " / ")
    if style == "us_colon":
        return name.replace(" - ", ": ", 1)
    return name


class Chart:
    """One entity's chart of accounts, with the pools of accounts that journal templates draw on."""

    def __init__(self, entity_id: str, accounts: list[AccountSpec], rng: np.random.Generator) -> None:
        self.entity_id = entity_id
        self.accounts = accounts
        self.numbers = [a.number for a in accounts]
        self.index = {a.number: i for i, a in enumerate(accounts)}
        self.names = [a.name for a in accounts]
        self.seldom = np.array([a.seldom for a in accounts])
        self.sensitive = np.array([a.sensitive for a in accounts])
        self.suspense = np.array([a.subtype == "suspense" for a in accounts])
        self.balance_sheet = np.array([a.account_type in ("asset", "liability", "equity") for a in accounts])
        roles: dict[str, list[int]] = {}
        for i, account in enumerate(accounts):
            if account.active and not account.seldom:
                for role in account.roles:
                    roles.setdefault(role, []).append(i)
        self._roles = {role: np.array(idx, dtype=np.int32) for role, idx in roles.items()}
        # Skewed usage: some accounts of a pool carry most postings, as in any real ledger.
        self._weights = {role: _usage_weights(rng, len(idx)) for role, idx in self._roles.items()}

    def __len__(self) -> int:
        return len(self.accounts)

    def has(self, role: str) -> bool:
        return role in self._roles

    def pool(self, *roles: str) -> tuple[np.ndarray, np.ndarray]:
        """Accounts playing any of ``roles`` and their posting weights (summing to 1)."""
        found = [r for r in roles if r in self._roles]
        if not found:
            raise KeyError(f"{self.entity_id}: no account plays {roles}")
        idx = np.concatenate([self._roles[r] for r in found])
        weights = np.concatenate([self._weights[r] / len(found) for r in found])
        return idx, weights / weights.sum()

    def account(self, role: str) -> int:
        """The main account of a role (the first one in number order)."""
        return int(self._roles[role][0])

    def subtype_accounts(self, *subtypes: str) -> list[str]:
        return [a.number for a in self.accounts if a.subtype in subtypes]

    def to_arrow(self) -> pa.Table:
        columns = {
            "entity_id": [self.entity_id] * len(self.accounts),
            "gl_account_number": self.numbers,
            "gl_account_name": self.names,
            "account_type": [a.account_type for a in self.accounts],
            "account_subtype": [a.subtype for a in self.accounts],
            "fs_caption": [a.fs_caption for a in self.accounts],
            "parent_account_number": [a.parent for a in self.accounts],
            "normal_balance": [a.normal_balance for a in self.accounts],
            "active": [a.active for a in self.accounts],
        }
        return pa.table(columns, schema=CHART_OF_ACCOUNTS.schema)


def _usage_weights(rng: np.random.Generator, n: int) -> np.ndarray:
    weights = rng.lognormal(0.0, 0.7, size=n)
    return weights / weights.sum()


def build_chart(profile: EntityProfile, group: list[str], rng: np.random.Generator) -> Chart:
    """The entity's chart: the group catalogue less some optional accounts, in the entity's house style."""
    others = [e for e in group if e != profile.entity_id]
    accounts = []
    for spec in _catalogue(profile, others):
        if spec.optional and rng.random() < 0.35:
            continue
        accounts.append(replace(spec, name=_styled(spec.name, profile.naming_style)))
    accounts.sort(key=lambda a: a.number)
    return Chart(profile.entity_id, accounts, rng)
