"""What the receptionist typed into the patient search, made comparable with the database.

One box finds patients by name, phone, patient code, national id or BHYT card (DESIGN §4.3):
`parse_query` decides which, `fold` makes names accent-free exactly as the database's
``f_unaccent(lower(x))`` does (so the Python and SQL sides of a comparison agree),
`normalise_phone` turns ``+84 912 345 678`` into ``0912345678``, and `vietnamese_sort_key`
orders names the Vietnamese way (given name first).

Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

from clinic_tui.domain.bhyt import CARD_LENGTH, NUMBER_LENGTH, normalise_card_text
from clinic_tui.domain.vietnamese_names import ascii_fold

__all__ = [
    "MAX_QUERY_LENGTH",
    "MAX_TOKENS",
    "QueryKind",
    "SearchQuery",
    "fold",
    "normalise_phone",
    "parse_query",
    "vietnamese_sort_key",
    "within_one_edit",
]

#: Longer input is cut: no name is longer, and a pasted page must not become a huge query.
MAX_QUERY_LENGTH: Final = 200
#: Name words looked at; Vietnamese names have two to five.
MAX_TOKENS: Final = 8
NATIONAL_ID_LENGTH: Final = 12
#: A phone prefix needs this many digits before it is searched (fewer match a tenth of all).
MIN_PHONE_DIGITS: Final = 3
MIN_CARD_LENGTH: Final = 6

# Letters PostgreSQL's unaccent rules map that have no Unicode decomposition (ascii_fold
# covers every letter that decomposes, and đ).
_EXTRA_FOLD: Final = str.maketrans(
    {"ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ŧ": "t", "ı": "i", "æ": "ae", "œ": "oe", "ß": "ss",
     "\x00": None}
)  # fmt: skip
_PHONE_SEPARATORS: Final = re.compile(r"[\s.\-()/\u2010-\u2015]")
_CODE: Final = re.compile(r"BN(?:[\s\-]*[0-9A-Z][0-9A-Z\s\-]*)?")
_CARD: Final = re.compile(r"[A-Z]{2}[0-9]+")
_WORD_SEPARATORS: Final = re.compile(r"[\s,;.]+")


def _clean(text: str) -> str:
    """NFC, control characters (NUL among them: PostgreSQL refuses it) and lone surrogates
    (UTF-8 cannot carry them to the database) turned into spaces; invisible format
    characters (zero-width spaces, joiners, BOMs, direction marks that come with pasted
    text) dropped, as the patient form drops them from what it stores."""
    text = "".join(
        " " if category in ("Cc", "Cs") else "" if category == "Cf" else char
        for char, category in (
            (char, unicodedata.category(char)) for char in text[: MAX_QUERY_LENGTH * 2]
        )
    )
    text = unicodedata.normalize("NFC", text)
    return text.strip()[:MAX_QUERY_LENGTH]


def fold(text: str) -> str:
    """Accent-free lower case, equal to PostgreSQL's ``f_unaccent(lower(text))`` for
    Vietnamese: "Nguyễn Văn Đoàn" → "nguyen van doan". Spacing is kept as it is.

    NUL is dropped: PostgreSQL refuses it in any text, so no stored value holds one, and a
    folded key is sent to the database as typed by whoever calls this."""
    return ascii_fold(unicodedata.normalize("NFC", text).lower()).translate(_EXTRA_FOLD)


def normalise_phone(text: str) -> str | None:
    """A Vietnamese phone number (or the start of one) as stored: digits, national format.

    "+84 912 345 678", "84912345678", "0084 912…" and "0912.345.678" all give "0912345678"; a
    "(0)" after the country code is dropped. Anything else is kept as its digits (a foreign
    "+1 555…" gives "1555…"). None when the text is not a phone number at all.
    """
    compact = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits or not (digits.isascii() and digits.isdigit()):
        return None
    if digits.startswith("00"):  # the international prefix, as "+"
        digits = digits[2:]
    # A national number always starts with 0, so digits starting with 84 are the country code.
    if digits.startswith("84"):
        rest = digits[2:]
        return "0" + (rest[1:] if rest.startswith("0") else rest)
    return digits


class QueryKind(StrEnum):
    EMPTY = "empty"
    PHONE = "phone"  # value: a phone prefix, national format ("0912")
    PATIENT_CODE = "patient_code"  # value: the code or its start, canonical ("BN-2026-0001")
    NATIONAL_ID = "national_id"  # value: 12 digits (a phone prefix too when it starts with 0)
    CARD = "card"  # value: a card number or its start ("DN479"), or a bare 10-digit number
    NAME = "name"  # value: the folded words joined by one space; tokens: the words


@dataclass(frozen=True)
class SearchQuery:
    kind: QueryKind
    value: str
    tokens: tuple[str, ...] = ()


def _patient_code(upper: str) -> str:
    """ "bn2026000123", "BN 2026 000123" → "BN-2026-000123" (codes are BN-<4>-<number>)."""
    compact = re.sub(r"[\s\-]", "", upper)
    head, middle, tail = compact[:2], compact[2:6], compact[6:]
    return head + (f"-{middle}" if middle else "") + (f"-{tail}" if tail else "")


def _digits_query(compact: str) -> SearchQuery | None:
    """Phone, national id or bare card number typed as digits (separators dropped)."""
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isascii() or not digits.isdigit():
        return None
    if not plus and len(digits) == NATIONAL_ID_LENGTH:
        # CCCD numbers start with a province code (001, 079, …): exactly 12 digits is an id;
        # the service also tries it as a phone prefix when it starts with 0.
        return SearchQuery(QueryKind.NATIONAL_ID, digits)
    if not plus and len(digits) == NUMBER_LENGTH and not digits.startswith("0"):
        return SearchQuery(QueryKind.CARD, digits)  # the social-insurance number alone
    if plus or digits.startswith(("0", "84")):
        phone = normalise_phone(compact)
        if phone is not None and len(digits) >= MIN_PHONE_DIGITS:
            return SearchQuery(QueryKind.PHONE, phone)
    return None


def parse_query(text: str) -> SearchQuery:
    """Decide what was typed. Never raises: anything that is not a phone, code, id or card is
    a name (which may simply find nobody)."""
    clean = _clean(text)
    if not clean:
        return SearchQuery(QueryKind.EMPTY, "")
    upper = clean.upper()
    if _CODE.fullmatch(upper):
        return SearchQuery(QueryKind.PATIENT_CODE, _patient_code(upper))
    found = _digits_query(_PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", clean)))
    if found is not None:
        return found
    card = normalise_card_text(clean)
    if card.isascii() and _CARD.fullmatch(card) and len(card) >= MIN_CARD_LENGTH:
        # One character past a card's length is kept so an over-long entry matches nothing.
        return SearchQuery(QueryKind.CARD, card[: CARD_LENGTH + 1])
    tokens = tuple(word for word in _WORD_SEPARATORS.split(fold(clean)) if word)[:MAX_TOKENS]
    if not tokens:
        return SearchQuery(QueryKind.EMPTY, "")
    return SearchQuery(QueryKind.NAME, " ".join(tokens), tokens)


# --- Vietnamese order ------------------------------------------------------------------------

# Letters of the alphabet that carry a mark: a < ă < â, e < ê, o < ô < ơ, u < ư, d < đ.
_MODIFIERS: Final = {"\u0306": 1, "\u0302": 2, "\u031b": 3}
# Tones in dictionary order: level (none), huyền, hỏi, ngã, sắc, nặng.
_TONES: Final = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _accent_key(word: str) -> tuple[tuple[tuple[str, int], ...], tuple[int, ...]]:
    """Letters with their marks, then the tones: the tie-break between names that fold the
    same ("Doãn" before "Đoàn", "Lan" before "Lân")."""
    letters: list[tuple[str, int]] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", word.lower()):
        if char in _MODIFIERS and letters:
            letters[-1] = (letters[-1][0], _MODIFIERS[char])
        elif char in _TONES:
            tones.append(_TONES[char])
        elif char == "đ":
            letters.append(("d", 1))
        elif not unicodedata.combining(char):
            letters.append((char, 0))
    return tuple(letters), tuple(tones)


# Names repeat (a clinic has many Nguyễn Văn An) and every search sorts its candidates.
@lru_cache(maxsize=4096)
def vietnamese_sort_key(full_name: str) -> tuple[object, ...]:
    """Sort key for names, Vietnamese style: given name (the last word) first, then family
    name (the first word), then the middle names; accent-free first, accents break ties."""
    words = unicodedata.normalize("NFC", full_name).split()
    ordered = [words[-1], *words[:-1]] if words else []  # given, family, middle names
    return (
        tuple(fold(word) for word in ordered),
        tuple(_accent_key(word) for word in ordered),
        full_name,
    )


# --- typos -----------------------------------------------------------------------------------


def within_one_edit(typed: str, word: str) -> bool:
    """True when ``typed`` becomes ``word`` by at most one insertion, deletion, substitution
    or swap of neighbouring letters (optimal string alignment distance ≤ 1)."""
    if typed == word:
        return True
    if abs(len(typed) - len(word)) > 1:
        return False
    if len(typed) == len(word):
        diffs = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and typed[diffs[0]] == word[diffs[1]]
            and typed[diffs[1]] == word[diffs[0]]
        )
    short, long = (typed, word) if len(typed) < len(word) else (word, typed)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
