"""Find patients as the receptionist types (DESIGN §4.3; issue 5): by name with or without
accents and in any word order, by phone prefix, patient code, national id or BHYT card.

Never ranks the whole table: at a million patients "nguyen" alone matches a third of it. A
name is looked up in stages, each an index lookup with its own LIMIT, and a stage runs only
while fewer than ``limit`` patients have been found:

1. the exact accent-free name (``search_key = :q``), and names starting with what was typed
   (a range on the byte-ordered btree); a single word is also looked up as a given name;
2. names in which every typed word starts a word, in any order ("an nguyen"), first as whole
   words, then as prefixes: ``f_name_word_prefixes(search_key) @> :words`` on a GIN index,
   whose cost follows the rarest word (revision 0018);
3. only when nobody matched, a misspelt word ("ngyuen", "nguyen vna an"): the words of
   patients' names that start with the typed word's first or second letter are listed from
   the name-part btrees (a few dozen index probes, revision 0018), a known word one edit
   away replaces the unknown one, and stages 1–2 run again with it. (Comparing the whole
   name by trigram similarity, ``search_key % :q``, reads a third of the table for a query
   with "nguyen" in it and misses "ngyuen" altogether: similarity 0.27.)

The few candidates are then ranked here: 0 exact full name, 1 every typed word starts a word
of the name, 2 the rest; ties in Vietnamese order (given name first). Their card and last
visit come in one more query over those ids (LEFT JOIN LATERAL). Phone, code, id and card
lookups are btree lookups, answered with the card and last visit in a single statement.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Row,
    Select,
    Subquery,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from clinic_tui.config import CLINIC_TIMEZONE
from clinic_tui.domain.bhyt import CARD_LENGTH, NUMBER_LENGTH, normalise_card_text
from clinic_tui.domain.search_text import (
    QueryKind,
    SearchQuery,
    fold,
    normalise_phone,
    parse_query,
    vietnamese_sort_key,
    within_one_edit,
)
from clinic_tui.models import Appointment, InsuranceInfo, Patient
from clinic_tui.services.access import Actor, Permission, require

__all__ = ["CardStatus", "PatientHit", "card_holder", "search", "similar_patients"]

CardStatus = Literal["valid", "expired", "none"]

_PATIENTS: Final = cast(Table, Patient.__table__)
_INSURANCE: Final = cast(Table, InsuranceInfo.__table__)
_APPOINTMENTS: Final = cast(Table, Appointment.__table__)
#: Appointments that count as a visit.
VISITED: Final = ("COMPLETED", "CHECKED_IN")
#: Shorter words are corrected only by a swap or a wrong letter: "an" → "anh", "ai", "n", …
#: would be guessing, not correcting.
MIN_TYPO_WORD: Final = 3
#: The misspelling stage needs this many letters in the whole query: one edit away from a
#: shorter one is half the names of the clinic.
MIN_TYPO_LETTERS: Final = 4
#: Spelling variants tried, at most (they are searched together, in the same statements).
MAX_VARIANTS: Final = 3
#: A phone is "the same" only when complete (10 digits mobile, 11 landline).
MIN_FULL_PHONE: Final = 10


@dataclass(frozen=True)
class PatientHit:
    """One patient as the result list shows them. Plain data, safe to pass between threads."""

    id: uuid.UUID
    patient_code: str
    full_name: str  # with its accents, as stored
    date_of_birth: date
    gender: str
    phone: str | None
    card_number: str | None  # the BHYT card (15 characters, stored form), primary row first
    card_valid_to: date | None
    card_status: CardStatus  # "expired" when valid_to is before today
    last_visit: date | None  # latest completed or checked-in appointment
    rank: int  # 0 exact full name, 1 every typed word starts a word of the name, 2 other

    def age(self, today: date) -> int:
        born = self.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class _Candidate:
    id: uuid.UUID
    full_name: str
    rank: int


def _today() -> date:
    return datetime.now(CLINIC_TIMEZONE).date()


def _like_prefix(value: str) -> str:
    """A LIKE pattern matching values that start with ``value`` taken literally."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _starts_with(column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
    return column.like(_like_prefix(value), escape="\\")


# --- names -----------------------------------------------------------------------------------

_KEY = _PATIENTS.c.search_key
# The expression of ix_patients_name_words, typed as an array so ``contains`` means ``@>``.
_WORDS = type_coerce(func.f_name_word_prefixes(_KEY), ARRAY(Text))
_NAME_COLUMNS = (_PATIENTS.c.id, _PATIENTS.c.full_name, _KEY)


def _key_starts_with(value: str) -> ColumnElement[bool]:
    """``search_key`` starts with ``value``, as a range in byte order (text_pattern_ops):
    value ≤ key < value with its last character incremented. Not LIKE: the planner may then
    prefer the trigram index, which for "a%" collects every name with a word starting with
    "a" (44,000 at a million patients) before the LIMIT applies."""
    last = ord(value[-1])
    if last >= 0x10FFFF:
        return _starts_with(_KEY, value)
    following = value[:-1] + chr(last + 1)
    return and_(
        _KEY.op("~>=~", is_comparison=True)(value), _KEY.op("~<~", is_comparison=True)(following)
    )


def _name_rank(tokens: Sequence[str], search_key: str) -> int:
    """0 when the typed words are the whole name, 1 when each starts a word of the name (in
    any order), else 2. ``tokens`` are folded words; ``search_key`` the folded name."""
    words = search_key.split()
    if list(tokens) == words:
        return 0
    if all(any(word.startswith(token) for word in words) for token in tokens):
        return 1
    return 2


def _name_stages(
    session: Session, spellings: Sequence[Sequence[str]], limit: int
) -> dict[uuid.UUID, tuple[str, str]]:
    """The index stages for one or more spellings of the typed words; id → (full name,
    search key), in the order found. At most three statements, each with its own LIMIT."""
    found: dict[uuid.UUID, tuple[str, str]] = {}

    def take(statement: Select[Any]) -> None:
        for row in session.execute(statement):
            found.setdefault(row.id, (row.full_name, row.search_key))

    # Exact key, then key prefix (btree, text_pattern_ops), in one round trip.
    branches: list[Select[Any]] = []
    for tokens in spellings:
        value = " ".join(tokens)
        branches.append(select(*_NAME_COLUMNS).where(_PATIENTS.c.search_key == value).limit(limit))
        branches.append(select(*_NAME_COLUMNS).where(_key_starts_with(value)).limit(limit))
    take(cast(Select[Any], union_all(*branches)))
    # One word alone is most often a given name ("hung"): its btree answers with a LIMIT,
    # where the GIN index would first collect every name holding the word. (With several
    # words, filtering one given name's rows by the others costs more than the GIN stage.)
    if len(found) < limit and all(len(tokens) == 1 for tokens in spellings):
        take(cast(Select[Any], union_all(*(_given_name(t[0], limit) for t in spellings))))
    # Every word starts a word, any order (GIN). Whole words first, so "an nguyen" shows the
    # Ans before the Anhs; the last typed word may still be half typed, hence the second pass.
    for whole in (True, False):
        if len(found) >= limit:
            break
        wanted = [[f"{t} " if whole else t for t in tokens] for tokens in spellings]
        condition = or_(*(_WORDS.contains(words) for words in wanted))
        take(select(*_NAME_COLUMNS).where(condition).limit(limit))
    return found


def _given_name(word: str, limit: int) -> Select[Any]:
    """Names whose given name (last word) is ``word`` or, for a word of letters a–z, starts
    with it (it may still be being typed): a range on ix_patients_name_given."""
    given = func.f_name_given(_KEY)
    if not (word.isascii() and word.isalpha()):
        return select(*_NAME_COLUMNS).where(given == word).limit(limit)
    following = word[:-1] + chr(ord(word[-1]) + 1)  # "hun" → "huo": the end of the range
    return select(*_NAME_COLUMNS).where(given >= word, given < following).limit(limit)


def _name_part_walk(part: str) -> Select[Any]:
    """The distinct values of one name-part index (revision 0018) that start with any of the
    letters in the ``letters`` parameter: a recursive walk, one index probe per distinct
    value (a few dozen per letter), instead of reading rows."""
    letters = (
        func.unnest(bindparam("letters", type_=ARRAY(Text)))
        .table_valued("letter")
        .render_derived("letters")
    )

    def next_word(after: ColumnElement[str], letter: ColumnElement[str], *, first: bool) -> Any:
        patients = _PATIENTS.alias()
        value = getattr(func, part)(patients.c.search_key)
        lower = value >= after if first else value > after
        # Upper bound: the next letter, so each walk stays within its own letter.
        upper = value < func.chr(func.ascii(letter) + 1)
        return select(value).where(lower, upper).order_by(value).limit(1).scalar_subquery()

    start = select(
        letters.c.letter.label("letter"),
        next_word(letters.c.letter, letters.c.letter, first=True).label("word"),
    )
    walk = start.cte(f"walk_{part}", recursive=True)
    step = select(walk.c.letter, next_word(walk.c.word, walk.c.letter, first=False))
    walk = walk.union_all(step.where(walk.c.word.is_not(None)))
    return select(walk.c.word).where(walk.c.word.is_not(None))


# Built once: its shape never changes (the letters are a parameter), so SQLAlchemy compiles
# it once and the server plans it cheaply.
_VOCABULARY = union_all(
    *(_name_part_walk(part) for part in ("f_name_family", "f_name_middle", "f_name_given"))
)


def _vocabulary(session: Session, letters: Iterable[str]) -> set[str]:
    """Words used in patients' names (family, first middle and given names) starting with
    the given letters."""
    wanted = sorted(set(letters))
    if not wanted:
        return set()
    return set(session.execute(_VOCABULARY, {"letters": wanted}).scalars())


def _fixes(token: str, vocabulary: set[str]) -> list[str]:
    """Known spellings one edit away from ``token``: whole words; failing those, the start of
    a word (the token may be half typed: "ngyu" → "nguy"). A short token ("na") is only
    corrected by a swap or a wrong letter: adding or dropping one would fit too many words."""
    short = len(token) < MIN_TYPO_WORD
    words = [
        word
        for word in vocabulary
        if within_one_edit(token, word) and not (short and len(word) != len(token))
    ]
    if words or short:
        # A swap or a wrong letter (same length) is likelier than a missing or extra one.
        return sorted(words, key=lambda word: (abs(len(word) - len(token)), word))
    starts = {
        word[:size]
        for word in vocabulary
        for size in (len(token) - 1, len(token), len(token) + 1)
        if 0 < size < len(word) and within_one_edit(token, word[:size])
    }
    return sorted(starts, key=lambda start: (abs(len(start) - len(token)), start))


def _spelling_variants(session: Session, tokens: Sequence[str]) -> list[tuple[str, ...]]:
    """Other spellings of the query in which each unknown word is replaced by a known word
    one edit away; empty when an unknown word cannot be corrected."""
    # Only words of letters a–z are names that can be misspelt; anything else ("'", "--",
    # "09", "nguy\\") found nothing and never will, so the walk is not worth its time.
    if not all(token.isascii() and token.isalpha() for token in tokens):
        return []
    # Words starting with each token's first or second letter: the second covers a typo in
    # the first letter that swaps it with the next one, or adds one ("na" → "an").
    vocabulary = _vocabulary(session, {token[i] for token in tokens for i in (0, 1)[: len(token)]})
    choices: list[list[str]] = []
    for token in tokens:
        if any(word.startswith(token) for word in vocabulary):
            choices.append([token])
            continue
        fixes = _fixes(token, vocabulary)
        if not fixes:
            return []
        choices.append(fixes[:MAX_VARIANTS])
    variants = [variant for variant in itertools.product(*choices) if variant != tuple(tokens)]
    return variants[:MAX_VARIANTS]


def _by_name(session: Session, query: SearchQuery, limit: int) -> list[_Candidate]:
    tokens = query.tokens
    found = _name_stages(session, [tokens], limit)
    letters = sum(char.isalpha() for char in query.value)
    # The misspelling stage runs only when nobody matched: a single match proves every typed
    # word starts a word of some patient's name, so there is nothing to correct.
    if not found and letters >= MIN_TYPO_LETTERS:
        variants = _spelling_variants(session, tokens)
        if variants:
            found = _name_stages(session, variants, limit)
    return [
        _Candidate(patient_id, name, _name_rank(tokens, key))
        for patient_id, (name, key) in found.items()
    ]


# --- the rows shown ----------------------------------------------------------------------------

# The BHYT card shown: the primary row first, then the one valid longest.
_CARD = (
    select(_INSURANCE.c.bhyt_card_number, _INSURANCE.c.valid_to)
    .where(_INSURANCE.c.patient_id == _PATIENTS.c.id, _INSURANCE.c.bhyt_card_number.is_not(None))
    .order_by(_INSURANCE.c.is_primary.desc(), _INSURANCE.c.valid_to.desc().nulls_last())
    .limit(1)
    .lateral("card")
)
_VISIT = (
    select(func.max(_APPOINTMENTS.c.appointment_date).label("last_visit"))
    .where(_APPOINTMENTS.c.patient_id == _PATIENTS.c.id, _APPOINTMENTS.c.status.in_(VISITED))
    .lateral("visit")
)
_DETAILS = (
    _PATIENTS.c.id,
    _PATIENTS.c.patient_code,
    _PATIENTS.c.full_name,
    _PATIENTS.c.date_of_birth,
    _PATIENTS.c.gender,
    _PATIENTS.c.phone,
    _CARD.c.bhyt_card_number,
    _CARD.c.valid_to,
    _VISIT.c.last_visit,
)


def _with_details(found: Subquery | None) -> Select[Any]:
    """What a hit shows, card and last visit by LEFT JOIN LATERAL: for the patients of
    ``found`` (columns id and rank), or for the whole table when None (the caller filters)."""
    if found is None:
        source: FromClause = _PATIENTS
        columns: tuple[Any, ...] = _DETAILS
    else:
        source = found.join(_PATIENTS, _PATIENTS.c.id == found.c.id)
        columns = (*_DETAILS, found.c.rank)
    return select(*columns).select_from(source.outerjoin(_CARD, true()).outerjoin(_VISIT, true()))


# Built once (an expanding IN): the second query of every name search.
_BY_IDS = _with_details(None).where(_PATIENTS.c.id.in_(bindparam("ids", expanding=True)))


def _hit(row: Row[Any], rank: int, today: date) -> PatientHit:
    status: CardStatus = "none"
    if row.bhyt_card_number is not None:
        expired = row.valid_to is not None and row.valid_to < today
        status = "expired" if expired else "valid"
    return PatientHit(
        id=row.id,
        patient_code=row.patient_code,
        full_name=row.full_name,
        date_of_birth=row.date_of_birth,
        gender=row.gender,
        phone=row.phone,
        card_number=row.bhyt_card_number,
        card_valid_to=row.valid_to,
        card_status=status,
        last_visit=row.last_visit,
        rank=rank,
    )


def _sort_key(rank: int, full_name: str) -> tuple[int, tuple[object, ...]]:
    return rank, vietnamese_sort_key(full_name)


def _name_hits(
    session: Session, candidates: Iterable[_Candidate], limit: int, today: date
) -> list[PatientHit]:
    """The best ``limit`` name candidates, then their details in one more query."""
    chosen = sorted(candidates, key=lambda found: _sort_key(found.rank, found.full_name))[:limit]
    if not chosen:
        return []
    rows = {row.id: row for row in session.execute(_BY_IDS, {"ids": [c.id for c in chosen]})}
    return [_hit(rows[found.id], found.rank, today) for found in chosen if found.id in rows]


# --- phone, code, id, card: one statement each -----------------------------------------------


def _lookup(
    session: Session,
    branches: Sequence[Select[Any]],
    limit: int,
    today: date,
    *,
    exclude_id: uuid.UUID | None = None,
) -> list[PatientHit]:
    """Run the lookups (each selecting id and rank, with its own LIMIT) and fetch what the
    hits show in the same statement: one round trip. Best rank per patient, best first."""
    found = union_all(*branches).subquery("found")
    statement = _with_details(found)
    if exclude_id is not None:
        statement = statement.where(found.c.id != exclude_id)
    best: dict[uuid.UUID, Row[Any]] = {}
    for row in session.execute(statement):
        known = best.get(row.id)
        if known is None or row.rank < known.rank:
            best[row.id] = row
    chosen = sorted(best.values(), key=lambda row: _sort_key(row.rank, row.full_name))
    return [_hit(row, row.rank, today) for row in chosen[:limit]]


def _by_column(column: ColumnElement[Any], value: str, limit: int) -> Select[Any]:
    """Patients whose ``column`` starts with ``value`` (a btree prefix range); exact first."""
    rank = case((column == value, 0), else_=1)
    return (
        select(_PATIENTS.c.id, rank.label("rank")).where(_starts_with(column, value)).limit(limit)
    )


def _by_card(card: str, limit: int, *, rank: ColumnElement[int] | None = None) -> Select[Any]:
    """Insurance rows whose card is ``card`` or starts with it; a bare 10-digit number is the
    social-insurance number, the card's last 10 characters (ix_insurance_info_bhyt_number)."""
    number = _INSURANCE.c.bhyt_card_number
    if len(card) == NUMBER_LENGTH and card.isdigit():
        condition = func.right(number, NUMBER_LENGTH) == card
    elif len(card) >= CARD_LENGTH:
        condition = number == card
    else:
        condition = _starts_with(number, card)
    exact = case((number == card, 0), (func.right(number, NUMBER_LENGTH) == card, 0), else_=1)
    return (
        select(
            _INSURANCE.c.patient_id.label("id"), (rank if rank is not None else exact).label("rank")
        )
        .where(condition)
        .limit(limit)
    )


def _identifier_branches(query: SearchQuery, limit: int) -> list[Select[Any]]:
    value = query.value
    if query.kind is QueryKind.PHONE:
        branches = [_by_column(_PATIENTS.c.phone, value, limit)]
        if len(value) == NUMBER_LENGTH:  # also a social-insurance number from a 0x province
            branches.append(_by_card(value, limit))
        return branches
    if query.kind is QueryKind.PATIENT_CODE:
        return [_by_column(_PATIENTS.c.patient_code, value, limit)]
    if query.kind is QueryKind.NATIONAL_ID:
        branches = [
            select(_PATIENTS.c.id, literal(0, Integer).label("rank"))
            .where(_PATIENTS.c.national_id == value)
            .limit(limit)
        ]
        if value.startswith("0"):  # 12 digits starting with 0 may be a phone being typed
            branches.append(_by_column(_PATIENTS.c.phone, value, limit))
        return branches
    return [_by_card(value, limit)]


# --- the API -----------------------------------------------------------------------------------


def search(
    session: Session, actor: Actor | None, text: str, *, limit: int = 20, today: date | None = None
) -> list[PatientHit]:
    """Patients matching what was typed, best first, at most ``limit``. Any text is safe:
    it only ever travels as bound parameters, and LIKE wildcards in it are taken literally."""
    require(actor, Permission.PATIENT_READ)
    query = parse_query(text)
    if query.kind is QueryKind.EMPTY or limit <= 0:
        return []
    today = today or _today()
    if query.kind is QueryKind.NAME:
        return _name_hits(session, _by_name(session, query, limit), limit, today)
    return _lookup(session, _identifier_branches(query, limit), limit, today)


def similar_patients(
    session: Session,
    actor: Actor | None,
    *,
    full_name: str,
    date_of_birth: date | None,
    phone: str | None,
    card_number: str | None,
    exclude_id: uuid.UUID | None = None,
    limit: int = 5,
) -> list[PatientHit]:
    """Existing patients a registration may duplicate: the same accent-free name and date of
    birth (rank 0), the same card (rank 1) or the same phone (rank 2). One statement."""
    require(actor, Permission.PATIENT_READ)
    branches: list[Select[Any]] = []
    key = " ".join(fold(full_name).split())
    if key and date_of_birth is not None:
        branches.append(
            select(_PATIENTS.c.id, literal(0, Integer).label("rank"))
            .where(_PATIENTS.c.search_key == key, _PATIENTS.c.date_of_birth == date_of_birth)
            .limit(limit + 1)  # one more: the excluded patient may be among them
        )
    card = _complete_card(card_number)
    if card is not None:
        branches.append(_by_card(card, limit + 1, rank=literal(1, Integer)))
    number = normalise_phone(phone or "")
    if number is not None and len(number) >= MIN_FULL_PHONE:
        branches.append(
            select(_PATIENTS.c.id, literal(2, Integer).label("rank"))
            .where(_PATIENTS.c.phone == number)
            .limit(limit + 1)
        )
    if not branches:
        return []
    return _lookup(session, branches, limit, _today(), exclude_id=exclude_id)


def _complete_card(card_number: str | None) -> str | None:
    """A whole card (15 characters) or a bare social-insurance number, else None."""
    if not card_number:
        return None
    card = normalise_card_text(card_number)
    if len(card) == CARD_LENGTH or (len(card) == NUMBER_LENGTH and card.isdigit()):
        return card
    return None


def card_holder(
    session: Session, card_number: str, *, exclude_id: uuid.UUID | None = None
) -> PatientHit | None:
    """The patient who already has this card (the possible-duplicate warning), or None.

    No permission check of its own: the registration form that calls it has required
    ``PATIENT_WRITE`` to open, and it returns the one patient the card points at."""
    card = _complete_card(card_number)
    if card is None:
        return None
    hits = _lookup(session, [_by_card(card, 2)], 1, _today(), exclude_id=exclude_id)
    return hits[0] if hits else None
