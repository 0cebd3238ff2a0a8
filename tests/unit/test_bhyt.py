"""BHYT card rule (DESIGN §5.1): table-driven cases shared with SQL, problems, properties."""

from __future__ import annotations

import csv
import pickle
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic_tui.domain.bhyt import (
    LEVEL_COVERAGE,
    Card,
    CardCheck,
    CardError,
    CardProblem,
    card_from_parts,
    check_card,
    is_bare_number,
    level_note,
    normalise_card_text,
    parse_card,
    problems_while_typing,
)
from tests.bhyt_cases import CASES, KNOWN_CODES, PROVINCES, BhytCase

P = CardProblem
REF = {"known_codes": KNOWN_CODES, "provinces": PROVINCES}
REFERENCE_CSV = Path(__file__).resolve().parents[3] / "shared/reference/bhyt_object_codes.csv"

# No example database: the tests leave nothing behind in the working tree.
props = settings(database=None, max_examples=200)


# --- the shared data ---------------------------------------------------------------------


def test_provinces_are_63_issuing_codes_plus_97_and_98() -> None:
    assert len(PROVINCES) == 65
    assert all(len(code) == 2 and code.isascii() and code.isdigit() for code in PROVINCES)
    assert {"01", "79", "96", "97", "98"} <= PROVINCES
    assert not {"00", "03", "99"} & PROVINCES


@pytest.mark.skipif(not REFERENCE_CSV.exists(), reason="reference folder not beside the repo")
def test_known_codes_are_real_codes_and_zz_is_not() -> None:
    with REFERENCE_CSV.open(encoding="utf-8") as f:
        real = {row["code"] for row in csv.DictReader(f)}
    assert len(real) == 54
    assert KNOWN_CODES.issubset(real)
    assert "ZZ" not in real


def test_cases_cover_valid_and_invalid_and_are_consistent() -> None:
    assert len({case.text for case in CASES}) == len(CASES), "duplicate case"
    valid = [case for case in CASES if case.is_valid]
    assert len(valid) >= 10 and len(CASES) - len(valid) >= 15
    for case in valid:
        assert case.coverage_percent is not None and case.copay_rate is not None
        assert case.coverage_percent + case.copay_rate == 100
        assert case.beneficiary_category in KNOWN_CODES
    for case in CASES:
        if not case.is_valid:
            assert (case.coverage_percent, case.copay_rate, case.beneficiary_category) == (
                None,
                None,
                None,
            )


# --- check_card over the shared cases ------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[ascii(case.text) for case in CASES])
def test_check_card_gives_the_expected_row(case: BhytCase) -> None:
    result = check_card(case.text, **REF)
    assert result.as_row() == (
        case.is_valid,
        case.coverage_percent,
        case.copay_rate,
        case.beneficiary_category,
    )
    assert (result.problems == ()) is case.is_valid


@pytest.mark.parametrize("case", CASES, ids=[ascii(case.text) for case in CASES])
def test_parse_card_agrees_with_the_cases(case: BhytCase) -> None:
    if case.is_valid:
        card = parse_card(case.text, **REF)
        assert card.object_code == case.beneficiary_category
        assert card.coverage_percent == case.coverage_percent
        assert card.copay_percent == case.copay_rate
    else:
        with pytest.raises(CardError):
            parse_card(case.text, **REF)


def test_the_decomposed_case_really_is_not_nfc() -> None:
    assert not unicodedata.is_normalized("NFC", "\u212ac2 79 1234567890")
    assert check_card("\u212ac2 79 1234567890", **REF).is_valid


def test_check_card_result_shape() -> None:
    assert check_card("DN4791234567890", **REF) == CardCheck(True, 80, 20, "DN", ())
    assert check_card("DN4001234567890", **REF) == CardCheck(False, None, None, None, (P.PROVINCE,))


# --- normalising ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DN4791234567890", "DN4791234567890"),
        ("dn 4 79 1234567890", "DN4791234567890"),
        ("dn-4-79-1234567890", "DN4791234567890"),
        ("dn.4.79.1234.567.890", "DN4791234567890"),
        ("\tdn4\u00a079\n1234567890 ", "DN4791234567890"),  # tab, no-break space, newline
        ("DN\u20134\u201479\u22121234567890", "DN4791234567890"),  # en dash, em dash, minus
        ("\ufeffDN4\u200b791234567890", "DN4791234567890"),  # BOM, zero-width space
        ("\u212ac", "KC"),  # KELVIN SIGN → K by NFC
        ("d\u030c", "\u010e"),  # d + combining caron → Ď: composed, kept, upper-cased
        ("DN\uff14", "DN\uff14"),  # NFC, not NFKC: full-width digit kept
        ("  -.", ""),
    ],
)
def test_normalise_card_text(text: str, expected: str) -> None:
    assert normalise_card_text(text) == expected


# --- parse_card names every wrong part ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", (P.EMPTY,)),
        (" - ", (P.EMPTY,)),
        ("DN4001234567890", (P.PROVINCE,)),
        ("DN4031234567890", (P.PROVINCE,)),
        ("DN4A91234567890", (P.PROVINCE,)),
        ("DN0791234567890", (P.LEVEL,)),
        ("DN6791234567890", (P.LEVEL,)),
        ("ZZ4791234567890", (P.OBJECT_CODE_UNKNOWN,)),
        ("D14791234567890", (P.OBJECT_CODE_FORMAT,)),
        ("DN47912345O7890", (P.NUMBER,)),
        ("DN479123456789", (P.TOO_SHORT,)),
        ("DN47912345678901", (P.TOO_LONG,)),
        # several parts wrong at once, reported together in reading order
        ("ZZ0001234567890", (P.OBJECT_CODE_UNKNOWN, P.LEVEL, P.PROVINCE)),
        ("D1 7 00 12345X7890", (P.OBJECT_CODE_FORMAT, P.LEVEL, P.PROVINCE, P.NUMBER)),
        ("ZZ9", (P.OBJECT_CODE_UNKNOWN, P.LEVEL, P.TOO_SHORT)),
        ("DN4791234X678901", (P.NUMBER, P.TOO_LONG)),
        ("1234567890", (P.OBJECT_CODE_FORMAT, P.TOO_SHORT)),
    ],
)
def test_parse_card_problems(text: str, problems: tuple[CardProblem, ...]) -> None:
    with pytest.raises(CardError) as info:
        parse_card(text, **REF)
    assert info.value.problems == problems
    assert check_card(text, **REF).problems == problems


def test_parse_card_returns_the_parts() -> None:
    assert parse_card("dn-4 79 1234567890", **REF) == Card("DN", 4, "79", "1234567890")


def test_province_00_is_refused_even_if_the_data_lists_it() -> None:
    provinces = PROVINCES | {"00"}
    with pytest.raises(CardError) as info:
        parse_card("DN4001234567890", known_codes=KNOWN_CODES, provinces=provinces)
    assert info.value.problems == (P.PROVINCE,)


def test_reference_data_is_the_callers() -> None:
    text = "ZZ4791234567890"
    assert check_card(text, known_codes={"ZZ"}, provinces={"79"}).is_valid
    assert not check_card(text, known_codes={"ZZ"}, provinces={"01"}).is_valid


def test_card_problem_values_are_lower_snake_codes() -> None:
    assert [problem.value for problem in CardProblem] == [
        "empty",
        "object_code_format",
        "object_code_unknown",
        "level",
        "province",
        "number",
        "too_short",
        "too_long",
    ]


def test_card_error_is_a_value_error_naming_its_problems() -> None:
    error = CardError([P.NUMBER, P.LEVEL, P.NUMBER])
    assert isinstance(error, ValueError)
    assert error.problems == (P.LEVEL, P.NUMBER)  # reading order, no repeats
    assert "level" in str(error) and "number" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is CardError and copy.problems == error.problems


def test_card_error_needs_a_problem() -> None:
    with pytest.raises(ValueError, match="at least one") as info:
        CardError([])
    assert not isinstance(info.value, CardError)


# --- Card -------------------------------------------------------------------------------


def test_card_display_and_compact() -> None:
    card = Card("DN", 4, "79", "1234567890")
    assert card.display == "DN 4 79 1234567890"
    assert card.compact == "DN4791234567890"


@pytest.mark.parametrize(
    ("level", "coverage", "copay"), [(1, 100, 0), (2, 100, 0), (3, 95, 5), (4, 80, 20), (5, 100, 0)]
)
def test_the_printed_level_decides_coverage(level: int, coverage: int, copay: int) -> None:
    card = Card("DN", level, "79", "1234567890")
    assert (card.coverage_percent, card.copay_percent) == (coverage, copay)


def test_level_coverage_table_is_fixed() -> None:
    assert dict(LEVEL_COVERAGE) == {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}
    with pytest.raises(TypeError):
        LEVEL_COVERAGE[4] = 100  # type: ignore[index]


@pytest.mark.parametrize(
    ("parts", "problems"),
    [
        (("dn", 4, "79", "1234567890"), (P.OBJECT_CODE_FORMAT,)),
        (("DN", 6, "79", "1234567890"), (P.LEVEL,)),
        (("DN", True, "79", "1234567890"), (P.LEVEL,)),
        (("DN", "4", "79", "1234567890"), (P.LEVEL,)),
        (("DN", 4, "7", "1234567890"), (P.PROVINCE,)),
        (("DN", 4, "79", "123456789"), (P.NUMBER,)),
        (("D", 0, "7A", "12345678901"), (P.OBJECT_CODE_FORMAT, P.LEVEL, P.PROVINCE, P.NUMBER)),
    ],
)
def test_card_refuses_a_malformed_part(parts: tuple[object, ...], problems: tuple[P, ...]) -> None:
    with pytest.raises(CardError) as info:
        Card(*parts)  # type: ignore[arg-type]
    assert info.value.problems == problems


def test_card_is_frozen() -> None:
    card = Card("DN", 4, "79", "1234567890")
    with pytest.raises(AttributeError):
        card.level = 1  # type: ignore[misc]


# --- card_from_parts (cards issued since April 2021) ----------------------------------------


@pytest.mark.parametrize(
    ("object_code", "level", "province", "number"),
    [
        ("DN", 4, "79", "1234567890"),
        ("dn", "4", "79", "1234567890"),
        (" DN ", " 4 ", " 79 ", "1234 567 890"),
        ("DN", 4, "79", "12-3456-7890"),
    ],
)
def test_card_from_parts(object_code: str, level: int | str, province: str, number: str) -> None:
    card = card_from_parts(object_code, level, province, number, **REF)
    assert card == Card("DN", 4, "79", "1234567890")


@pytest.mark.parametrize(
    ("parts", "problems"),
    [
        (("ZZ", 4, "79", "1234567890"), (P.OBJECT_CODE_UNKNOWN,)),
        (("D", 4, "79", "1234567890"), (P.OBJECT_CODE_FORMAT,)),
        (("D", 0, "79", "1234567890"), (P.OBJECT_CODE_FORMAT, P.LEVEL)),
        (("DNA", 4, "79", "1234567890"), (P.OBJECT_CODE_FORMAT,)),
        (("DN", 0, "79", "1234567890"), (P.LEVEL,)),
        (("DN", "45", "79", "1234567890"), (P.LEVEL,)),
        (("DN", True, "79", "1234567890"), (P.LEVEL,)),
        (("DN", 4, "00", "1234567890"), (P.PROVINCE,)),
        (("DN", 4, "7", "1234567890"), (P.PROVINCE,)),
        (("DN", 4, "79", "123456789"), (P.NUMBER,)),
        (("DN", 4, "79", "12345678901"), (P.NUMBER,)),
        (("DN", 4, "79", "DN4791234567890"), (P.NUMBER,)),
        (
            ("DN", 4, "79", "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660"),
            (P.NUMBER,),
        ),
        (("DN", 4, "\uff17\uff19", "1234567890"), (P.PROVINCE,)),  # full-width 79
        (("", "", "", ""), (P.OBJECT_CODE_FORMAT, P.LEVEL, P.PROVINCE, P.NUMBER)),
        (("ZZ", 9, "03", "12345X7890"), (P.OBJECT_CODE_UNKNOWN, P.LEVEL, P.PROVINCE, P.NUMBER)),
    ],
)
def test_card_from_parts_names_every_wrong_part(
    parts: tuple[str, int | str, str, str], problems: tuple[P, ...]
) -> None:
    with pytest.raises(CardError) as info:
        card_from_parts(*parts, **REF)
    assert info.value.problems == problems


@pytest.mark.parametrize(
    ("text", "bare"),
    [
        ("1234567890", True),
        ("12345 67890", True),
        ("123-456-7890", True),
        ("123456789", False),
        ("12345678901", False),
        ("DN4791234567890", False),
        ("", False),
    ],
)
def test_is_bare_number(text: str, bare: bool) -> None:
    assert is_bare_number(text) is bare


# --- problems_while_typing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", ()),
        ("  ", ()),
        ("d", (P.TOO_SHORT,)),
        ("Z", (P.OBJECT_CODE_UNKNOWN,)),  # no known code starts with Z
        ("1", (P.OBJECT_CODE_FORMAT,)),
        ("DN", (P.TOO_SHORT,)),
        ("DX", (P.OBJECT_CODE_UNKNOWN,)),
        ("D1", (P.OBJECT_CODE_FORMAT,)),
        ("DN9", (P.LEVEL,)),
        ("DN0", (P.LEVEL,)),
        ("DN4", (P.TOO_SHORT,)),
        ("dn 4 0", (P.TOO_SHORT,)),  # 01, 02, … may follow
        ("DN400", (P.PROVINCE,)),
        ("DN403", (P.PROVINCE,)),
        ("DN4A", (P.PROVINCE,)),
        ("DN479", (P.TOO_SHORT,)),
        ("DN4791234", (P.TOO_SHORT,)),
        ("DN47912X", (P.NUMBER,)),
        ("ZZ9", (P.OBJECT_CODE_UNKNOWN, P.LEVEL)),
        ("DX9001", (P.OBJECT_CODE_UNKNOWN, P.LEVEL, P.PROVINCE)),
        ("DN4791234567890", ()),
        ("DN47912345678901", (P.TOO_LONG,)),
        ("DN4001234567890123", (P.PROVINCE, P.TOO_LONG)),
    ],
)
def test_problems_while_typing(text: str, problems: tuple[CardProblem, ...]) -> None:
    assert problems_while_typing(text, **REF) == problems


def test_problems_while_typing_checks_a_partial_province_against_the_data() -> None:
    assert problems_while_typing("DN40", known_codes=KNOWN_CODES, provinces={"79"}) == (P.PROVINCE,)
    assert problems_while_typing("DN40", known_codes=KNOWN_CODES, provinces={"00"}) == (P.PROVINCE,)
    assert problems_while_typing("DN47", known_codes=KNOWN_CODES, provinces={"79"}) == (
        P.TOO_SHORT,
    )


# --- level_note --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "usual_level", "note"),
    [
        ("DN2791234567890", 4, True),
        ("DN4791234567890", 4, False),
        ("TE1011234567890", 1, False),
        ("CC4311234567890", 1, True),
        ("DN2791234567890", None, False),
    ],
)
def test_level_note(text: str, usual_level: int | None, note: bool) -> None:
    assert level_note(parse_card(text, **REF), usual_level) is note


# --- properties --------------------------------------------------------------------------

cards = st.builds(
    Card,
    object_code=st.sampled_from(sorted(KNOWN_CODES)),
    level=st.integers(min_value=1, max_value=5),
    province=st.sampled_from(sorted(PROVINCES)),
    number=st.text(alphabet="0123456789", min_size=10, max_size=10),
)

card_like_text = st.one_of(
    st.text(),
    st.text(alphabet="DNTEHZKCdnx0123456789 -.\u0301\uff14\u212a", max_size=20),
    cards.map(lambda card: card.compact[: len(card.compact) - 1] + "X"),
)


@props
@given(card_like_text)
def test_check_card_never_raises_and_is_consistent(text: str) -> None:
    result = check_card(text, **REF)
    assert result.is_valid is (result.problems == ())
    if result.is_valid:
        assert result.coverage_percent is not None and result.copay_rate is not None
        assert result.coverage_percent + result.copay_rate == 100
        assert result.beneficiary_category in KNOWN_CODES
    else:
        assert result.as_row() == (False, None, None, None)


@props
@given(card_like_text)
def test_check_card_agrees_with_parse_card(text: str) -> None:
    result = check_card(text, **REF)
    try:
        card = parse_card(text, **REF)
    except CardError as error:
        assert error.problems == result.problems
    else:
        assert result.as_row() == (
            True,
            card.coverage_percent,
            card.copay_percent,
            card.object_code,
        )


@props
@given(card_like_text)
def test_problems_while_typing_only_adds_too_short_alone(text: str) -> None:
    typing = problems_while_typing(text, **REF)
    checked = check_card(text, **REF).problems
    length = len(normalise_card_text(text))
    if length == 0:
        assert (typing, checked) == ((), (P.EMPTY,))
    elif length >= 15:
        assert typing == checked
    else:
        others = tuple(problem for problem in checked if problem is not P.TOO_SHORT)
        assert P.TOO_SHORT in checked
        assert typing == (others or (P.TOO_SHORT,))


@props
@given(cards)
def test_display_round_trips_through_parse_card(card: Card) -> None:
    assert parse_card(card.display, **REF) == card
    assert parse_card(card.compact, **REF) == card


@props
@given(cards, st.data())
def test_loose_typing_round_trips(card: Card, data: st.DataObject) -> None:
    separators = st.text(alphabet=" -.\t", max_size=2)
    typed = "".join(
        data.draw(separators) + (char.lower() if data.draw(st.booleans()) else char)
        for char in card.compact
    ) + data.draw(separators)
    assert parse_card(typed, **REF) == card


@props
@given(cards, st.data())
def test_every_prefix_of_a_valid_card_is_only_too_short(card: Card, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=1, max_value=14))
    assert problems_while_typing(card.compact[:cut], **REF) == (P.TOO_SHORT,)
    assert problems_while_typing(card.compact, **REF) == ()


@props
@given(cards)
def test_card_from_parts_rebuilds_the_card(card: Card) -> None:
    spaced = f"{card.number[:4]} {card.number[4:7]} {card.number[7:]}"
    rebuilt = card_from_parts(
        card.object_code.lower(), str(card.level), card.province, spaced, **REF
    )
    assert rebuilt == card
