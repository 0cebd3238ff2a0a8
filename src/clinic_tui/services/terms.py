"""The bilingual medical vocabulary: autocomplete, details, and the admins' edits (issue 6).

Search folds what was typed as the table's generated columns are folded (`fold`, equal to
``f_unaccent(lower())``) and matches in SQL only: the vocabulary is never loaded into Python.
Trigram indexes cannot answer "equals" or "starts with" themselves; for a common word they
hand back every row holding it. So, as DESIGN §4.3 asks, each stage reads a LIMITed set of
candidates and only those are ranked: exact, then prefix, then word prefix (`_text_hits`),
then, when nothing matched at all, trigram similarity for one typo. At clinic scale the
candidates are all the matches and the ranking is exact; at 100,000 terms a common prefix
ranks the candidates it read first. An ICD-10-shaped query ("M54", "m54.5") walks the b-tree
``text_pattern_ops`` index instead.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, TypeVar, cast

from sqlalchemy import Table, TextClause, insert, select, text
from sqlalchemy import update as sql_update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from clinic_tui.domain.search_text import fold
from clinic_tui.models import MedicalTerm
from clinic_tui.models.terminology import TERM_CATEGORIES
from clinic_tui.services import audit
from clinic_tui.services.access import Actor, Permission, require

__all__ = ["MatchRank", "TermDetail", "TermEditConflict", "TermHit", "TermInvalid",
           "TermNotFound", "TermProblem", "add_term", "clean", "fold", "get_term",
           "search_terms", "update_term"]  # fmt: skip

MAX_LIMIT = 50
MAX_TERM_LENGTH = 200  # the columns' length
MAX_DESCRIPTION_LENGTH = 4000
_CANDIDATES_PER_HIT = 4  # candidates ranked per hit shown, so exact and prefix ones rise
_PROBE_PAGES = 40  # the first table pages read before the index: about 900 rows, 0.5 ms
_ICD10_PREFIX = re.compile(r"[A-Z][0-9]{1,2}(\.[0-9A-Z]{0,4})?")
_ICD10_CODE = re.compile(r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?")
_TERMS = cast(Table, MedicalTerm.__table__)


class MatchRank(IntEnum):
    """How a hit matched (`TermHit.rank`); lower is better."""

    EXACT = 0
    PREFIX = 1
    WORD_PREFIX = 2
    SIMILAR = 3


@dataclass(frozen=True)
class TermHit:
    id: uuid.UUID
    term_en: str
    term_vi: str
    category: str
    icd10_code: str | None
    aliases: tuple[str, ...]
    rank: int  # a `MatchRank`


@dataclass(frozen=True)
class TermDetail:
    id: uuid.UUID
    term_en: str
    term_vi: str
    category: str
    icd10_code: str | None
    aliases: tuple[str, ...]
    description_en: str | None
    description_vi: str | None
    is_active: bool
    version: int
    updated_at: datetime


_Plain = TypeVar("_Plain", TermHit, TermDetail)


class TermProblem(StrEnum):
    """What is wrong with one field; the UI translates the value."""

    REQUIRED = "required"
    TOO_LONG = "too_long"
    CATEGORY = "category"
    ICD10_FORMAT = "icd10_format"
    DUPLICATE = "duplicate"


class TermInvalid(Exception):
    def __init__(self, problems: dict[str, TermProblem]) -> None:
        super().__init__(", ".join(f"{k}={v}" for k, v in problems.items()))
        self.problems = problems  # field name → problem


class TermNotFound(LookupError):
    """No term with this id."""


class TermEditConflict(Exception):
    """The term changed since it was opened: reload it, nothing was overwritten."""

    def __init__(self, term_id: uuid.UUID, current_version: int) -> None:
        super().__init__(f"term {term_id} is at version {current_version}")
        self.term_id, self.current_version = term_id, current_version


def clean(value: str, *, keep_lines: bool = False) -> str:
    """NFC; control characters dropped (PostgreSQL refuses NUL, terminals send escapes);
    whitespace collapsed, or, for descriptions, only within each line."""
    # Drop first, compose after: a mark separated from its letter by an invisible character
    # must still compose into one NFC character.
    if keep_lines:
        lines = ("".join(ch for ch in line if ch.isprintable()) for line in value.splitlines())
        kept = "\n".join(" ".join(line.split()) for line in lines).strip()
    else:
        kept = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return unicodedata.normalize("NFC", kept)


def _like_escape(value: str) -> str:
    # Backslash is LIKE's default escape: a typed %, _ or \ stays a literal character.
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- search SQL ------------------------------------------------------------------------------

_COLUMNS = "t.id, t.term_en, t.term_vi, t.category, t.icd10_code, t.aliases"


def _term_class(column: str) -> str:
    # Plain string functions on bound values: nothing typed is ever read as a pattern.
    return (
        f"CASE WHEN {column} = :q THEN 0 WHEN starts_with({column}, :q) THEN 1"
        f" WHEN strpos(' ' || {column}, ' ' || :q) > 0 THEN 2 END"
    )


_ALIAS_CLASS = (  # aliases are stored joined: "lumbago | lower back pain | dau lung"
    "CASE WHEN strpos(' | ' || t.search_aliases || ' | ', ' | ' || :q || ' | ') > 0 THEN 0"
    " WHEN strpos(' | ' || t.search_aliases, ' | ' || :q) > 0 THEN 1"
    " WHEN strpos(' ' || t.search_aliases, ' ' || :q) > 0 THEN 2 END"
)
_CLASSES = (_term_class("t.search_en"), _term_class("t.search_vi"), _ALIAS_CLASS)


def _ranked(pattern: str, *, probe: bool = False) -> str:
    """SQL: up to `:read_limit` rows where a word starts with the query, found by `pattern`
    (a LIKE on each search column, through its trigram index), classified per source, best
    first: rank, term before alias, shorter term. `probe`: the first pages, no index."""
    columns = ("search_en", "search_vi", "search_aliases")
    condition = " OR ".join(pattern.format(col=f"t.{column}") for column in columns)
    where = f"t.is_active AND ({condition}) AND coalesce({', '.join(_CLASSES)}) IS NOT NULL"
    if probe:
        where += f" AND t.ctid < '({_PROBE_PAGES},0)'::tid"
    return f"""
        SELECT *, coalesce(least(en, vi), 9) > rank AS via_alias,
               coalesce(least(CASE WHEN en = rank THEN length(term_en) END,
                              CASE WHEN vi = rank THEN length(term_vi) END),
                        least(length(term_en), length(term_vi))) AS len
        FROM (SELECT *, least(en, vi, alias) AS rank FROM (
                SELECT {_COLUMNS}, {_CLASSES[0]} AS en, {_CLASSES[1]} AS vi,
                       {_CLASSES[2]} AS alias
                FROM vietnamese_medical_terms t WHERE {where} LIMIT :read_limit) c) r
        ORDER BY rank, via_alias, len, term_en LIMIT :limit"""


# The index stage must never read the whole table: the planner's guess of how many rows match
# a pattern can be a hundred times too high; it then reads the table hoping to meet the LIMIT
# early, and reads all of it when the matches are few (50 ms at 100,000 terms). The probe does
# what that plan is good at, without the risk; when it found too few it switches sequential
# scans off (local to the transaction), and the index statement, once planned, puts the
# setting back as it runs: one round trip each, where SET and RESET would add two.
_PROBE = text(
    f"""
    WITH hits AS MATERIALIZED ({_ranked("{col} LIKE :phrase", probe=True)}),
    setting AS MATERIALIZED (
        SELECT current_setting('enable_seqscan') AS seqscan_before,
               CASE WHEN (SELECT count(*) FROM hits) < :limit
                    THEN set_config('enable_seqscan', 'off', true) END AS seqscan_set)
    SELECT s.seqscan_before, h.* FROM setting s LEFT JOIN hits h ON true
    """
)


def _through_index(pattern: str) -> TextClause:
    return text(
        "SELECT h.* FROM (SELECT set_config('enable_seqscan', :seqscan_before, true)) AS put_back"
        f" LEFT JOIN LATERAL ({_ranked(pattern)}) h ON true"
    )


_BY_PATTERN = _through_index("{col} LIKE :pattern")
_BY_WORD_START = _through_index("{col} LIKE :starts OR {col} LIKE :inner")
# Through the b-tree text_pattern_ops index, by its own operators (so a prepared, generic
# plan uses it too) and in its order: the typed code itself comes first.
_ICD_SQL = text(
    f"""
    SELECT {_COLUMNS}, CASE WHEN t.icd10_code = :code THEN 0 ELSE 1 END AS rank
    FROM vietnamese_medical_terms t
    WHERE t.is_active AND t.icd10_code ~>=~ :code AND t.icd10_code ~<~ :code_end
    ORDER BY t.icd10_code USING ~<~, length(t.term_en) LIMIT :limit
    """
)
# One typo ("shoudler", "lumbagp", "chronc sev"): the query is close to a stretch of a term or
# an alias (`<%`, word similarity). The default threshold, 0.6, misses two swapped letters
# (word_similarity('shoudler', 'shoulder') = 0.44; 'suregry' in 'after surgery', 0.38), so
# the stage runs at 0.3. That keeps it fast too: every row holding the trigrams is a
# candidate, and when most pass, the LIMIT comes early; at 0.4, "suregry" read 8,000 rows to
# keep none (160 ms at 100,000 terms). Sequential scans off, as for the index stage.
_SIMILAR_SQL = text(
    f"""
    SELECT *, 3 AS rank FROM (
        SELECT {_COLUMNS}, greatest(word_similarity(:q, t.search_en),
            word_similarity(:q, t.search_vi), word_similarity(:q, t.search_aliases)) AS score
        FROM vietnamese_medical_terms t
        WHERE t.is_active
          AND (:q <% t.search_en OR :q <% t.search_vi OR :q <% t.search_aliases)
        LIMIT :read_limit) c
    ORDER BY score DESC, least(length(term_en), length(term_vi)), term_en LIMIT :limit
    """
)
# The threshold is read as the statement runs, so it is put back by a statement of its own.
# show_limit() comes first: it loads pg_trgm, whose settings a new connection does not know.
_FUZZY_ON = text(
    "SELECT show_limit() AS loaded, current_setting('enable_seqscan') AS seqscan_before,"
    " current_setting('pg_trgm.word_similarity_threshold') AS threshold_before,"
    " set_config('enable_seqscan', 'off', true) AS seqscan,"
    " set_config('pg_trgm.word_similarity_threshold', '0.3', true) AS threshold"
)
_FUZZY_OFF = text(
    "SELECT set_config('enable_seqscan', :seqscan_before, true),"
    " set_config('pg_trgm.word_similarity_threshold', :threshold_before, true)"
)


# --- search ----------------------------------------------------------------------------------


def _long(word: str) -> bool:
    return any(len(run) >= 3 for run in re.split(r"[^0-9a-z]+", word))


def _index_pattern(query: str) -> str | None:
    """A LIKE pattern for the index stage: a superset of the rows where a word starts with
    `query`, leaving the GIN scan few trigrams that narrow much; None: 'q%' or '% q%'.

    A GIN scan costs about (rows its rarest trigrams leave) × (trigrams): it skips through
    the long posting lists by the short one, decoding a block at each skip. Word-start
    trigrams ("  c", " co") come from every word so beginning, and a two-letter Vietnamese
    syllable is in a large share of the terms, while a longer word's inner trigrams are about
    as rare as the word. So with two words of three letters or more only those go to the
    index ("cang co xuon": ``%cang%xuon%``), with a short last word's start, the only trace
    of what is being typed ("mild late ab": ``%mild%late% ab%``). With fewer, every trigram
    of the phrase is needed ("dau co c"). A single word needs its start too, or "int" would
    read every "joint" and "point"."""
    words = query.split(" ")
    if len(words) == 1:
        return None
    if sum(_long(word) for word in words) < 2:
        return "%" + _like_escape(query) + "%"
    pieces = [_like_escape(word) for word in words if _long(word)]
    if not _long(words[-1]) and len(words[-1]) == 2 and words[-1].isalnum():
        pieces.append(" " + _like_escape(words[-1]))
    return "%" + "%".join(pieces) + "%"


def _text_params(query: str, limit: int) -> dict[str, Any]:
    escaped = _like_escape(query)
    return {
        "q": query,
        "limit": limit,
        "read_limit": limit * _CANDIDATES_PER_HIT,
        "phrase": "%" + escaped + "%",  # the probe's: it reads rows, not posting lists
        "starts": escaped + "%",
        "inner": "% " + escaped + "%",
        "pattern": _index_pattern(query),
    }


def _by_rank(row: RowMapping) -> tuple[Any, ...]:
    return (row["rank"], row["via_alias"], row["len"], row["term_en"])


def _text_hits(session: Session, query: str, limit: int) -> list[RowMapping]:
    """Exact, prefix and word-prefix hits, best first; when there are none, similar ones.

    A common prefix ("righ", "dau k") matches so much of the table that the first pages hold
    enough hits: the probe finds them in half a millisecond, where the index would walk
    tens of thousands of entries. A rarer one goes to the index (`_index_pattern`)."""
    params = _text_params(query, limit)
    probed = list(session.execute(_PROBE, params).mappings())
    hits = sorted((row for row in probed if row["id"] is not None), key=_by_rank)
    if len(hits) >= limit:
        return hits
    by_index = _BY_WORD_START if params["pattern"] is None else _BY_PATTERN
    params["seqscan_before"] = probed[0]["seqscan_before"]
    more = [row for row in session.execute(by_index, params).mappings() if row["id"]]
    hits = sorted([*hits, *more], key=_by_rank)
    if not hits and len(query) >= 3:
        before = dict(session.execute(_FUZZY_ON).mappings().one())
        try:
            hits = list(session.execute(_SIMILAR_SQL, params).mappings())
        finally:
            session.execute(_FUZZY_OFF, before)
    return hits


def search_terms(session: Session, actor: Actor, text_: str, *, limit: int = 10) -> list[TermHit]:
    """Up to `limit` terms for what was typed: English or Vietnamese, with or without
    accents, in any case, or an ICD-10 prefix. Best first (`MatchRank`, then the shorter
    term). Typed ``%``, ``_``, ``\\`` and quotes are plain characters."""
    require(actor, Permission.LOOKUP)
    typed = clean(text_)
    limit = max(1, min(limit, MAX_LIMIT))
    code = typed.replace(" ", "").upper()
    query = fold(typed)
    if not any(ch.isalnum() for ch in query):
        return []  # trigrams are made of letters and digits: punctuation alone matches nothing
    rows: list[RowMapping] = []
    if _ICD10_PREFIX.fullmatch(code):
        code_end = code[:-1] + chr(ord(code[-1]) + 1)  # "M54" → "M55": the prefix's range
        params = {"code": code, "code_end": code_end, "limit": limit}
        rows = list(session.execute(_ICD_SQL, params).mappings())
    if not rows:  # not a code, or none such: "b12" may be in a name
        rows = _text_hits(session, query, limit)
    first: dict[uuid.UUID, RowMapping] = {}  # a term found twice keeps its better place
    for row in rows:
        first.setdefault(row["id"], row)
    return [_plain(TermHit, row, rank=int(row["rank"])) for row in list(first.values())[:limit]]


def index_stage(query: str, limit: int = 10) -> tuple[TextClause, dict[str, Any]]:
    """The index stage's statement and parameters for a folded query, to EXPLAIN (tests and
    the benchmark show its plan; it runs after a probe, with sequential scans off)."""
    params = _text_params(query, limit) | {"seqscan_before": "on"}
    return (_BY_WORD_START if params["pattern"] is None else _BY_PATTERN), params


# --- details and edits -----------------------------------------------------------------------


def _plain(cls: type[_Plain], row: RowMapping, **values: Any) -> _Plain:
    """A dataclass from a row's columns of the same names (aliases as a tuple)."""
    names = {field.name for field in fields(cls)} - {"aliases", *values}
    return cls(**{name: row[name] for name in names}, aliases=tuple(row["aliases"] or ()),
               **values)  # fmt: skip


def _load(session: Session, term_id: uuid.UUID) -> TermDetail:
    row = session.execute(select(_TERMS).where(_TERMS.c.id == term_id)).mappings().one_or_none()
    if row is None:
        raise TermNotFound(term_id)
    return _plain(TermDetail, row)


def get_term(session: Session, actor: Actor, term_id: uuid.UUID) -> TermDetail:
    require(actor, Permission.LOOKUP)
    return _load(session, term_id)


def _validated(  # the form's fields, in order
    session: Session, term_id: uuid.UUID | None, term_en: str, term_vi: str, category: str,
    icd10_code: str | None, aliases: Sequence[str], description_en: str | None,
    description_vi: str | None,
) -> dict[str, Any]:  # fmt: skip
    """The columns to store, NFC and trimmed, or `TermInvalid` naming each wrong field."""
    problems: dict[str, TermProblem] = {}
    values: dict[str, Any] = {"term_en": clean(term_en), "term_vi": clean(term_vi)}
    for name in ("term_en", "term_vi"):
        if not values[name]:
            problems[name] = TermProblem.REQUIRED
        elif len(values[name]) > MAX_TERM_LENGTH:
            problems[name] = TermProblem.TOO_LONG
    values["category"] = clean(category).lower()
    if values["category"] not in TERM_CATEGORIES:
        problems["category"] = TermProblem.CATEGORY
    values["icd10_code"] = clean(icd10_code or "").replace(" ", "").upper() or None
    if values["icd10_code"] and not _ICD10_CODE.fullmatch(values["icd10_code"]):
        problems["icd10_code"] = TermProblem.ICD10_FORMAT
    kept: dict[str, str] = {}  # folded → as typed: "Đau lưng" and "dau lung" are one alias
    for alias in (clean(alias) for alias in aliases):
        if alias:
            kept.setdefault(fold(alias), alias)
    values["aliases"] = list(kept.values())
    if any(len(alias) > MAX_TERM_LENGTH for alias in values["aliases"]):
        problems["aliases"] = TermProblem.TOO_LONG
    for name, value in (("description_en", description_en), ("description_vi", description_vi)):
        values[name] = clean(value or "", keep_lines=True) or None
        if values[name] and len(values[name]) > MAX_DESCRIPTION_LENGTH:
            problems[name] = TermProblem.TOO_LONG
    if not problems.keys() & {"term_en", "term_vi"}:
        # The same pair, accents and case aside, is one term: the generated columns compare.
        twin = select(_TERMS.c.id).where(
            _TERMS.c.search_en == fold(values["term_en"]),
            _TERMS.c.search_vi == fold(values["term_vi"]),
            _TERMS.c.id != (term_id or uuid.UUID(int=0)),
        )
        if session.scalar(twin) is not None:
            problems["term_en"] = TermProblem.DUPLICATE
    if problems:
        raise TermInvalid(problems)
    return values


def add_term(
    session: Session, actor: Actor, *, term_en: str, term_vi: str, category: str,
    icd10_code: str | None = None, aliases: Sequence[str] = (),
    description_en: str | None = None, description_vi: str | None = None,
) -> TermDetail:  # fmt: skip
    """A new term, searchable at once (in this transaction, and by all after its commit)."""
    require(actor, Permission.TERM_WRITE)
    values = _validated(session, None, term_en, term_vi, category, icd10_code, aliases,
                        description_en, description_vi)  # fmt: skip
    term_id = session.execute(insert(_TERMS).values(**values).returning(_TERMS.c.id)).scalar_one()
    audit.record(session, "term_created", user_id=actor.user_id, entity="medical_term",
                 entity_id=term_id)  # fmt: skip
    return _load(session, term_id)


def update_term(
    session: Session, actor: Actor, term_id: uuid.UUID, *, term_en: str, term_vi: str,
    category: str, icd10_code: str | None = None, aliases: Sequence[str] = (),
    description_en: str | None = None, description_vi: str | None = None,
    is_active: bool = True, expected_version: int,
) -> TermDetail:  # fmt: skip
    """Save an edit made on the term as it was at `expected_version`, or `TermEditConflict`
    (nothing written). The version test is in the UPDATE, so two saves cannot both pass."""
    require(actor, Permission.TERM_WRITE)
    before = _load(session, term_id)
    values = _validated(session, term_id, term_en, term_vi, category, icd10_code, aliases,
                        description_en, description_vi) | {"is_active": is_active}  # fmt: skip
    saved = session.execute(
        sql_update(_TERMS)
        .where(_TERMS.c.id == term_id, _TERMS.c.version == expected_version)
        .values(**values, version=_TERMS.c.version + 1)
        .returning(_TERMS.c.id)
    ).scalar_one_or_none()
    if saved is None:
        raise TermEditConflict(term_id, _load(session, term_id).version)
    old = {name: getattr(before, name) for name in values} | {"aliases": list(before.aliases)}
    changed = [name for name, value in values.items() if value != old[name]]
    audit.record(session, "term_updated", user_id=actor.user_id, entity="medical_term",
                 entity_id=term_id, details={"fields": changed})  # names only  # fmt: skip
    return _load(session, term_id)
