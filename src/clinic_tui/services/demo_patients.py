"""Demo patients and their insurance rows, for `clinic_tui.services.demo`.

Patients are numbered ``BN-DEMO-000001``, ``BN-DEMO-000002``, … (not the production sequence
``patient_code_seq``): the prefix marks demo data, so a rerun counts what exists and adds only
the shortfall, and real registrations never collide with it.

Rows are plain tuples in the column orders below, generated from one seeded generator;
`demo_load` writes them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from clinic_tui.domain import vietnamese_names as names
from clinic_tui.domain.bhyt import LEVEL_COVERAGE
from clinic_tui.domain.vietnamese_names import WeightedChoice, pick

DEMO_CODE_PREFIX: Final = "BN-DEMO-"

PATIENT_COLUMNS: Final = (
    "id", "patient_code", "full_name", "date_of_birth", "gender", "phone", "email",
    "national_id", "address", "medical_history", "alerts", "emergency_contact_name",
    "emergency_contact_phone",
)  # fmt: skip
INSURANCE_COLUMNS: Final = (
    "patient_id", "provider_type", "provider_name", "policy_number", "valid_from", "valid_to",
    "is_primary", "bhyt_card_number", "bhyt_prefix_code", "bhyt_benefit_level",
    "bhyt_coverage_percent", "bhyt_copay_rate", "province_code", "registered_facility_code",
    "registered_facility_name", "five_year_continuous_from",
)  # fmt: skip

BHYT_PROVIDER: Final = "Bảo hiểm xã hội Việt Nam"

# fmt: off
# (lowest age, first age past the band, weight): a physiotherapy clinic sees mostly adults
# with back, joint and post-stroke problems, and some children.
_AGE_BANDS: Final = ((3, 6, 4), (6, 18, 8), (18, 30, 13), (30, 45, 22), (45, 60, 25),
                     (60, 75, 20), (75, 90, 8))
# Object codes by age band (see seeds/0015_bhyt_object_codes.csv): TE under 6, HS pupils,
# SV students, DN/HC/GD working age, HT pensioners, CT over 80, CB/KC veterans, …
_CODES_BY_AGE: Final = (
    (6, {"TE": 1}),
    (18, {"HS": 85, "HN": 6, "DT": 4, "CN": 5}),
    (23, {"SV": 55, "DN": 20, "GD": 15, "HN": 5, "CN": 5}),
    (60, {"DN": 50, "HC": 12, "GD": 18, "GB": 5, "HN": 3, "CN": 4, "QN": 2, "CA": 2,
          "TQ": 1, "TA": 1, "HD": 1, "DK": 1}),
    (80, {"HT": 55, "GD": 15, "CB": 6, "KC": 5, "HN": 4, "CN": 4, "CC": 2, "BT": 3, "XN": 2,
          "DN": 4}),
    (200, {"CT": 35, "HT": 40, "CB": 8, "KC": 7, "CC": 5, "GD": 5}),
)
# Issuing offices: the big cities dominate a city clinic's patients.
_PROVINCE_WEIGHTS: Final = {"79": 30, "01": 25, "48": 7, "31": 5, "92": 4, "74": 4, "75": 4,
                            "46": 3, "77": 2, "56": 2, "38": 2, "40": 2, "36": 1.5, "34": 1.5,
                            "80": 1.5, "82": 1, "89": 1, "52": 1, "66": 1, "68": 1, "97": 0.5}
_FACILITIES: Final = {
    "79": (("79024", "Bệnh viện Nhân dân 115"), ("79033", "Bệnh viện Nguyễn Tri Phương"),
           ("79471", "Trạm Y tế Phường 14, Quận 10"), ("79009", "Bệnh viện Nhân dân Gia Định")),
    "01": (("01013", "Bệnh viện Bạch Mai"), ("01029", "Bệnh viện Đa khoa Xanh Pôn"),
           ("01104", "Trung tâm Y tế quận Đống Đa"), ("01050", "Bệnh viện Thanh Nhàn")),
    "48": (("48001", "Bệnh viện Đà Nẵng"), ("48117", "Trung tâm Y tế quận Hải Châu")),
}
_HISTORY: Final = (
    "Tăng huyết áp", "Đái tháo đường type 2", "Thoái hóa cột sống cổ", "Thoát vị đĩa đệm L4-L5",
    "Loãng xương", "Viêm khớp dạng thấp", "Gout", "Tai biến mạch máu não năm 2023",
    "Mổ tái tạo dây chằng chéo trước", "Thay khớp háng", "Hen phế quản", "Rối loạn lipid máu",
    "Gãy đầu dưới xương quay", "Bệnh Parkinson", "Suy tim độ II",
)
_ALERTS: Final = (
    "Dị ứng penicillin", "Nguy cơ ngã cao", "Máy tạo nhịp tim: không dùng điện trị liệu",
    "Loãng xương nặng: tránh lực mạnh", "Đang dùng thuốc chống đông",
)
_PRIVATE_INSURERS: Final = ("Bảo Việt", "PVI", "Bảo Minh", "Manulife", "Liberty")
_MAIL_DOMAINS: Final = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com")
# fmt: on


@dataclass(frozen=True)
class Reference:
    """What the generator needs from the database's reference tables."""

    code_levels: dict[str, int]  # active object code → its usual level
    provinces: dict[str, str]  # active issuing code → Vietnamese name


@dataclass(frozen=True, slots=True)
class PoolPatient:
    """A new patient, as scheduling and billing need to know it."""

    id: uuid.UUID
    age: int
    card: str | None
    coverage: int  # percent, 0 without a BHYT card
    valid_from: date | None
    valid_to: date | None


def load_reference(session: Session) -> Reference:
    # Read at run time, like validate_bhyt_card does, so every card we print passes it.
    codes = session.execute(
        text(
            "SELECT object_code, usual_level FROM bhyt_validation_rules WHERE is_active"
            " AND (active_from IS NULL OR active_from <= current_date)"
            " AND (active_to IS NULL OR active_to >= current_date)"
        )
    ).all()
    provinces = session.execute(
        text("SELECT code, name_vi FROM bhyt_provinces WHERE is_active AND code <> '00'")
    ).all()
    if not codes or not provinces:
        raise RuntimeError("BHYT reference data is missing: run the migrations first")
    return Reference({c: int(level) for c, level in codes}, dict(provinces))


def existing_demo_patients(session: Session) -> tuple[int, int]:
    """(how many demo patients exist, the highest number used)."""
    row = session.execute(
        text(
            "SELECT count(*), coalesce(max(substr(patient_code, :start)::int), 0) FROM patients"
            " WHERE patient_code LIKE :prefix AND substr(patient_code, :start) ~ '^[0-9]+$'"
        ),
        {"prefix": DEMO_CODE_PREFIX + "%", "start": len(DEMO_CODE_PREFIX) + 1},
    ).one()
    return int(row[0]), int(row[1])


def _ordered_id(number: int, rng: random.Random) -> uuid.UUID:
    """A version-8 (custom layout, RFC 9562) UUID whose top 48 bits are the patient number.

    Consecutive patients get increasing keys, so a million-row load appends to the right
    edge of the primary-key index (and the cards' foreign-key lookups stay in cache) instead
    of touching random pages: about a tenth faster. The version differs from the database's
    own gen_random_uuid() (version 4), so the two can never collide.
    """
    random_bits = rng.getrandbits(74)
    high, low = random_bits >> 62, random_bits & ((1 << 62) - 1)
    return uuid.UUID(int=(number << 80) | (0x8 << 76) | (high << 64) | (0b10 << 62) | low)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


class PatientFactory:
    """Makes one patient (and its insurance rows) at a time from a seeded generator.

    Written for speed (a million patients for the search benchmark): draws use
    `WeightedChoice` and ``int(random() * n)`` rather than `random.choices` / `randrange`.
    """

    def __init__(self, rng: random.Random, today: date, reference: Reference) -> None:
        self.rng, self.today, self.ref = rng, today, reference
        self._today_ordinal = today.toordinal()
        self._codes = [(limit, self._allowed(table)) for limit, table in _CODES_BY_AGE]
        provinces = {k: w for k, w in _PROVINCE_WEIGHTS.items() if k in reference.provinces}
        provinces = provinces or dict.fromkeys(reference.provinces, 1.0)
        self._provinces = WeightedChoice(list(provinces), list(provinces.values()))
        self._ages = WeightedChoice([band[:2] for band in _AGE_BANDS], [b[2] for b in _AGE_BANDS])
        # For each age, the birthdays that give exactly that age today (first ordinal, days):
        # a child drawn as 5 is never 6 by the calendar, so TE cards go to under-sixes only.
        self._birthdays: dict[int, tuple[int, int]] = {}
        for age in range(_AGE_BANDS[-1][1] + 1):
            latest = _years_before(today, age)
            earliest = _years_before(today, age + 1) + timedelta(days=1)
            self._birthdays[age] = (earliest.toordinal(), (latest - earliest).days + 1)

    def _allowed(self, table: Mapping[str, float]) -> WeightedChoice[str]:
        # Only codes the database accepts today, so every card passes validate_bhyt_card.
        kept = {k: w for k, w in table.items() if k in self.ref.code_levels}
        if not kept:
            kept = dict.fromkeys(self.ref.code_levels, 1.0)
        return WeightedChoice(list(kept), list(kept.values()))

    def make(self, number: int) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        rng = self.rng
        chance = rng.random
        roll = chance()
        gender = "FEMALE" if roll < 0.54 else ("MALE" if roll < 0.995 else "OTHER")
        low, high = self._ages.draw(rng)
        age = low + int(chance() * (high - low))
        earliest, span = self._birthdays[age]
        born = date.fromordinal(earliest + int(chance() * span))
        full_name = names.person_name(rng, gender)
        city = names.draw_city(rng)
        home = names.CITY_PROVINCE_CODES[city]
        if home not in self.ref.provinces:
            home = self._provinces.draw(rng)
        email = None
        if 16 <= age <= 65 and chance() < 0.35:
            words = names.ascii_fold(full_name).lower().split()
            email = f"{words[-1]}.{words[0]}{int(chance() * 100)}@{pick(rng, _MAIL_DOMAINS)}"
        patient_id = _ordered_id(number, rng)
        contact: tuple[str | None, str | None] = (None, None)
        if chance() < 0.75:
            relative = "MALE" if chance() < 0.5 else "FEMALE"
            contact = (names.person_name(rng, relative), names.phone_number(rng))
        row = (
            patient_id,
            f"{DEMO_CODE_PREFIX}{number:06d}",
            full_name,
            born,
            gender,
            names.phone_number(rng) if chance() < 0.93 else None,
            email,
            names.national_id(rng, born.year, gender, home)
            if age >= 14 and chance() < 0.97
            else None,
            names.address(rng, city) if chance() < 0.96 else None,
            "; ".join(rng.sample(_HISTORY, 1 + (chance() < 0.3))) if chance() < 0.35 else None,
            pick(rng, _ALERTS) if chance() < 0.05 else None,
            *contact,
        )
        insurance: list[tuple[Any, ...]] = []
        insured = 0.95 if age < 6 else (0.85 if age < 18 else 0.69)
        if chance() < insured:
            insurance.append(self._bhyt(patient_id, age, born, home if chance() < 0.8 else None))
        if age >= 18 and chance() < 0.04:
            insurance.append(self._private(patient_id, primary=not insurance))
        return row, insurance

    def pool_member(self, row: tuple[Any, ...], cards: list[tuple[Any, ...]]) -> PoolPatient:
        age = int((self._today_ordinal - row[3].toordinal()) / 365.2425)  # near enough here
        for card in cards:
            if card[1] == "BHYT":
                return PoolPatient(row[0], age, card[7], int(card[10]), card[4], card[5])
        return PoolPatient(row[0], age, None, 0, None, None)

    def _bhyt(
        self, patient_id: uuid.UUID, age: int, born: date, province: str | None
    ) -> tuple[Any, ...]:
        rng, today = self.rng, self.today
        chance = rng.random
        table = next(weights for limit, weights in self._codes if age < limit)
        code = table.draw(rng)
        level = self.ref.code_levels[code]
        if chance() < 0.07:  # printed with the level of a better-covered category
            level = pick(rng, [other for other in (1, 2, 3, 4, 5) if other != level])
        province = province or self._provinces.draw(rng)
        number = f"{province}{int(chance() * 10**8):08d}"  # the social-insurance number
        card = f"{code}{level}{province}{number}"
        if code == "TE":  # a child's card runs from birth to the day before it turns six
            valid_from = born
            valid_to = _years_before(born, -6) - timedelta(days=1)
        elif chance() < 0.11:  # lapsed: a clear warning at the desk, no coverage
            valid_to = today - timedelta(days=1 + int(chance() * 240))
            valid_from = valid_to - timedelta(days=364)
        else:
            valid_from = today - timedelta(days=int(chance() * 331))
            years = 5 if code in ("HT", "CT", "CC") and chance() < 0.2 else 1
            valid_to = valid_from + timedelta(days=365 * years - 1)
        facility: tuple[str | None, str | None] = (None, None)
        if chance() < 0.45:
            known = _FACILITIES.get(province)
            if known:
                facility = pick(rng, known)
            elif province != "97":
                facility = (
                    f"{province}{1 + int(chance() * 299):03d}",
                    f"Trung tâm Y tế {self.ref.provinces[province]}",
                )
        continuous = None
        if age >= 30 and chance() < 0.2:
            continuous = today + timedelta(days=int(chance() * 2200) - 1500)
        coverage = LEVEL_COVERAGE[level]
        return (
            patient_id, "BHYT", BHYT_PROVIDER, number, valid_from, valid_to, True, card, code,
            level, _PERCENT[coverage], _PERCENT[100 - coverage], province, *facility, continuous,
        )  # fmt: skip

    def _private(self, patient_id: uuid.UUID, *, primary: bool) -> tuple[Any, ...]:
        rng = self.rng
        insurer = pick(rng, _PRIVATE_INSURERS)
        start = self.today - timedelta(days=int(rng.random() * 300))
        policy = f"{names.ascii_fold(insurer).upper()[:3]}-{int(rng.random() * 10**8):08d}"
        return (
            patient_id, "PRIVATE", insurer, policy, start, start + timedelta(days=364), primary,
            None, None, None, None, None, None, None, None, None,
        )  # fmt: skip


_PERCENT: Final = {value: Decimal(value) for value in (0, 5, 20, 80, 95, 100)}


Rows = Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]


def generate(factory: PatientFactory, first_number: int, count: int) -> Rows:
    for number in range(first_number, first_number + count):
        yield factory.make(number)
