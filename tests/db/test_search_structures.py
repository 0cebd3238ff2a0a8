"""Partition pruning on outcome_measures and trigram indexes on medical terms, shown by plans."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def _plan(session: Session, sql: str, **params: object) -> str:
    rows = session.execute(text("EXPLAIN " + sql), params).scalars().all()
    return "\n".join(rows)


def test_one_year_range_touches_only_that_years_partition(db_session: Session) -> None:
    plan = _plan(
        db_session,
        "SELECT count(*) FROM outcome_measures "
        "WHERE measured_on >= DATE '2025-01-01' AND measured_on < DATE '2026-01-01'",
    )
    assert "outcome_measures_y2025" in plan
    for year in (2024, 2026, 2027, 2028, 2029, 2030):
        assert f"outcome_measures_y{year}" not in plan


def test_a_whole_table_query_reads_every_partition(db_session: Session) -> None:
    plan = _plan(db_session, "SELECT count(*) FROM outcome_measures")
    assert all(f"outcome_measures_y{year}" in plan for year in range(2024, 2031))


def test_term_query_uses_the_accent_free_trigram_index(db_session: Session) -> None:
    # Enough rows that the planner prefers the index to reading the table.
    db_session.execute(
        text(
            "INSERT INTO vietnamese_medical_terms (term_en, term_vi, category) "
            "SELECT 'generated term ' || i, 'thuật ngữ ' || i, 'symptom' "
            "FROM generate_series(1, 20000) AS i"
        )
    )
    # New GIN entries wait in a pending list until VACUUM; flush it as autovacuum would.
    db_session.execute(
        text(
            "SELECT gin_clean_pending_list('ix_vietnamese_medical_terms_search_vi_trgm'::regclass)"
        )
    )
    db_session.execute(text("ANALYZE vietnamese_medical_terms"))
    needle = "%dau that lung%"
    plan = _plan(
        db_session, "SELECT id FROM vietnamese_medical_terms WHERE search_vi LIKE :q", q=needle
    )
    assert "ix_vietnamese_medical_terms_search_vi_trgm" in plan
    found = (
        db_session.execute(
            text("SELECT term_vi FROM vietnamese_medical_terms WHERE search_vi LIKE :q"),
            {"q": needle},
        )
        .scalars()
        .all()
    )
    assert "Đau thắt lưng" in found


def test_f_unaccent_maps_d_with_stroke(db_session: Session) -> None:
    value = db_session.execute(text("SELECT f_unaccent(lower('Đặng Đức ĐOÀN Doãn'))")).scalar()
    assert value == "dang duc doan doan"
