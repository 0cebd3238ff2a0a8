"""Table-driven BHYT card cases shared by the Python rule and its SQL twin.

``clinic_tui.domain.bhyt.check_card`` (unit tests) and the SQL function
``validate_bhyt_card(card)`` (database tests) must both give, for every case, the row
(is_valid, coverage_percent, copay_rate, beneficiary_category); an invalid card gives
``(False, None, None, None)``.

Plain data, no imports from the app, no files read: the reference folder beside the repo is not
there on CI. So that the same expectations hold against the seeded rules table:

- every code in ``KNOWN_CODES`` is a real code of ``bhyt_object_codes.csv`` (seeded active), and
  every code a case expects to be unknown (``ZZ``) is in neither;
- no case depends on province 98, which is unconfirmed and admin-editable data.

Normalising, in this order: Unicode NFC, upper case, drop whitespace, dashes and dots (the
Python rule also drops Unicode hyphens/dashes U+2010–U+2015, U+2212, U+200B and U+FEFF; no case
here depends on those). NFC, not NFKC: full-width digits stay invalid.
"""

from __future__ import annotations

from typing import NamedTuple

#: Codes the cases use; all of them real codes of the reference list (usual level in comments).
KNOWN_CODES: frozenset[str] = frozenset(
    {
        "DN",  # 4 employees of enterprises
        "HC",  # 4 civil servants
        "HT",  # 3 pensioners
        "TE",  # 1 children under 6
        "CN",  # 2 near-poor households (3 before 2026)
        "GD",  # 4 household-based participants
        "HS",  # 4 pupils
        "QN",  # 5 active-duty military
        "CC",  # 1 revolution contributors
        "KC",  # 2 resistance participants
    }
)

#: The 63 issuing codes of QĐ 124/2004/QĐ-TTg (01 Hà Nội … 96 Cà Mau, with gaps), then 97
#: (military social insurance) and 98 (police, commonly cited, unconfirmed).
PROVINCES: frozenset[str] = frozenset(
    """
    01 02 04 06 08 10 11 12 14 15 17 19 20 22 24 25 26 27 30 31 33 34 35 36 37 38 40 42 44 45
    46 48 49 51 52 54 56 58 60 62 64 66 67 68 70 72 74 75 77 79 80 82 83 84 86 87 89 91 92 93
    94 95 96
    97 98
    """.split()  # noqa: SIM905 -- laid out as the legal list reads
)


class BhytCase(NamedTuple):
    text: str
    is_valid: bool
    coverage_percent: int | None
    copay_rate: int | None
    beneficiary_category: str | None


def _invalid(text: str) -> BhytCase:
    return BhytCase(text, False, None, None, None)


CASES: list[BhytCase] = [
    # valid: the printed level decides coverage
    BhytCase("DN4791234567890", True, 80, 20, "DN"),
    BhytCase("TE1011234567890", True, 100, 0, "TE"),
    BhytCase("HT3011234567890", True, 95, 5, "HT"),
    BhytCase("DN2791234567890", True, 100, 0, "DN"),  # DN is usually 4: a note, not an error
    BhytCase("CC4311234567890", True, 80, 20, "CC"),  # CC is usually 1
    BhytCase("QN5970123456789", True, 100, 0, "QN"),  # level 5, military office 97
    BhytCase("HS4960000000001", True, 80, 20, "HS"),  # 96 Cà Mau, the last province code
    # valid: typed loosely
    BhytCase("dn4 79 1234567890", True, 80, 20, "DN"),
    BhytCase("DN-4-79-1234567890", True, 80, 20, "DN"),
    BhytCase("Dn.4.79.1234567890", True, 80, 20, "DN"),
    BhytCase("  hc 4 01 12345 67890  ", True, 80, 20, "HC"),
    BhytCase("gd4\t01-123.456 7890", True, 80, 20, "GD"),
    # not NFC, lower case: K written as KELVIN SIGN (U+212A), which NFC maps to K
    BhytCase("\u212ac2 79 1234567890", True, 100, 0, "KC"),
    # invalid: province
    _invalid("DN4001234567890"),  # 00 is never an issuing code
    _invalid("DN4031234567890"),  # 03 is a gap in the list
    _invalid("DN4991234567890"),  # 99 is not in the list
    _invalid("DN4A91234567890"),  # not digits
    # invalid: level
    _invalid("DN0791234567890"),
    _invalid("DN6791234567890"),
    _invalid("DNX791234567890"),
    _invalid("DN\uff14791234567890"),  # FULLWIDTH DIGIT FOUR: NFC keeps it, so not a level
    # invalid: object code
    _invalid("ZZ4791234567890"),  # two letters, but not a known code
    _invalid("D14791234567890"),  # not two letters
    _invalid("d\u030cn4791234567890"),  # d + COMBINING CARON: NFC makes "ď", not a letter A–Z
    # invalid: length and number
    _invalid("DN479123456789"),  # 14 characters
    _invalid("DN47912345678901"),  # 16 characters
    _invalid("1234567890"),  # the bare post-2021 number is not a whole card
    _invalid("DN47912345O7890"),  # letter O in the number
    _invalid("DN479123456789X"),
    _invalid("DN479\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660"),  # Arabic-Indic
    _invalid("DN479123456789\u00b2"),  # SUPERSCRIPT TWO: a digit to Unicode, not to a card
    # invalid: nothing
    _invalid(""),
    _invalid("  - . "),
]
