"""The medical vocabulary service (issue 6): what typing finds, in what order, what hostile
input cannot do, who may read and edit, and that the trigram indexes carry the search."""

from __future__ import annotations

import csv
import unicodedata
import uuid
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from clinic_tui.models import AuditEntry, User
from clinic_tui.services import terms
from clinic_tui.services.access import Actor, PermissionDenied, Role
from clinic_tui.services.terms import MatchRank, TermEditConflict, TermInvalid, TermProblem

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "0013_medical_terms.csv"


def _actor(session: Session, role: Role = Role.ADMIN) -> Actor:
    """A real account (audit rows need the user's id), without the cost of a password hash."""
    email = f"{role.lower()}-{uuid.uuid4().hex[:8]}@clinic.vn"
    user_id = session.execute(
        insert(User)
        .values(email=email, password_hash="x", full_name="Trần Thị Mai", role=role.value)
        .returning(User.id)
    ).scalar_one()
    return Actor(user_id, email, "Trần Thị Mai", role)


def _names(hits: list[terms.TermHit]) -> list[str]:
    return [hit.term_en for hit in hits]


def _search(session: Session, typed: str, **kwargs: int) -> list[terms.TermHit]:
    return terms.search_terms(session, _actor(session, Role.RECEPTIONIST), typed, **kwargs)


# --- what typing finds -----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["dau lung", "đau lưng", "Dau Lung", "ĐAU LƯNG", "lumbago"])
def test_low_back_pain_comes_first(db_session: Session, typed: str) -> None:
    hits = _search(db_session, typed)
    assert hits[0].term_en == "Low back pain"
    assert hits[0].term_vi == "Đau thắt lưng"
    assert hits[0].rank == MatchRank.EXACT  # an alias, typed whole


@pytest.mark.parametrize("typed", ["low back", "M54", "m54", "dau that", "Đau thắt lưng"])
def test_low_back_pain_is_in_the_top_three(db_session: Session, typed: str) -> None:
    assert "Low back pain" in _names(_search(db_session, typed)[:3])


def test_decomposed_input_finds_what_composed_input_does(db_session: Session) -> None:
    typed = unicodedata.normalize("NFD", "Đau thắt lưng")
    assert typed != "Đau thắt lưng"
    assert _names(_search(db_session, typed)) == _names(_search(db_session, "Đau thắt lưng"))


def test_goi_finds_the_knee_and_the_knee_terms(db_session: Session) -> None:
    hits = _search(db_session, "goi")
    assert hits[0].term_vi == "Đầu gối"  # the alias "gối", typed whole
    assert {"Knee osteoarthritis", "Anterior cruciate ligament injury"} <= set(_names(hits))
    assert all("goi" in terms.fold(hit.term_vi + " " + " ".join(hit.aliases)) for hit in hits)


@pytest.mark.parametrize("typed", ["shoudler", "sholder", "shoulderr"])
def test_one_typo_still_finds_shoulder(db_session: Session, typed: str) -> None:
    hits = _search(db_session, typed)
    assert hits[0].term_en == "Shoulder"
    assert hits[0].rank == MatchRank.SIMILAR


def test_exact_then_prefix_then_word_prefix(db_session: Session) -> None:
    hits = _search(db_session, "knee")
    assert hits[0].term_en == "Knee" and hits[0].rank == MatchRank.EXACT
    assert [hit.rank for hit in hits] == sorted(hit.rank for hit in hits)
    assert "Knee osteoarthritis" in [h.term_en for h in hits if h.rank == MatchRank.PREFIX]


def test_ties_go_to_the_shorter_term(db_session: Session) -> None:
    admin = _actor(db_session)
    for en, vi in [("Zyxwa test longer", "Thử zyxwa dài"), ("Zyxwa test", "Thử zyxwa")]:
        terms.add_term(db_session, admin, term_en=en, term_vi=vi, category="symptom")
    assert _names(_search(db_session, "zyxwa")) == ["Zyxwa test", "Zyxwa test longer"]


def test_an_icd10_code_comes_before_the_codes_under_it(db_session: Session) -> None:
    hits = _search(db_session, "m54.5")
    assert (hits[0].term_en, hits[0].rank) == ("Low back pain", MatchRank.EXACT)
    assert all((hit.icd10_code or "").startswith("M54") for hit in _search(db_session, "M54"))
    assert _names(_search(db_session, "M17")) == ["Knee osteoarthritis"]
    admin = _actor(db_session)
    terms.add_term(db_session, admin, term_en="Vitamin B12 deficiency", term_vi="Thiếu vitamin B12",
                   category="condition", icd10_code="E53.8")  # fmt: skip
    assert _names(_search(db_session, "b12")) == ["Vitamin B12 deficiency"]  # no B12 code


def test_the_limit_is_kept(db_session: Session) -> None:
    assert len(_search(db_session, "d", limit=3)) == 3
    assert len(_search(db_session, "d", limit=1000)) <= terms.MAX_LIMIT


def test_nothing_matches_nonsense(db_session: Session) -> None:
    assert _search(db_session, "qqqqxz") == []


# --- hostile input ---------------------------------------------------------------------------

HOSTILE = [
    "%", "%%", "_", "__", "\\", "\\\\", "'", '"', "''", "%_%", "\\%", "(", ")", "[", "]", "*",
    ".*", "^$", "|", "{1}", "'; DROP TABLE vietnamese_medical_terms; --", "\x00", "a\x00b",
    "\x1b[31m", "\t\n", "   ", "", "🙂", "a" * 500, "M5_", "M54%", "%M54", "ü", "ß", "Ǆ", "\u200b",
]  # fmt: skip


@pytest.mark.parametrize("typed", HOSTILE)
def test_hostile_input_neither_raises_nor_changes_the_meaning(
    db_session: Session, typed: str
) -> None:
    hits = _search(db_session, typed)
    folded = terms.fold(typed.replace("\x00", ""))
    for hit in hits:  # whatever came back holds the typed characters literally
        haystack = " ".join([hit.term_en, hit.term_vi, hit.icd10_code or "", *hit.aliases])
        assert any(part in terms.fold(haystack) for part in folded.split()) or hit.rank == 3
    assert db_session.scalar(text("SELECT count(*) FROM vietnamese_medical_terms")) >= 56


@pytest.mark.parametrize("typed", ["dau%", "lu_bago", "lumb%go", "%lung", "_au", "lumbag_"])
def test_wildcards_typed_are_literal_characters(db_session: Session, typed: str) -> None:
    # Only the typo stage (which reads "lu_bago" as a slip for "lumbago") may offer it.
    hits = _search(db_session, typed)
    assert all(hit.rank == MatchRank.SIMILAR for hit in hits if hit.term_en == "Low back pain")


def test_a_term_holding_metacharacters_is_found_by_them(db_session: Session) -> None:
    admin = _actor(db_session)
    name = "100% weight_bearing \\ (WB)"
    terms.add_term(
        db_session, admin, term_en=name, term_vi="Chịu 100% trọng lượng", category="assessment"
    )
    for typed in ["100%", "weight_bearing", "weight_b", name, "(wb", "\\ (w"]:
        hits = _search(db_session, typed)
        assert (hits[0].term_en, hits[0].rank < MatchRank.SIMILAR) == (name, True), typed
    for typed in ["weight%bearing", "weightxbearing", "100_"]:
        assert all(hit.rank == MatchRank.SIMILAR for hit in _search(db_session, typed))


def test_typed_wildcards_are_escaped_in_every_pattern() -> None:
    params = terms._text_params("a%b_c\\ d", 10)
    assert params["phrase"] == "%a\\%b\\_c\\\\ d%"
    assert (params["starts"], params["inner"]) == ("a\\%b\\_c\\\\ d%", "% a\\%b\\_c\\\\ d%")
    assert terms._text_params("mild late ab", 10)["pattern"] == "%mild%late% ab%"
    assert terms._text_params("1%_ 2%_ x", 10)["pattern"] == "%1\\%\\_ 2\\%\\_ x%"


def test_search_leaves_the_sessions_settings_as_it_found_them(db_session: Session) -> None:
    before = db_session.execute(
        text("SELECT current_setting('enable_seqscan'), show_limit(),"
             " current_setting('pg_trgm.word_similarity_threshold')")
    ).one()  # fmt: skip
    for typed in ["shoudler", "knee", "dau that lung", "M54", "k"]:
        _search(db_session, typed)
    after = db_session.execute(
        text("SELECT current_setting('enable_seqscan'), show_limit(),"
             " current_setting('pg_trgm.word_similarity_threshold')")
    ).one()  # fmt: skip
    assert after == before


# --- folding agrees with SQL -----------------------------------------------------------------


def test_fold_agrees_with_the_generated_columns(db_session: Session) -> None:
    rows = db_session.execute(
        text("SELECT term_en, term_vi, search_en, search_vi FROM vietnamese_medical_terms")
    ).all()
    assert len(rows) >= 56
    for term_en, term_vi, search_en, search_vi in rows:
        assert terms.fold(term_en) == search_en
        assert terms.fold(term_vi) == search_vi
    sample = "ĐẦU GỐI Ặ Ẵ Ữ Ỹ ờ ơ ư đ Æsir Øre Straße Œuvre"
    assert terms.fold(sample) == db_session.scalar(
        text("SELECT f_unaccent(lower(:s))"), {"s": sample}
    )


# --- details and edits -----------------------------------------------------------------------


def test_get_term_gives_both_languages_and_the_descriptions(db_session: Session) -> None:
    hit = _search(db_session, "lumbago")[0]
    detail = terms.get_term(db_session, _actor(db_session, Role.DOCTOR), hit.id)
    seeded = next(r for r in csv.DictReader(SEEDS.open(encoding="utf-8")) if r["term_en"] ==
                  "Low back pain")  # fmt: skip
    assert (detail.term_vi, detail.category, detail.icd10_code) == (
        "Đau thắt lưng", "condition", "M54.5",
    )  # fmt: skip
    assert detail.description_en == seeded["description_en"]
    assert detail.description_vi == seeded["description_vi"]
    assert "lumbago" in detail.aliases and "đau lưng" in detail.aliases
    with pytest.raises(terms.TermNotFound):
        terms.get_term(db_session, _actor(db_session), uuid.uuid4())


def test_a_new_term_is_found_at_once_by_name_alias_and_code(db_session: Session) -> None:
    admin = _actor(db_session)
    added = terms.add_term(
        db_session,
        admin,
        term_en=unicodedata.normalize("NFD", "  Plantar   fasciitis "),
        term_vi=unicodedata.normalize("NFD", "Viêm cân gan chân"),
        category="Condition",
        icd10_code=" m72.2 ",
        aliases=["heel pain", "đau gót chân", "Đau gót chân", "  "],
        description_en="Pain under the heel.\n\nWorse in the morning.",
        description_vi=None,
    )
    assert (added.term_en, added.term_vi) == ("Plantar fasciitis", "Viêm cân gan chân")
    assert unicodedata.is_normalized("NFC", added.term_vi)
    assert (added.category, added.icd10_code, added.version) == ("condition", "M72.2", 1)
    assert added.aliases == ("heel pain", "đau gót chân")  # folded duplicates and blanks gone
    assert added.description_en == "Pain under the heel.\n\nWorse in the morning."
    for typed in ["plantar", "viem can gan", "dau got chan", "HEEL PAIN", "M72.2", "m72"]:
        assert added.id in [hit.id for hit in _search(db_session, typed)], typed
    entry = db_session.execute(
        select(AuditEntry).where(AuditEntry.action == "term_created")
    ).scalar_one()
    assert (entry.user_id, entry.entity_id) == (admin.user_id, str(added.id))


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"term_en": " "}, {"term_en": TermProblem.REQUIRED}),
        ({"term_vi": "x" * 201}, {"term_vi": TermProblem.TOO_LONG}),
        ({"category": "gossip"}, {"category": TermProblem.CATEGORY}),
        ({"icd10_code": "54M"}, {"icd10_code": TermProblem.ICD10_FORMAT}),
        ({"icd10_code": "M5"}, {"icd10_code": TermProblem.ICD10_FORMAT}),
        ({"aliases": ["y" * 201]}, {"aliases": TermProblem.TOO_LONG}),
        ({"description_vi": "z" * 5000}, {"description_vi": TermProblem.TOO_LONG}),
        ({"term_en": "KNEE", "term_vi": "dau goi"}, {"term_en": TermProblem.DUPLICATE}),
        ({"term_en": "", "category": ""}, {"term_en": TermProblem.REQUIRED,
                                           "category": TermProblem.CATEGORY}),
    ],
)  # fmt: skip
def test_invalid_terms_are_refused_field_by_field(
    db_session: Session, fields: dict[str, object], problems: dict[str, TermProblem]
) -> None:
    values: dict[str, object] = {"term_en": "Heel spur", "term_vi": "Gai gót chân",
                                 "category": "condition"} | fields  # fmt: skip
    with pytest.raises(TermInvalid) as refused:
        terms.add_term(db_session, _actor(db_session), **values)  # type: ignore[arg-type]
    assert refused.value.problems == problems


def test_an_edit_saves_once_and_a_stale_edit_conflicts(db_session: Session) -> None:
    admin = _actor(db_session)
    added = terms.add_term(
        db_session, admin, term_en="Heel spur", term_vi="Gai gót chân", category="condition"
    )
    edited = terms.update_term(
        db_session, admin, added.id, term_en="Calcaneal spur", term_vi="Gai xương gót",
        category="condition", icd10_code="M77.3", aliases=["heel spur"], expected_version=1,
    )  # fmt: skip
    assert (edited.term_en, edited.icd10_code, edited.version) == ("Calcaneal spur", "M77.3", 2)
    assert _names(_search(db_session, "heel spur"))[:1] == ["Calcaneal spur"]
    with pytest.raises(TermEditConflict) as stale:
        terms.update_term(
            db_session, admin, added.id, term_en="Lost edit", term_vi="Mất", category="condition",
            expected_version=1,
        )  # fmt: skip
    assert stale.value.current_version == 2
    assert terms.get_term(db_session, admin, added.id).term_en == "Calcaneal spur"
    entry = db_session.execute(
        select(AuditEntry).where(AuditEntry.action == "term_updated")
    ).scalar_one()
    assert set(entry.details["fields"]) == {"term_en", "term_vi", "icd10_code", "aliases"}


def test_a_retired_term_is_no_longer_offered(db_session: Session) -> None:
    admin = _actor(db_session)
    added = terms.add_term(
        db_session, admin, term_en="Quokka elbow", term_vi="Khuỷu quokka", category="condition"
    )
    assert _names(_search(db_session, "quokka")) == ["Quokka elbow"]
    terms.update_term(
        db_session, admin, added.id, term_en="Quokka elbow", term_vi="Khuỷu quokka",
        category="condition", is_active=False, expected_version=1,
    )  # fmt: skip
    assert _search(db_session, "quokka") == []
    assert terms.get_term(db_session, admin, added.id).is_active is False


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_role_but_patients_may_look_terms_up(db_session: Session, role: Role) -> None:
    actor = _actor(db_session, role)
    term_id = _search(db_session, "knee")[0].id
    if role is Role.PATIENT:
        with pytest.raises(PermissionDenied):
            terms.search_terms(db_session, actor, "knee")
        with pytest.raises(PermissionDenied):
            terms.get_term(db_session, actor, term_id)
    else:
        assert terms.search_terms(db_session, actor, "knee")[0].id == term_id
        assert terms.get_term(db_session, actor, term_id).term_en == "Knee"


@pytest.mark.parametrize("role", list(Role))
def test_only_admins_add_and_edit_terms(db_session: Session, role: Role) -> None:
    actor = _actor(db_session, role)
    knee = terms.get_term(db_session, _actor(db_session), _search(db_session, "knee")[0].id)

    def add() -> object:
        return terms.add_term(
            db_session, actor, term_en="Wombat knee", term_vi="Gối wombat", category="condition"
        )

    def edit() -> object:
        return terms.update_term(
            db_session, actor, knee.id, term_en="Knee", term_vi="Đầu gối", category="anatomy",
            aliases=knee.aliases, expected_version=knee.version,
        )  # fmt: skip

    if role is Role.ADMIN:
        add()
        edit()
    else:
        for operation in (add, edit):
            with pytest.raises(PermissionDenied):
                operation()


# --- the indexes carry it --------------------------------------------------------------------


def _plan(session: Session, statement: object, params: dict[str, object]) -> str:
    sql = "EXPLAIN " + str(statement)
    return "\n".join(session.execute(text(sql), params).scalars())


def test_the_search_reads_through_the_trigram_and_code_indexes(db_session: Session) -> None:
    db_session.execute(
        text(
            "INSERT INTO vietnamese_medical_terms (term_en, term_vi, category, icd10_code)"
            " SELECT 'generated finding ' || i, 'dấu hiệu ' || i, 'symptom', 'R' || (i % 90 + 10)"
            " FROM generate_series(1, 20000) AS i"
        )
    )
    for index in ("search_en", "search_vi", "search_aliases"):
        db_session.execute(
            text(f"SELECT gin_clean_pending_list('ix_vietnamese_medical_terms_{index}_trgm')")
        )
    db_session.execute(text("ANALYZE vietnamese_medical_terms"))
    # A probe that finds too few switches sequential scans off for the index statement,
    # which plans with it off and puts it back as it runs.
    sparse = terms._text_params("low back", 10)
    probed = db_session.execute(terms._PROBE, sparse).mappings().all()
    assert db_session.scalar(text("SHOW enable_seqscan")) == "off"
    for typed in ["low back", "thắt lưng", "lumbago"]:
        statement, params = terms.index_stage(terms.fold(typed))
        plan = _plan(db_session, statement, params)
        assert "ix_vietnamese_medical_terms_search_vi_trgm" in plan, plan
        assert "ix_vietnamese_medical_terms_search_aliases_trgm" in plan, plan
    statement, params = terms.index_stage("low back")
    db_session.execute(statement, params | {"seqscan_before": probed[0]["seqscan_before"]})
    assert db_session.scalar(text("SHOW enable_seqscan")) == "on"
    # (Whether a probe that "finds plenty" leaves the setting alone depends on which rows sit
    # in the table's first pages, and other tests' rolled-back rows leave dead ones there, so
    # that case is not asserted on the shared database.)
    plan = _plan(db_session, terms._ICD_SQL, {"code": "R45", "code_end": "R46", "limit": 10})
    assert "ix_vietnamese_medical_terms_icd10_prefix" in plan, plan
    assert _names(_search(db_session, "lumbago"))[:1] == ["Low back pain"]
    assert len(_search(db_session, "generated finding 1234")) >= 1
