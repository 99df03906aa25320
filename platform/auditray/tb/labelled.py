"""The labelled account names: what the classifier learns from, and the held-back names it is judged on.

``data/labelled_accounts.csv`` holds account names in the styles clients send (US numbered charts,
abbreviations, QuickBooks and Xero default charts, UK, IFRS wording, SAP texts, German SKR03/SKR04,
French PCG, Spanish PGC, Dutch), each labelled with its line item of the standard chart. They were
written for this project, not copied from any client.

The held-back split is fixed by a hash of the name (digits removed, see ``names.split_key``): about one
name in five is held back, never used to train the classifier nor to write rules, and the mapping's
accuracy and review share are reported on it. The split cannot drift as names are added, and renumbered
variants of one name always fall on the same side.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Literal

import polars as pl

from auditray.tb.names import split_key
from auditray.tb.standard_chart import standard_chart

LABELLED_FILE = "data/labelled_accounts.csv"
HELD_BACK_SHARE = 20  # per cent
Split = Literal["train", "held_back"]


def split_of(name: str) -> Split:
    """``held_back`` for about 20% of names, decided by the SHA-256 of the name's split key."""
    digest = hashlib.sha256(split_key(name).encode("utf-8")).digest()
    return "held_back" if int.from_bytes(digest[:8], "big") % 100 < HELD_BACK_SHARE else "train"


@lru_cache(maxsize=1)
def labelled_accounts() -> pl.DataFrame:
    """Every labelled name with its ``split``; raises if a label is not a line item of the chart."""
    path = resources.files("auditray.tb").joinpath(LABELLED_FILE)
    frame = pl.read_csv(
        path.read_bytes(),
        schema={"chart_style": pl.String, "gl_account_number": pl.String, "gl_account_name": pl.String,
                "fsli": pl.String},
    )
    codes = set(standard_chart().codes)
    unknown = sorted(set(frame["fsli"].to_list()) - codes)
    if unknown:
        raise ValueError(f"{LABELLED_FILE}: labels {unknown} are not line items of the standard chart")
    return frame.with_columns(
        split=pl.col("gl_account_name").map_elements(split_of, return_dtype=pl.String)
    )


def training_accounts() -> pl.DataFrame:
    return labelled_accounts().filter(pl.col("split") == "train")


def held_back_accounts() -> pl.DataFrame:
    return labelled_accounts().filter(pl.col("split") == "held_back")


def labelled_digest() -> str:
    """SHA-256 of the labelled file: part of the classifier's cache key and of each run's audit event."""
    data = resources.files("auditray.tb").joinpath(LABELLED_FILE).read_bytes()
    return hashlib.sha256(data).hexdigest()
