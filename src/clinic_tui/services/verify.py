"""`clinic-tui db verify` and the admin's verify checklist: the deployment guide's checks.

Each check is a label (translated where shown), whether it passed, and a detail. Seed counts
come from the seed files themselves, so the check follows the data, not a number in code.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

from clinic_tui.i18n import N_
from clinic_tui.resources import seeds_dir
from clinic_tui.services.access import Actor, Permission, require

EXTENSIONS = ("pg_trgm", "unaccent", "btree_gist")
EXCLUSION_CONSTRAINTS = ("ex_appointments_doctor_overlap", "ex_appointments_patient_overlap")
# (card, is_valid, coverage, copay, category): the function's documented examples.
CARD_EXAMPLES = (
    ("DN4791234567890", True, 80, 20, "DN"),
    ("TE1011234567890", True, 100, 0, "TE"),
    ("HT3011234567890", True, 95, 5, "HT"),
    ("DN2791234567890", True, 100, 0, "DN"),
    ("dn4 79 1234567890", True, 80, 20, "DN"),
    ("DN4001234567890", False, None, None, None),
    ("DN6791234567890", False, None, None, None),
)


@dataclass(frozen=True)
class Check:
    label: str  # a msgid; translate with _() where shown; may hold {name}
    ok: bool
    detail: str = ""
    name: str = ""


def _csv_rows(name: str) -> list[dict[str, str]]:
    with (seeds_dir() / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _json_rows(name: str) -> list[object]:
    with (seeds_dir() / name).open(encoding="utf-8") as handle:
        return list(json.load(handle))


def expected_seed_counts() -> dict[str, int]:
    object_codes = {row["code"] for row in _csv_rows("0015_bhyt_object_codes.csv")}
    return {
        "pt_service_codes": len(_csv_rows("0012_pt_service_codes.csv")),
        "vietnamese_medical_terms": len(_csv_rows("0013_medical_terms.csv")),
        "clinical_protocols": len(_json_rows("0014_clinical_protocols.json")),
        "outcome_measures_library": len(_json_rows("0011_outcome_measures.json")),
        "bhyt_validation_rules": len(object_codes),
        "bhyt_benefit_levels": len(_csv_rows("0015_bhyt_benefit_levels.csv")),
        "bhyt_provinces": len(_csv_rows("0015_bhyt_provinces.csv")),
    }


def checklist(conn: Connection, actor: Actor | None) -> list[Check]:
    """The checks for the admin screen (the CLI, run by the machine's owner, calls run_checks)."""
    require(actor, Permission.DATABASE_ADMIN)
    return run_checks(conn)


def run_checks(conn: Connection) -> list[Check]:
    checks: list[Check] = []
    for step in (_revision, _extensions, _tables, _seed_counts, _functions, _exclusions):
        try:
            checks.extend(step(conn))
        except Exception as error:  # a broken database must still give a report
            conn.rollback()
            checks.append(Check(N_("Check could not run"), False, f"{step.__name__}: {error}"))
    return checks


def _revision(conn: Connection) -> list[Check]:
    from clinic_tui.db.engine import current_revision
    from clinic_tui.db.migrations import head

    current, wanted = current_revision(conn), head()
    return [
        Check(
            N_("Schema is at the latest revision"),
            current == wanted,
            f"{current or '—'} / {wanted}",
        )
    ]


def _extensions(conn: Connection) -> list[Check]:
    installed = set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
    return [
        Check(N_("Extension installed: {name}"), name in installed, name=name)
        for name in EXTENSIONS
    ]


def _tables(conn: Connection) -> list[Check]:
    from clinic_tui.models import Base

    present = set(
        conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
    )
    missing = sorted(set(Base.metadata.tables) - present)
    return [
        Check(
            N_("Every table exists"),
            not missing,
            ", ".join(missing) if missing else str(len(Base.metadata.tables)),
        )
    ]


def _seed_counts(conn: Connection) -> list[Check]:
    checks = []
    for table, expected in expected_seed_counts().items():
        found = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        checks.append(
            Check(
                N_("Reference rows in {name}"),
                # At least the seeded rows: admins add service codes, terms and rules.
                found >= expected,
                f"{found} / {expected}",
                name=table,
            )
        )
    return checks


def _functions(conn: Connection) -> list[Check]:
    checks = []
    unaccented = conn.execute(text("SELECT f_unaccent(lower('ĐOÀN Doãn'))")).scalar_one()
    checks.append(
        Check(N_("Accent-free matching (f_unaccent)"), unaccented == "doan doan", unaccented)
    )
    wrong = []
    for card, valid, coverage, copay, category in CARD_EXAMPLES:
        row = conn.execute(text("SELECT * FROM validate_bhyt_card(:card)"), {"card": card}).one()
        got = (
            row.is_valid,
            _int(row.coverage_percent),
            _int(row.copay_rate),
            row.beneficiary_category,
        )
        if got != (valid, coverage, copay, category):
            wrong.append(f"{card} → {got}")
    checks.append(
        Check(
            N_("BHYT card validation examples (validate_bhyt_card)"),
            not wrong,
            "; ".join(wrong) or str(len(CARD_EXAMPLES)),
        )
    )
    return checks


def _exclusions(conn: Connection) -> list[Check]:
    present = set(
        conn.execute(text("SELECT conname FROM pg_constraint WHERE contype = 'x'")).scalars()
    )
    return [
        Check(N_("No-double-booking constraint: {name}"), name in present, name=name)
        for name in EXCLUSION_CONSTRAINTS
    ]


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def describe(check: Check, translate: Callable[[str], str]) -> str:
    """The label in the current language, with its placeholder filled."""
    return translate(check.label).format(name=check.name)
