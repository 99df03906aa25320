"""Who posts: batch users of the sub-ledgers, the accounting team, management and a few strangers.

Journal-entry tests look at people (AS 2401 .61b: entries by individuals who do not usually post,
or who are not authorised to). Each entity therefore gets a roster with realistic habits: batch
users that post in fixed windows, accountants with their own working hours and volumes, seniors
and a controller with higher approval limits, a CFO and two managers who post rarely but
regularly, and a few non-accounting users who are not authorised posters at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa

from auditray.contract import MONEY

_FIRST = {
    "en": ("James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "William", "Sarah",
           "Richard", "Karen", "Thomas", "Nancy", "Daniel", "Lisa", "Matthew", "Emily", "Anthony", "Ashley",
           "Mark", "Megan", "Steven", "Rachel", "Kevin", "Laura", "Brian", "Olivia", "Jason", "Hannah",
           "Priya", "Wei", "Carlos", "Aisha", "Tomasz", "Mei"),
    "de": ("Lukas", "Anna", "Jonas", "Laura", "Felix", "Julia", "Maximilian", "Lea", "Paul", "Sophie",
           "Leon", "Katharina", "Tobias", "Miriam", "Stefan", "Sabine", "Florian", "Claudia", "Markus",
           "Nina", "Andreas", "Petra", "Jan", "Carina", "Matthias", "Svenja", "Mehmet", "Elif"),
    "fr": ("Lucas", "Camille", "Hugo", "Chloe", "Louis", "Manon", "Gabriel", "Lea", "Arthur", "Ines",
           "Nicolas", "Julie", "Antoine", "Claire", "Mathieu", "Sophie", "Julien", "Marie", "Thomas",
           "Amelie", "Karim", "Yasmine"),
    "nl": ("Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Bram", "Lotte", "Thijs", "Anouk",
           "Jeroen", "Femke", "Ruben", "Sanne", "Pieter", "Marloes"),
    "es": ("Jose", "Maria", "Luis", "Guadalupe", "Carlos", "Fernanda", "Jorge", "Sofia", "Miguel",
           "Valeria", "Ricardo", "Daniela", "Alejandro", "Ximena"),
    "sg": ("Wei Ling", "Jun Jie", "Hui Min", "Kai Xiang", "Siti", "Arjun", "Mei Ling", "Ravi", "Xin Yi",
           "Zhi Hao", "Nur", "Kumar"),
}
_LAST = {
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Anderson",
           "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark",
           "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
           "Carter", "Mitchell", "Patel", "Chen", "Nguyen", "Kowalski", "Murphy", "O'Brien", "Campbell"),
    "de": ("Mueller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schroeder", "Neumann", "Schwarz", "Braun",
           "Zimmermann", "Krueger", "Hartmann", "Lange", "Werner", "Krause", "Yilmaz", "Kaiser"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
           "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent",
           "Fournier", "Benali", "Girard"),
    "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
           "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters"),
    "es": ("Hernandez", "Garcia", "Martinez", "Lopez", "Gonzalez", "Perez", "Rodriguez", "Sanchez",
           "Ramirez", "Cruz", "Flores", "Gomez", "Morales", "Vazquez"),
    "sg": ("Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Koh", "Teo", "Rahman", "Nair"),
}
_LANGUAGE = {"US": "en", "GB": "en", "CA": "en", "AU": "en", "IE": "en", "DE": "de", "FR": "fr",
             "NL": "nl", "MX": "es", "SG": "sg"}

# Batch users of the automated sources and the windows (seconds after midnight) they post in.
BATCH_USERS = {
    "BATCH_AP": "Accounts payable invoice interface",
    "BATCH_AR": "Billing run",
    "BATCH_CASH": "Bank statement import and payment run",
    "BATCH_PAY": "Payroll interface",
    "BATCH_FA": "Fixed-asset depreciation run",
    "BATCH_INV": "Inventory movements interface",
    "BATCH_IC": "Intercompany billing",
    "BATCH_GL": "Recurring entries and auto-reversals",
}

PEOPLE_ROLES = ("accountant", "senior_accountant", "controller", "cfo", "treasury_manager", "tax_manager")
# Users whose postings the tests should find unusual: not authorised to post journals at all.
UNUSUAL_ROLES = (("it_admin", "IT administrator", "ADMIN"), ("sales_manager", "Sales manager", None),
                 ("intern", "Finance intern", None))
_MORE_STRANGERS = (("consultant", "External consultant"), ("warehouse_manager", "Warehouse manager"),
                   ("hr_manager", "HR manager"), ("it_admin", "IT support"), ("intern", "Summer intern"),
                   ("sales_manager", "Regional sales manager"))


@dataclass
class Roster:
    """The users of one entity, as parallel arrays so that posting users can be drawn in bulk."""

    entity_id: str
    user_ids: list[str]
    names: list[str]
    roles: list[str]
    departments: list[str]
    authorised: np.ndarray
    approval_limit_cents: np.ndarray  # -1 where no limit applies: batch users, the CFO, non-posters
    # The amount above which this user's manual entries need someone else's approval.
    posting_limit_cents: np.ndarray
    hour_centre: np.ndarray  # preferred working time of day, hours
    activity: np.ndarray  # relative manual-posting volume

    def by_role(self, role: str) -> np.ndarray:
        return np.array([i for i, r in enumerate(self.roles) if r == role], dtype=np.int32)

    def user(self, user_id: str) -> int:
        return self.user_ids.index(user_id)

    @property
    def posters(self) -> np.ndarray:
        """Accountants and seniors who post the day-to-day manual journals."""
        return np.concatenate([self.by_role("accountant"), self.by_role("senior_accountant")])

    def to_arrow(self) -> pa.Table:
        limits = [None if c < 0 else Decimal(int(c)).scaleb(-2) for c in self.approval_limit_cents]
        return pa.table({
            "entity_id": [self.entity_id] * len(self.user_ids),
            "user_id": self.user_ids,
            "user_name": self.names,
            "role": self.roles,
            "department": self.departments,
            "is_system": [r == "system" for r in self.roles],
            "authorised_poster": self.authorised.tolist(),
            "approval_limit": pa.array(limits, type=MONEY),
        })


def _user_id(first: str, last: str, taken: set[str]) -> str:
    base = (first[0] + "".join(ch for ch in last if ch.isalpha())).upper()[:10]
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base[:10]}{n}"
    taken.add(candidate)
    return candidate


def build_roster(entity_id: str, country: str, n_accountants: int, approval_limit_cents: int,
                 rng: np.random.Generator) -> Roster:
    """Batch users, ``n_accountants`` accountants (a quarter of them seniors), management and strangers."""
    language = _LANGUAGE.get(country, "en")
    first, last = _FIRST[language], _LAST[language]
    taken: set[str] = set()
    ids, names, roles, depts, auth, limits, hours, activity = [], [], [], [], [], [], [], []
    unlimited = np.iinfo(np.int64).max

    def add(user_id, name, role, dept, authorised, limit, hour, act):
        ids.append(user_id)
        names.append(name)
        roles.append(role)
        depts.append(dept)
        auth.append(authorised)
        limits.append(limit)
        hours.append(hour)
        activity.append(act)

    for user_id, what in BATCH_USERS.items():
        taken.add(user_id)
        add(user_id, what, "system", "Systems", True, -1, 0.0, 0.0)

    def person() -> tuple[str, str]:
        f, ln = first[rng.integers(len(first))], last[rng.integers(len(last))]
        return _user_id(f, ln, taken), f"{f} {ln}"

    n_seniors = max(2, n_accountants // 4)
    for i in range(n_accountants):
        user_id, name = person()
        senior = i < n_seniors
        add(user_id, name, "senior_accountant" if senior else "accountant", "Finance", True,
            approval_limit_cents * 5 // 2 if senior else approval_limit_cents,
            float(np.clip(rng.normal(12.8, 1.3), 10.0, 15.0)), float(rng.lognormal(0.0, 0.35)))
    for role, limit_factor in (("controller", 25), ("cfo", -1), ("treasury_manager", 5), ("tax_manager", 5)):
        user_id, name = person()
        add(user_id, name, role, "Finance", True,
            -1 if limit_factor < 0 else approval_limit_cents * limit_factor,
            float(np.clip(rng.normal(12.5, 1.0), 10.0, 15.0)), 0.0)
    for role, title, fixed_id in UNUSUAL_ROLES:
        if fixed_id:
            taken.add(fixed_id)
            user_id, name = fixed_id, title
        else:
            user_id, name = person()
        add(user_id, name, role, "Sales" if role == "sales_manager" else ("IT" if role == "it_admin" else "Finance"),
            False, -1, float(np.clip(rng.normal(12.5, 1.0), 10.0, 15.0)), 0.0)
    limits_array = np.array(limits, dtype=np.int64)
    posting = np.where(limits_array >= 0, limits_array, unlimited)
    # A user without authority to post is held to the general approval limit.
    posting[~np.array(auth)] = approval_limit_cents
    return Roster(entity_id, ids, names, roles, depts, np.array(auth), limits_array, posting,
                  np.array(hours), np.array(activity))


def add_strangers(roster: Roster, country: str, count: int, approval_limit_cents: int,
                  rng: np.random.Generator) -> None:
    """More non-accounting users, so that each of them posts only once or twice (large ledgers)."""
    language = _LANGUAGE.get(country, "en")
    first, last = _FIRST[language], _LAST[language]
    taken = set(roster.user_ids)
    for i in range(count):
        role, _ = _MORE_STRANGERS[i % len(_MORE_STRANGERS)]
        f, ln = first[rng.integers(len(first))], last[rng.integers(len(last))]
        roster.user_ids.append(_user_id(f, ln, taken))
        roster.names.append(f"{f} {ln}")
        roster.roles.append(role)
        roster.departments.append({"consultant": "External", "warehouse_manager": "Operations",
                                   "hr_manager": "HR", "it_admin": "IT", "sales_manager": "Sales"}.get(role, "Finance"))
    roster.authorised = np.concatenate([roster.authorised, np.zeros(count, bool)])
    roster.approval_limit_cents = np.concatenate([roster.approval_limit_cents, np.full(count, -1, np.int64)])
    roster.posting_limit_cents = np.concatenate([roster.posting_limit_cents,
                                                 np.full(count, approval_limit_cents, np.int64)])
    roster.hour_centre = np.concatenate([roster.hour_centre, np.clip(rng.normal(12.5, 1.0, count), 10, 15)])
    roster.activity = np.concatenate([roster.activity, np.zeros(count)])


def strangers(roster: Roster) -> np.ndarray:
    """Users who may not post journals."""
    return np.flatnonzero(~roster.authorised).astype(np.int32)
