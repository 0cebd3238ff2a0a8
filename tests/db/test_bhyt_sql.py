"""validate_bhyt_card in SQL agrees with the Python rule on every shared case."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from clinic_tui.domain.bhyt import check_card
from tests.bhyt_cases import CASES


def _sql(session: Session, card: str) -> tuple[object, ...]:
    row = session.execute(text("SELECT * FROM validate_bhyt_card(:card)"), {"card": card}).one()
    coverage = None if row.coverage_percent is None else int(row.coverage_percent)
    copay = None if row.copay_rate is None else int(row.copay_rate)
    return (row.is_valid, coverage, copay, row.beneficiary_category)


@pytest.fixture
def reference(db_session: Session) -> tuple[set[str], set[str]]:
    codes = set(
        db_session.execute(
            text("SELECT object_code FROM bhyt_validation_rules WHERE is_active")
        ).scalars()
    )
    provinces = set(
        db_session.execute(text("SELECT code FROM bhyt_provinces WHERE is_active")).scalars()
    )
    return codes, provinces


@pytest.mark.parametrize("case", CASES, ids=lambda case: repr(case[0]))
def test_sql_and_python_agree(db_session: Session, reference, case) -> None:
    codes, provinces = reference
    expected = tuple(case[1:5])
    assert _sql(db_session, case[0]) == expected
    assert check_card(case[0], known_codes=codes, provinces=provinces).as_row() == expected


def test_retired_code_is_refused_by_sql(db_session: Session) -> None:
    assert _sql(db_session, "GD4791234567890")[0] is True
    db_session.execute(
        text("UPDATE bhyt_validation_rules SET is_active = false WHERE object_code = 'GD'")
    )
    assert _sql(db_session, "GD4791234567890") == (False, None, None, None)


def test_the_seeded_reference_data(db_session: Session) -> None:
    provinces = db_session.execute(
        text("SELECT count(*) FROM bhyt_provinces WHERE code NOT IN ('97', '98')")
    ).scalar()
    assert provinces == 63
    unconfirmed = set(
        db_session.execute(
            text("SELECT object_code FROM bhyt_validation_rules WHERE NOT is_confirmed")
        ).scalars()
    )
    assert {"AK", "TG", "DS", "HK", "ND", "TH", "TV", "TD", "TU"} <= unconfirmed
    levels = db_session.execute(
        text("SELECT level, coverage_percent FROM bhyt_benefit_levels ORDER BY level")
    ).all()
    assert [(level, int(coverage)) for level, coverage in levels] == [
        (1, 100),
        (2, 100),
        (3, 95),
        (4, 80),
        (5, 100),
    ]
    history = db_session.execute(
        text(
            "SELECT level, is_current FROM bhyt_object_code_levels WHERE object_code = 'CN' "
            "ORDER BY active_from NULLS FIRST"
        )
    ).all()
    assert [tuple(row) for row in history] == [(3, False), (2, True)]
