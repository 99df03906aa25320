"""Account names and numbers as the mapper compares them.

Clients spell one account many ways ("Umsatzerlöse", "UMSATZERLOESE", "4400 Umsatzerlöse 19% USt"), so
names are compared after one normalisation: lower case, accents stripped, whitespace collapsed, a
leading account number removed. Punctuation stays ("A/R", "R&D", "PP&E" carry meaning).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_LEADING_NUMBER = re.compile(r"^\s*\d[\d.\-]*\s+(?=\D)")
_GERMAN_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))
_DIGRAPH_WORDS = re.compile(r"\b(umsatzerloes\w*|erloes\w*|loehne|gehaelter|ertraege|rueckstellung\w*|"
                            r"koerperschaft\w*|vorraete|verbindlichkeiten|aufwaende|buero\w*|gebaeude|"
                            r"grundstuecke|zuschuess\w*|rueck\w*|fuer|ueber\w*|gegenueber|abzueglich|"
                            r"geschaeft\w*|kraftfahrzeuge|forderungsverluste|bestandsveraenderung\w*|"
                            r"erloesschmaelerung\w*|gewaehrte|zinsertraege|kapitalruecklage|"
                            r"gewinnruecklage\w*|sachanlagevermoegen|anlagevermoegen|vermoegens\w*)\b")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold_digraphs(match: re.Match[str]) -> str:
    word = match.group(0)
    for digraph, letter in _GERMAN_DIGRAPHS:
        word = word.replace(digraph, letter)
    return word


def normalize_account_name(name: str | None) -> str:
    """``"4400 Umsatzerlöse 19% USt"`` -> ``"umsatzerlose 19% ust"``.

    German names typed without umlauts ("Umsatzerloese", "Loehne") fold to the same form for the words
    an accounting chart uses, so rules need one spelling.
    """
    if not name:
        return ""
    text = strip_accents(str(name).casefold()).replace("_", " ").replace("\u2013", "-").replace("\u2014", "-")
    text = _SPACES.sub(" ", text).strip()
    text = _LEADING_NUMBER.sub("", text)
    return _DIGRAPH_WORDS.sub(_fold_digraphs, text)


@lru_cache(maxsize=200_000)
def leading_number(account_number: str | None) -> str | None:
    """The leading digits of an account number: ``"1010-00"`` -> ``"1010"``, ``"A100"`` -> None."""
    if not account_number:
        return None
    match = re.match(r"\s*(\d+)", str(account_number))
    return match.group(1) if match else None


def number_key(digits: str) -> int:
    """Leading digits padded or cut to four, for range lookups: ``"090"`` -> 900, ``"512100"`` -> 5121."""
    return int((digits + "0000")[:4])


def split_key(name: str) -> str:
    """What the held-back split hashes: the normalised name without digits, so "Erlöse 7 % USt" and
    "Erlöse 19 % USt" always fall on the same side and the held-back names are truly unseen."""
    text = re.sub(r"\d+", " ", normalize_account_name(name))
    return _SPACES.sub(" ", re.sub(r"[^a-z&/]+", " ", text)).strip()


_DEPARTMENT = re.compile(
    r"\s*(?:[-:/|]|\s-\s)\s*(?:dept\.?\s+|department\s+)?"
    r"(?:sales|marketing|research (?:and|&) development|r&d|general (?:and|&) administrative|g&a|operations|ops|it|"
    r"information technology|admin|administration|finance|hr|human resources|engineering|production|"
    r"manufacturing|customer (?:service|support)|support|executive|corporate|warehouse|logistics|procurement|"
    r"purchasing|dept\.? ?\w+|department \w+|cost cent(?:er|re) \w+)$"
)


def strip_department(normalized: str) -> str:
    """``"airfare - research and development"`` -> ``"airfare"``.

    A department or cost centre appended to a cost says where it was incurred, not what it is; the
    standard chart's expense lines are by nature (salaries, rent, depreciation, ...), so the mapper reads
    the nature. Names that are nothing but a department are left alone.
    """
    base = _DEPARTMENT.sub("", normalized).strip()
    return base or normalized
