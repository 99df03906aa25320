"""The data contract: canonical Arrow schemas for ledgers, trial balances and charts of accounts.

Modelled on the AICPA Audit Data Standards (GL_Detail, Trial_Balance, Chart_Of_Accounts) in
snake_case. Money is ``decimal128(18, 2)``: sums are exact to the cent, with no float drift.
The fields, their ADS names and their meaning are documented in ``CONTRACT.md`` beside this file.
"""

from auditray.contract.schemas import (
    CHART_OF_ACCOUNTS,
    GL_DETAIL,
    KINDS,
    MONEY,
    MONEY_SCALE,
    SCHEMA_VERSION,
    TRIAL_BALANCE,
    Field,
    TableContract,
    contract_for,
)

__all__ = [
    "CHART_OF_ACCOUNTS",
    "GL_DETAIL",
    "KINDS",
    "MONEY",
    "MONEY_SCALE",
    "SCHEMA_VERSION",
    "TRIAL_BALANCE",
    "Field",
    "TableContract",
    "contract_for",
]
