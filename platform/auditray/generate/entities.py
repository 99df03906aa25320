"""The legal entities of a synthetic group: codes, currencies, banks and house style for account names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntityProfile:
    entity_id: str
    legal_name: str
    country: str
    currency: str
    # Output VAT / sales tax on customer invoices and input VAT on vendor invoices; 0 for US B2B resale.
    vat_rate: float
    banks: tuple[str, str, str]
    naming_style: str
    # Relative size of the entity's ledger within the group.
    size: float


_PROFILES = (
    EntityProfile("US01", "Auditray Industries Inc.", "US", "USD", 0.0,
                  ("JPMorgan Chase", "Bank of America", "Wells Fargo"), "us", 1.00),
    EntityProfile("DE01", "Auditray Deutschland GmbH", "DE", "EUR", 0.19,
                  ("Deutsche Bank", "Commerzbank", "Sparkasse KoelnBonn"), "abbreviated", 0.72),
    EntityProfile("GB01", "Auditray UK Limited", "GB", "GBP", 0.20,
                  ("Barclays", "HSBC UK", "Lloyds"), "uk", 0.50),
    EntityProfile("FR01", "Auditray France SAS", "FR", "EUR", 0.20,
                  ("BNP Paribas", "Societe Generale", "Credit Agricole"), "upper", 0.42),
    EntityProfile("CA01", "Auditray Canada Ltd.", "CA", "CAD", 0.05,
                  ("Royal Bank of Canada", "TD Canada Trust", "Scotiabank"), "us_colon", 0.35),
    EntityProfile("NL01", "Auditray Nederland B.V.", "NL", "EUR", 0.21,
                  ("ING", "ABN AMRO", "Rabobank"), "abbreviated", 0.30),
    EntityProfile("AU01", "Auditray Australia Pty Ltd", "AU", "AUD", 0.10,
                  ("Commonwealth Bank", "Westpac", "ANZ"), "uk", 0.26),
    EntityProfile("IE01", "Auditray Ireland Limited", "IE", "EUR", 0.23,
                  ("AIB", "Bank of Ireland", "PTSB"), "uk", 0.22),
    EntityProfile("MX01", "Auditray Mexico S.A. de C.V.", "MX", "MXN", 0.16,
                  ("BBVA Mexico", "Banorte", "Santander Mexico"), "upper", 0.20),
    EntityProfile("SG01", "Auditray Singapore Pte. Ltd.", "SG", "SGD", 0.09,
                  ("DBS", "OCBC", "UOB"), "us_colon", 0.18),
)


def entity_profiles(n_entities: int) -> list[EntityProfile]:
    """The first ``n_entities`` entities of the group; beyond the named ones, more US subsidiaries."""
    if n_entities < 1:
        raise ValueError("n_entities must be at least 1")
    profiles = list(_PROFILES[:n_entities])
    for extra in range(n_entities - len(profiles)):
        number = extra + 2
        profiles.append(EntityProfile(
            f"US{number:02d}", f"Auditray Subsidiary {number} LLC", "US", "USD", 0.0,
            ("Citibank", "U.S. Bank", "PNC"), ("us", "us_colon", "upper", "abbreviated")[extra % 4],
            0.15,
        ))
    return profiles
