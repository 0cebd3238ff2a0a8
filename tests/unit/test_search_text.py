"""What the patient search box makes of typed text (DESIGN §4.3): folding, phones, query kinds,
Vietnamese order, one-edit typos. The database side of `fold` is in tests/db."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_tui.domain.search_text import (
    MAX_QUERY_LENGTH,
    QueryKind,
    SearchQuery,
    fold,
    normalise_phone,
    parse_query,
    vietnamese_sort_key,
    within_one_edit,
)

# --- fold ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Nguyễn Văn An", "nguyen van an"),
        ("ĐOÀN Doãn Đặng", "doan doan dang"),
        ("Trần Thị Ánh Tuyết", "tran thi anh tuyet"),
        ("Lưu Hữu Phước", "luu huu phuoc"),
        ("Huỳnh Thị Mỹ Ngọc", "huynh thi my ngoc"),
        ("  two  spaces ", "  two  spaces "),  # spacing is the database's business too
    ],
)
def test_fold_removes_accents_and_case(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_composes_decomposed_input_first() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Đức Thắng")
    assert decomposed != "Nguyễn Đức Thắng"
    assert fold(decomposed) == "nguyen duc thang"


@given(
    st.text(
        alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọ"
        "ồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ ",
        max_size=30,
    )
)
def test_fold_of_vietnamese_is_plain_ascii_of_the_same_length(text: str) -> None:
    folded = fold(text)
    assert folded.isascii()
    assert len(folded) == len(text)
    assert fold(text.upper()) == folded


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("0084 912 345 678", "0912345678"),
        ("+84 (0) 912 345 678", "0912345678"),
        ("(028) 3829 1234", "02838291234"),
        ("０９１２３４５６７８", "0912345678"),  # full-width digits from an IME
        ("+1 555 0100", "15550100"),
        ("0845 123 456", "0845123456"),  # 084 is a Vinaphone prefix, not the country code
        ("+849", "09"),
    ],
)
def test_normalise_phone(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["", "   ", "abc", "0912abc", "+", "09 12 x"])
def test_normalise_phone_refuses_what_is_not_a_phone(typed: str) -> None:
    assert normalise_phone(typed) is None


# --- query kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("0912", QueryKind.PHONE, "0912"),
        ("+84912", QueryKind.PHONE, "0912"),
        ("+84 912 345 678", QueryKind.PHONE, "0912345678"),
        ("84912345678", QueryKind.PHONE, "0912345678"),
        ("0912.345.678", QueryKind.PHONE, "0912345678"),
        ("079123456789", QueryKind.NATIONAL_ID, "079123456789"),  # 12 digits: a CCCD
        ("001 095 012 345", QueryKind.NATIONAL_ID, "001095012345"),
        ("BN-2026-000123", QueryKind.PATIENT_CODE, "BN-2026-000123"),
        ("bn2026000123", QueryKind.PATIENT_CODE, "BN-2026-000123"),
        ("bn 2026", QueryKind.PATIENT_CODE, "BN-2026"),
        ("bn-demo-000001", QueryKind.PATIENT_CODE, "BN-DEMO-000001"),
        ("DN 4 79 1234567890", QueryKind.CARD, "DN4791234567890"),
        ("dn-479-1234567890", QueryKind.CARD, "DN4791234567890"),
        ("dn4791", QueryKind.CARD, "DN4791"),  # a card's start
        ("7912345678", QueryKind.CARD, "7912345678"),  # a post-2021 card's number alone
        ("nguyen van an", QueryKind.NAME, "nguyen van an"),
    ],
)
def test_parse_query_kinds(typed: str, kind: QueryKind, value: str) -> None:
    query = parse_query(typed)
    assert (query.kind, query.value) == (kind, value)


def test_a_name_is_folded_into_words_in_any_case() -> None:
    expected = SearchQuery(QueryKind.NAME, "nguyen van an", ("nguyen", "van", "an"))
    assert parse_query("NGUYỄN văn AN") == expected
    assert parse_query("  Nguyễn   Văn,An ") == expected
    assert parse_query(unicodedata.normalize("NFD", "Nguyễn Văn An")) == expected


@pytest.mark.parametrize("typed", ["", "   ", "\t\n", "\x00", ", ;"])
def test_nothing_to_search(typed: str) -> None:
    assert parse_query(typed).kind is QueryKind.EMPTY


@pytest.mark.parametrize("typed", ["09", "dn479", "12345"])
def test_too_short_identifiers_are_not_identifiers(typed: str) -> None:
    # Two digits would be a tenth of all phones; five characters are not yet a card.
    assert parse_query(typed).kind is QueryKind.NAME


def test_hostile_text_is_kept_literally_as_name_words() -> None:
    query = parse_query("'; DROP TABLE patients; --")
    assert query.kind is QueryKind.NAME
    assert query.tokens == ("'", "drop", "table", "patients", "--")
    assert parse_query("50%_off\\").tokens == ("50%_off\\",)


def test_control_characters_and_length_are_tamed() -> None:
    query = parse_query("an\x00nguyen")
    assert query.tokens == ("an", "nguyen")
    assert len(parse_query("a" * 10_000).value) == MAX_QUERY_LENGTH


@given(st.text(max_size=300))
def test_parse_query_never_raises_and_never_keeps_nul(text: str) -> None:
    query = parse_query(text)
    assert "\x00" not in query.value
    assert all(token and " " not in token for token in query.tokens)


# --- Vietnamese order ------------------------------------------------------------------------


def test_given_name_first_then_family_then_middle() -> None:
    names = ["Trần Văn Bình", "Nguyễn Thị An", "Lê Văn An", "Nguyễn Văn An", "Nguyễn An"]
    assert sorted(names, key=vietnamese_sort_key) == [
        "Lê Văn An",
        "Nguyễn An",
        "Nguyễn Thị An",
        "Nguyễn Văn An",
        "Trần Văn Bình",
    ]


def test_accents_only_break_ties() -> None:
    names = ["Đoàn Văn Hải", "Doãn Văn Hải", "Doan Văn Hai", "Lê Ân", "Lê An", "Lê Ấn"]
    assert sorted(names, key=vietnamese_sort_key) == [
        "Lê An",
        "Lê Ân",  # â after a, level tone first
        "Lê Ấn",
        "Doan Văn Hai",
        "Doãn Văn Hải",  # d before đ
        "Đoàn Văn Hải",
    ]


# --- typos -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "word", "close"),
    [
        ("ngyuen", "nguyen", True),  # neighbours swapped
        ("vna", "van", True),
        ("nguyn", "nguyen", True),  # one left out
        ("nguyeen", "nguyen", True),  # one too many
        ("nguyan", "nguyen", True),  # one wrong
        ("nguyen", "nguyen", True),
        ("ngyeun", "nguyen", False),  # two edits
        ("hogn", "hoang", False),
        ("an", "anh", True),
        ("an", "binh", False),
    ],
)
def test_within_one_edit(typed: str, word: str, close: bool) -> None:
    assert within_one_edit(typed, word) is close
    assert within_one_edit(word, typed) is close
