"""Realistic Vietnamese names and identifiers for demo data (DESIGN §4.3)."""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic_tui.domain.vietnamese_names import (
    CITY_PROVINCE_CODES,
    FAMILY_NAME_WEIGHTS,
    FEMALE_GIVEN_NAMES,
    GIVEN_NAMES,
    MALE_GIVEN_NAMES,
    WeightedChoice,
    address,
    ascii_fold,
    national_id,
    person_name,
    phone_number,
)

SAMPLES = 20_000
# Real carrier prefixes (Viettel, Vinaphone, MobiFone, Vietnamobile, Gmobile, iTel).
PHONE = re.compile(r"^0(3[2-9]|5[689]|7[06-9]|8[1-9]|9[0-9])[0-9]{7}$")


def _words(text: str) -> list[str]:
    return text.split()


def _is_nfc(text: str) -> bool:
    return unicodedata.normalize("NFC", text) == text


@pytest.fixture(scope="module")
def names() -> list[str]:
    rng = random.Random(20261122)
    genders = ("MALE", "FEMALE")
    return [person_name(rng, genders[i % 2]) for i in range(SAMPLES)]


@pytest.fixture(scope="module")
def families(names: list[str]) -> Counter[str]:
    return Counter(name.split()[0] for name in names)


def _share(families: Counter[str], *family: str) -> float:
    return 100 * sum(families[name] for name in family) / SAMPLES


@pytest.mark.parametrize(
    ("family", "low", "high"),
    [
        (("Nguyễn",), 34, 42),
        (("Trần",), 9, 13),
        (("Lê",), 8, 11),
        (("Phạm",), 5.5, 8.5),
        (("Hoàng", "Huỳnh"), 4, 6),
        (("Phan",), 3.5, 5.5),
        (("Vũ", "Võ"), 3, 4.8),
        (("Đặng",), 1.6, 2.6),
        (("Bùi",), 1.5, 2.5),
        (("Đỗ",), 1, 1.8),
        (("Hồ",), 0.9, 1.7),
        (("Ngô",), 0.9, 1.7),
        (("Dương",), 0.7, 1.3),
        (("Lý",), 0.3, 0.8),
    ],
    ids=lambda value: "+".join(value) if isinstance(value, tuple) else str(value),
)
def test_family_names_follow_the_real_distribution(
    families: Counter[str], family: tuple[str, ...], low: float, high: float
) -> None:
    assert low <= _share(families, *family) <= high


def test_the_long_tail_takes_the_rest(families: Counter[str]) -> None:
    major = _words("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý")
    assert 9 <= 100 - _share(families, *major) <= 14
    assert len(families) >= 40  # Đoàn, Trương, Đinh, Lâm, Mai, … all turn up


def test_weights_are_percentages_and_cover_the_minor_families() -> None:
    assert sum(FAMILY_NAME_WEIGHTS.values()) == pytest.approx(100, abs=0.01)
    minor = _words("Đoàn Doãn Trương Đinh Lâm Mai Tô Châu Tạ Cao Lương Hà Thái Vương Phùng La")
    for family in [*minor, "Kiều", "Quách"]:
        assert FAMILY_NAME_WEIGHTS[family] > 0


def test_doan_matches_two_families_without_accents() -> None:
    folded = {ascii_fold(family).lower() for family in ("Đoàn", "Doãn")}
    assert folded == {"doan"}
    assert ascii_fold("Nguyễn Thị Ánh Đức Ỷ") == "Nguyen Thi Anh Duc Y"


def test_every_name_is_nfc_with_diacritics(names: list[str]) -> None:
    assert all(_is_nfc(name) for name in names)
    assert all(_is_nfc(name) for name in (*FAMILY_NAME_WEIGHTS, *GIVEN_NAMES))
    assert all(3 <= len(name.split()) <= 4 for name in names)
    assert sum(ascii_fold(name) != name for name in names) / SAMPLES > 0.9


def test_there_are_a_few_hundred_given_names(names: list[str]) -> None:
    assert len(GIVEN_NAMES) >= 250
    assert len(set(MALE_GIVEN_NAMES)) >= 120 and len(set(FEMALE_GIVEN_NAMES)) >= 120
    common = _words(
        "An Anh Bình Chi Cường Dũng Giang Hà Hải Hạnh Hằng Hiếu Hoa Hùng Hương Khánh Lan Linh "
        "Long Mai Minh Nam Ngọc Nhung Phong Phúc Phương Quang Quân Sơn Tâm Thảo Thành Thắng "
        "Trang Trung Tuấn Tú Uyên Việt Vy Yến"
    )
    assert set(common) <= GIVEN_NAMES
    assert len({name.split()[-1] for name in names}) >= 200  # most of them actually drawn


def test_middle_names_concentrate_and_follow_gender(names: list[str]) -> None:
    male, female = names[0::2], names[1::2]
    male_middle = Counter(name.split()[1] for name in male)
    female_middle = Counter(name.split()[1] for name in female)
    assert male_middle["Văn"] / len(male) > 0.25
    assert female_middle["Thị"] / len(female) > 0.3
    assert male_middle["Thị"] == 0 and female_middle["Văn"] == 0
    top_five = sum(count for _name, count in male_middle.most_common(5))
    assert top_five / len(male) > 0.5
    assert any(len(name.split()) == 4 for name in female)  # Nguyễn Thị Thu Hà


def test_other_gender_gets_a_name_of_either_kind() -> None:
    rng = random.Random(3)
    middles = Counter(person_name(rng, "OTHER").split()[1] for _ in range(2000))
    assert middles["Văn"] > 0 and middles["Thị"] > 0


def test_same_seed_same_people() -> None:
    def people(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [
            f"{person_name(rng, 'FEMALE')}|{phone_number(rng)}|{address(rng)}|"
            f"{national_id(rng, 1980, 'MALE', '79')}"
            for _ in range(200)
        ]

    assert people(7) == people(7)
    assert people(7) != people(8)


def test_phone_numbers_are_ten_digit_mobiles_with_carrier_prefixes() -> None:
    rng = random.Random(11)
    numbers = [phone_number(rng) for _ in range(5000)]
    assert all(PHONE.match(number) for number in numbers), numbers[:5]
    prefixes = Counter(number[:3] for number in numbers)
    assert len(prefixes) >= 30  # every carrier shows up
    assert prefixes["096"] > prefixes["059"]  # Viettel outnumbers Gmobile


@pytest.mark.parametrize(
    ("year", "gender", "province", "start"),
    [
        (1985, "MALE", "79", "079085"),
        (1985, "FEMALE", "79", "079185"),
        (2005, "MALE", "01", "001205"),
        (2010, "FEMALE", 48, "048310"),
        (1936, "FEMALE", "001", "001136"),
    ],
)
def test_national_id_layout(year: int, gender: str, province: str | int, start: str) -> None:
    number = national_id(random.Random(1), year, gender, province)
    assert re.fullmatch(r"[0-9]{12}", number)
    assert number.startswith(start)


@given(st.integers(0, 2**32), st.integers(1900, 2099), st.sampled_from(["MALE", "FEMALE"]))
def test_national_id_always_twelve_digits(seed: int, year: int, gender: str) -> None:
    number = national_id(random.Random(seed), year, gender, "92")
    assert len(number) == 12 and number.isdigit()
    female = gender == "FEMALE"
    assert int(number[3]) == (year - 1900) // 100 * 2 + female


def test_addresses_read_as_vietnamese_addresses() -> None:
    rng = random.Random(5)
    addresses = [address(rng) for _ in range(2000)]
    assert all(_is_nfc(text) for text in addresses)
    assert all(len(text.split(", ")) >= 3 for text in addresses)
    assert all(text.split(", ")[-1] in CITY_PROVINCE_CODES for text in addresses)
    assert all(text[0].isdigit() or text.startswith("Số ") for text in addresses)
    assert any("Quận" in text for text in addresses)
    assert any("Phường" in text for text in addresses)
    assert all("\t" not in text and "\\" not in text for text in addresses)  # COPY-safe
    assert address(random.Random(1), "Hà Nội").endswith(", Hà Nội")


def test_weighted_choice_follows_its_weights() -> None:
    rng = random.Random(2)
    choice = WeightedChoice(("a", "b"), (3, 1))
    counts = Counter(choice.draw(rng) for _ in range(20_000))
    assert 0.72 <= counts["a"] / 20_000 <= 0.78
