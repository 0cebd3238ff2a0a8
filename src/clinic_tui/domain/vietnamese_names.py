"""Realistic Vietnamese people data for demo clinics and benchmarks (DESIGN §4.3).

Search speed depends on how names are distributed: a third of the country is called Nguyễn
and a handful of middle names carry most people, so a query such as "nguyen van" matches a
large slice of any realistic table. Uniform random names would hide exactly the cases that
make search slow, hence the weights below.

Pure: no I/O. Every function draws from the `random.Random` passed in, so the same seed gives
the same people. All text is Unicode NFC (the literals are normalised at import in case an
editor decomposed them).
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from collections.abc import Mapping, Sequence
from itertools import accumulate
from types import MappingProxyType
from typing import Final, Generic, TypeVar

T = TypeVar("T")

__all__ = [
    "CITY_PROVINCE_CODES",
    "FAMILY_NAME_WEIGHTS",
    "FEMALE_GIVEN_NAMES",
    "GIVEN_NAMES",
    "MALE_GIVEN_NAMES",
    "WeightedChoice",
    "address",
    "ascii_fold",
    "draw_city",
    "national_id",
    "person_name",
    "phone_number",
    "pick",
]


def _nfc(words: str) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFC", word) for word in words.split())


class WeightedChoice(Generic[T]):
    """Draw from a fixed list with weights: one `random()` and a bisect.

    Several times faster than `random.choices`, which matters when a million patients are
    generated for a benchmark.
    """

    __slots__ = ("_cumulative", "_total", "items")

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items: tuple[T, ...] = tuple(items)
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]
        # random() * total can round up to total itself: the last bucket takes that case.
        self._cumulative[-1] = float("inf")

    def draw(self, rng: random.Random) -> T:
        return self.items[bisect(self._cumulative, rng.random() * self._total)]


def pick(rng: random.Random, items: Sequence[T]) -> T:
    """`rng.choice` without its per-call overhead (the same uniform draw, not the same
    sequence of values)."""
    return items[int(rng.random() * len(items))]


# --- family names ------------------------------------------------------------------------------

# fmt: off
# The measured shares; Hoàng/Huỳnh and Vũ/Võ are one name written two ways (north / south).
_MAJOR_FAMILIES: Final = {
    "Nguyễn": 38.0, "Trần": 11.0, "Lê": 9.5, "Phạm": 7.0, "Hoàng": 3.0, "Huỳnh": 2.0,
    "Phan": 4.5, "Vũ": 2.0, "Võ": 1.9, "Đặng": 2.1, "Bùi": 2.0, "Đỗ": 1.4, "Hồ": 1.3,
    "Ngô": 1.3, "Dương": 1.0, "Lý": 0.5,
}
# The long tail shares what is left; relative sizes only. Đoàn and Doãn are both here so that
# an accent-free "doan" finds two different families.
_MINOR_FAMILIES: Final = {
    "Trương": 9, "Đinh": 8, "Đoàn": 7, "Trịnh": 6, "Hà": 6, "Mai": 5, "Cao": 5, "Lương": 5,
    "Lâm": 5, "Lưu": 3, "Tô": 3, "Châu": 3, "Tạ": 3, "Thái": 3, "Phùng": 3, "Đàm": 3,
    "Chu": 3, "Triệu": 3, "Doãn": 2, "Vương": 2, "La": 2, "Kiều": 2, "Quách": 2, "Lại": 2,
    "Từ": 2, "Tăng": 2, "Nghiêm": 2, "Tôn": 2, "Thân": 2, "Diệp": 2, "Hứa": 2, "Giang": 1.5,
    "Văn": 1.5, "Khúc": 1, "Âu": 1, "Mạc": 1, "Lục": 1, "Ông": 1, "Bạch": 1, "Ninh": 1,
}
# fmt: on


def _family_weights() -> dict[str, float]:
    weights = {unicodedata.normalize("NFC", k): v for k, v in _MAJOR_FAMILIES.items()}
    rest = 100.0 - sum(weights.values())
    tail = sum(_MINOR_FAMILIES.values())
    for name, size in _MINOR_FAMILIES.items():
        weights[unicodedata.normalize("NFC", name)] = round(rest * size / tail, 4)
    return weights


#: Family name → share of the population in percent (the values add up to about 100).
FAMILY_NAME_WEIGHTS: Final[Mapping[str, float]] = MappingProxyType(_family_weights())
_FAMILIES: Final = WeightedChoice(list(FAMILY_NAME_WEIGHTS), list(FAMILY_NAME_WEIGHTS.values()))

# --- middle names ----------------------------------------------------------------------------

# fmt: off
# Weighted: Văn and Thị carry most of the older generations; the rest are common choices.
_MALE_MIDDLE: Final = WeightedChoice(
    _nfc("Văn Đức Minh Hữu Quốc Thanh Hoàng Xuân Công Bảo Gia Anh Tuấn Quang Đình Trọng Thế "
         "Ngọc Duy Hải Tấn Chí Mạnh Việt Trung Nhật Khắc Đăng Phú Thành"),
    [45, 8, 8, 6, 5, 5, 4, 3, 4, 3, 3, 2, 2, 3, 4, 2, 2, 2, 3, 2, 2, 2, 1, 2, 1, 1, 1, 1, 1, 1],
)
_FEMALE_MIDDLE: Final = WeightedChoice(
    _nfc("Thị Ngọc Thu Kim Thanh Minh Hồng Thúy Mai Bảo Gia Phương Mỹ Thùy Khánh Diệu Hoài "
         "Lan Tuyết Bích Hải Quỳnh Như Cẩm Xuân Ánh Hoàng Anh Huyền Tường"),
    [48, 8, 5, 4, 5, 4, 3, 3, 2, 2, 2, 3, 3, 3, 2, 1, 1, 1, 1, 2, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1],
)
# After a first "Văn"/"Thị", a second middle name (Nguyễn Thị Thu Hà, Trần Văn Minh Tuấn).
_MALE_SECOND: Final = _nfc("Minh Quốc Đức Hoàng Thanh Anh Bảo Gia Nhật Hữu")
_FEMALE_SECOND: Final = _nfc("Thu Ngọc Kim Thanh Minh Hồng Mỹ Phương Bích Thùy Diệu Mai Lan")
# fmt: on

# --- given names -----------------------------------------------------------------------------

# The first words of each list are the most common; they get three times the weight.
MALE_GIVEN_NAMES: Final = _nfc(
    "Hùng Dũng Tuấn Minh Nam Hải Long Đức Hiếu Thắng Quang Trung Sơn Cường Phong Huy Tùng "
    "Khánh Thành Việt Anh Bình Hoàng Hưng Quân Phúc Vinh Lâm Kiên Khoa "
    "An Bách Bảo Cảnh Chiến Chính Công Đạt Điền Định Đông Duy Dương Giang Hào Hậu Hiệp "
    "Hòa Học Hợp Khải Khang Khôi Kiệt Lực Lộc Luân Mạnh Nghĩa Nguyên Nhân Nhật Phát Phú "
    "Phước Quốc Quý Sang Tài Tân Thái Thanh Thiện Thịnh Thông Tiến Toàn Toản Trí Trọng "
    "Trường Tú Văn Vũ Vương Bằng Châu Chung Danh Doanh Đăng Đại Hiển Hoan Hoài Huân Huấn "
    "Hướng Kha Khiêm Khương Lập Liêm Lĩnh Lợi Lưu Mẫn Ninh Phi Quyết Quyền Sáng Sỹ Tâm "
    "Thạch Thế Thiên Thuận Thức Tín Tĩnh Trực Tuyên Uy Vĩ Xuân Cương Đoàn Được Hạnh "
    "Hiền Hòe Khiêm Khởi Lễ Lương Mậu Nhạc Quảng Sinh Tạo Thăng Thuyết Tiệp Tuệ Vịnh "
    "Vỹ Yên Nhựt Phụng Tường Hiệu Hữu Kỳ Lam Luật Ngạn Phương Quế Tố"
)
FEMALE_GIVEN_NAMES: Final = _nfc(
    "Anh Linh Hương Trang Hà Thảo Hằng Ngọc Lan Phương Nhung Huyền Mai Thủy Yến Hoa Hạnh "
    "Chi Vy Uyên Giang Hiền Loan Ly Nga Oanh Quỳnh Trâm Tâm Dung "
    "An Ánh Bích Châu Cúc Diễm Diệp Diệu Duyên Hân Hậu Hồng Huệ Hường Khanh Khánh Khuê "
    "Kiều Lam Liên Liễu Loan Lụa My Mỹ Ngân Nghi Nguyệt Nhàn Nhi Như Phượng Quế Quyên "
    "Sương Thanh Thắm Thơ Thu Thùy Thư Thương Thy Tiên Trà Trinh Tuyết Vân Vi Xuân Ngà "
    "Ngoan Nhạn Thoa Thục Thúy Trúc Tú Tươi Hảo Hoài Lệ Lý Minh Na Nương Phấn "
    "Phúc Sen Thi Thoại Thùy Trân Tuyền Vui Yên Đào Điệp Gấm "
    "Hạ Hoàn Hòa Khuyên Kim Liên Lành Lợi Mến My Ngát Nhiên Nhị Nhu Ninh Phụng "
    "Huế Thơm Lài Ngần Dịu Thường Hiên Quyến Sa Sáng Thắng Thảo Thi Thuận Thương Tình "
    "Trang Tuệ Tường Vĩnh"
)


def _given(names: tuple[str, ...], popular: int) -> WeightedChoice:
    unique = tuple(dict.fromkeys(names))  # keep order, drop repeats from the literal
    return WeightedChoice(unique, [3 if i < popular else 1 for i in range(len(unique))])


_MALE_GIVEN: Final = _given(MALE_GIVEN_NAMES, 30)
_FEMALE_GIVEN: Final = _given(FEMALE_GIVEN_NAMES, 30)
#: Every distinct given name either gender can draw.
GIVEN_NAMES: Final = frozenset(_MALE_GIVEN.items) | frozenset(_FEMALE_GIVEN.items)


def person_name(rng: random.Random, gender: str) -> str:
    """A full name, family name first: "Nguyễn Thị Thu Hà", "Trần Văn Minh".

    ``gender`` is MALE, FEMALE or OTHER (OTHER draws a name of either kind).
    """
    if gender == "MALE":
        female = False
    elif gender == "FEMALE":
        female = True
    else:
        female = rng.random() < 0.5
    family = _FAMILIES.draw(rng)
    if female:
        middle = _FEMALE_MIDDLE.draw(rng)
        if middle == "Thị" and rng.random() < 0.3:
            middle = f"{middle} {pick(rng, _FEMALE_SECOND)}"
        given = _FEMALE_GIVEN.draw(rng)
    else:
        middle = _MALE_MIDDLE.draw(rng)
        if middle == "Văn" and rng.random() < 0.04:
            middle = f"{middle} {pick(rng, _MALE_SECOND)}"
        given = _MALE_GIVEN.draw(rng)
    if given == middle:  # "Minh Minh" is not a name anyone is given
        given = (_FEMALE_GIVEN if female else _MALE_GIVEN).draw(rng)
    return f"{family} {middle} {given}"


# --- phones and identity cards -----------------------------------------------------------------

# Mobile prefixes by carrier, weighted by market share (Viettel, Vinaphone, MobiFone, the rest).
_PHONE_PREFIXES: Final = WeightedChoice(
    _nfc(
        "086 096 097 098 032 033 034 035 036 037 038 039 "  # Viettel
        "088 091 094 081 082 083 084 085 "  # Vinaphone
        "089 090 093 070 076 077 078 079 "  # MobiFone
        "092 056 058 099 059 087"  # Vietnamobile, Gmobile, iTel
    ),
    [5] * 12 + [4] * 8 + [3.5] * 8 + [1.5] * 6,
)


def phone_number(rng: random.Random) -> str:
    """A 10-digit mobile number with a real carrier prefix: "0912345678"."""
    return f"{_PHONE_PREFIXES.draw(rng)}{int(rng.random() * 10_000_000):07d}"


def national_id(rng: random.Random, birth_year: int, gender: str, province_code: str | int) -> str:
    """A 12-digit citizen identity card (CCCD) number.

    Layout: the birth province's 3-digit code, one digit for gender and century of birth
    (1900s: 0 male, 1 female; 2000s: 2/3; 2100s: 4/5), the last two digits of the birth
    year, then six random digits. OTHER is written as either, like on a real card.
    """
    female = gender == "FEMALE" or (gender not in ("MALE", "FEMALE") and rng.random() < 0.5)
    century = max(0, min(2, (birth_year - 1900) // 100))
    province = f"{int(province_code):03d}"
    serial = int(rng.random() * 1_000_000)
    return f"{province}{century * 2 + female}{birth_year % 100:02d}{serial:06d}"


# --- addresses ---------------------------------------------------------------------------------

# fmt: off
# (city, weight, districts with a few of their wards, streets): streets are city-wide so a
# street may land in a district it does not cross; good enough for demo data.
_CITIES: Final[tuple[tuple[str, float, dict[str, tuple[str, ...]], tuple[str, ...]], ...]] = (
    ("TP Hồ Chí Minh", 40, {
        "Quận 1": _nfc("Bến_Nghé Bến_Thành Đa_Kao Tân_Định Cầu_Ông_Lãnh"),
        "Quận 3": _nfc("Võ_Thị_Sáu Phường_9 Phường_11 Phường_14"),
        "Quận 5": _nfc("Phường_2 Phường_7 Phường_11 Phường_14"),
        "Quận 10": _nfc("Phường_12 Phường_14 Phường_15"),
        "Quận Bình Thạnh": _nfc("Phường_13 Phường_17 Phường_25 Phường_26"),
        "Quận Gò Vấp": _nfc("Phường_5 Phường_10 Phường_16"),
        "Quận Tân Bình": _nfc("Phường_2 Phường_4 Phường_13"),
        "Quận Phú Nhuận": _nfc("Phường_7 Phường_9 Phường_15"),
        "TP Thủ Đức": _nfc("Thảo_Điền An_Phú Hiệp_Bình_Chánh Linh_Trung"),
    }, _nfc(
        "Nguyễn_Trãi Lê_Lợi Hai_Bà_Trưng Điện_Biên_Phủ Cách_Mạng_Tháng_Tám Nguyễn_Thị_Minh_Khai "
        "Võ_Văn_Tần Lý_Thường_Kiệt Phan_Xích_Long Nguyễn_Văn_Cừ Trần_Hưng_Đạo Xô_Viết_Nghệ_Tĩnh "
        "Phan_Văn_Trị Quang_Trung Hoàng_Văn_Thụ Lê_Văn_Sỹ Nguyễn_Oanh Võ_Văn_Ngân")),
    ("Hà Nội", 30, {
        "Quận Ba Đình": _nfc("Kim_Mã Ngọc_Hà Thành_Công Liễu_Giai"),
        "Quận Hoàn Kiếm": _nfc("Hàng_Bạc Hàng_Trống Tràng_Tiền Cửa_Nam"),
        "Quận Đống Đa": _nfc("Láng_Hạ Ô_Chợ_Dừa Trung_Liệt Văn_Miếu"),
        "Quận Cầu Giấy": _nfc("Dịch_Vọng Nghĩa_Đô Quan_Hoa Yên_Hòa"),
        "Quận Hai Bà Trưng": _nfc("Bách_Khoa Minh_Khai Thanh_Nhàn Vĩnh_Tuy"),
        "Quận Thanh Xuân": _nfc("Khương_Trung Nhân_Chính Thượng_Đình"),
        "Quận Hà Đông": _nfc("Mỗ_Lao Văn_Quán Vạn_Phúc"),
        "Quận Long Biên": _nfc("Bồ_Đề Ngọc_Lâm Gia_Thụy"),
    }, _nfc(
        "Láng_Hạ Kim_Mã Giải_Phóng Xã_Đàn Tôn_Đức_Thắng Nguyễn_Chí_Thanh Cầu_Giấy Trần_Duy_Hưng "
        "Bạch_Mai Minh_Khai Nguyễn_Trãi Lạc_Long_Quân Hoàng_Quốc_Việt Phạm_Văn_Đồng Tây_Sơn "
        "Nguyễn_Văn_Cừ Quang_Trung Đội_Cấn")),
    ("Đà Nẵng", 10, {
        "Quận Hải Châu": _nfc("Hải_Châu_1 Thạch_Thang Hòa_Cường_Bắc Bình_Hiên"),
        "Quận Thanh Khê": _nfc("Tân_Chính Chính_Gián Thạc_Gián"),
        "Quận Sơn Trà": _nfc("An_Hải_Bắc Phước_Mỹ Mân_Thái"),
        "Quận Ngũ Hành Sơn": _nfc("Mỹ_An Khuê_Mỹ Hòa_Hải"),
    }, _nfc(
        "Bạch_Đằng Lê_Duẩn Nguyễn_Văn_Linh Hùng_Vương Ông_Ích_Khiêm Điện_Biên_Phủ Võ_Nguyên_Giáp "
        "Ngô_Quyền Phan_Châu_Trinh Nguyễn_Tri_Phương")),
    ("Hải Phòng", 8, {
        "Quận Lê Chân": _nfc("An_Biên Dư_Hàng Trại_Cau"),
        "Quận Ngô Quyền": _nfc("Máy_Tơ Lạch_Tray Đằng_Giang"),
        "Quận Hồng Bàng": _nfc("Hoàng_Văn_Thụ Minh_Khai Quang_Trung"),
    }, _nfc("Lạch_Tray Trần_Nguyên_Hãn Tô_Hiệu Lê_Lợi Điện_Biên_Phủ Văn_Cao Hai_Bà_Trưng")),
    ("Cần Thơ", 7, {
        "Quận Ninh Kiều": _nfc("Tân_An An_Hòa Xuân_Khánh Hưng_Lợi"),
        "Quận Bình Thủy": _nfc("Bình_Thủy An_Thới Trà_Nóc"),
    }, _nfc("Nguyễn_Văn_Cừ 30_Tháng_4 Trần_Hưng_Đạo Mậu_Thân Hòa_Bình 3_Tháng_2")),
    ("Huế", 5, {
        "Phường Phú Hội": (), "Phường Vĩnh Ninh": (), "Phường Thuận Thành": (),
    }, _nfc("Lê_Lợi Hùng_Vương Nguyễn_Huệ Trần_Hưng_Đạo Lê_Duẩn Bà_Triệu")),
)
# fmt: on
_CITY_PICK: Final = WeightedChoice([city[0] for city in _CITIES], [city[1] for city in _CITIES])
_CITY_DATA: Final = {city[0]: city for city in _CITIES}
#: The built-in cities and their administrative codes (BHYT issuing office, CCCD prefix).
CITY_PROVINCE_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "TP Hồ Chí Minh": "79",
        "Hà Nội": "01",
        "Đà Nẵng": "48",
        "Hải Phòng": "31",
        "Cần Thơ": "92",
        "Huế": "46",
    }
)


def draw_city(rng: random.Random) -> str:
    """One of `CITY_PROVINCE_CODES`, drawn by population."""
    return _CITY_PICK.draw(rng)


def _words(text: str) -> str:
    return text.replace("_", " ")


def address(rng: random.Random, city: str | None = None) -> str:
    """A street address in Vietnamese: "123 Nguyễn Trãi, Phường 7, Quận 5, TP Hồ Chí Minh".

    ``city`` picks one of the built-in cities; by default one is drawn by population.
    """
    name, _weight, districts, streets = _CITY_DATA[city or _CITY_PICK.draw(rng)]
    number = str(1 + int(rng.random() * 420))
    if rng.random() < 0.25:  # an alley off the street: 45/12 or Ngõ 12 in the north
        alley = 2 + int(rng.random() * 179)
        number = f"Số {number} ngõ {alley}" if name == "Hà Nội" else f"{alley}/{number}"
    street = _words(pick(rng, streets))
    district = pick(rng, tuple(districts))
    wards = districts[district]
    parts = [f"{number} {street}"]
    if wards:
        ward = _words(pick(rng, wards))
        parts.append(ward if ward.startswith("Phường") else f"Phường {ward}")
    parts += [district, name]
    return ", ".join(parts)


# --- accent folding ----------------------------------------------------------------------------


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0x00C0, 0x1F00):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii() and base.isalpha():
            table[code] = base
    return table


_FOLD: Final = _fold_table()


def ascii_fold(text: str) -> str:
    """Drop the accents, Đ → D: "Nguyễn Đức" → "Nguyen Duc" (for e-mail addresses)."""
    return text.translate(_FOLD)
