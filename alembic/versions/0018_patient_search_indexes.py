"""Patient search at scale (DESIGN §4.3): a word-prefix index on names, name-part
indexes for typo correction, and the 10-digit social-insurance number of BHYT cards.

- ``f_name_word_prefixes(search_key)`` lists every prefix of every word of the accent-free
  name, and every whole word followed by a space ("nguyen van an" → n, ng, …, nguyen,
  "nguyen ", v, va, van, "van ", a, an, "an "). A GIN index on it answers "every typed word
  starts a word of the name, in any order" by intersecting posting lists (``@>``), whose cost
  follows the rarest word instead of the most common family name.
- ``f_name_family`` (first word), ``f_name_middle`` (second word of a name of three words or
  more) and ``f_name_given`` (last word) carry btree indexes. Stepping through their distinct
  values lists the words patients' names use, letter by letter, which is how a misspelt word
  is corrected without comparing a million names.
- ``right(bhyt_card_number, 10)``: cards issued since April 2021 print only this number.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None
# Shown on the admin's migration screen, in the reader's language.
title_en = "Patient search indexes"
title_vi = "Chỉ mục tìm kiếm bệnh nhân"

# PL/pgSQL rather than a SQL set expression: evaluating it for a million names takes
# about 2 s this way and about 13 s with unnest/generate_series. COST tells the planner that
# evaluating it row by row (a sequential scan) is expensive, so it keeps to the index.
WORD_PREFIXES = """
CREATE FUNCTION f_name_word_prefixes(text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
DECLARE
    word text;
    n integer;
    result text[] := '{}';
BEGIN
    FOREACH word IN ARRAY string_to_array($1, ' ') LOOP
        CONTINUE WHEN word = '';
        FOR n IN 1 .. length(word) LOOP
            result := result || left(word, n);
        END LOOP;
        result := result || (word || ' ');
    END LOOP;
    RETURN result;
END
$$
"""
# One word per row: stepping from a word to the next distinct one is a single btree probe,
# and the order of single words is the same in every collation. Plain SQL and not STRICT,
# so the planner inlines them (an index on an inlined expression builds faster).
NAME_PARTS = (  # (index, function, body)
    ("ix_patients_name_family", "f_name_family", "split_part($1, ' ', 1)"),
    # NULL for a name of two words: its second word is the given name.
    (
        "ix_patients_name_middle",
        "f_name_middle",
        "CASE WHEN $1 LIKE '% % %' THEN split_part($1, ' ', 2) END",
    ),
    ("ix_patients_name_given", "f_name_given", "split_part($1, ' ', -1)"),
)


def upgrade() -> None:
    op.execute(WORD_PREFIXES)
    for _index, function, body in NAME_PARTS:
        op.execute(
            f"CREATE FUNCTION {function}(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
            f"RETURN {body}"
        )
    op.create_index(
        "ix_patients_name_words",
        "patients",
        [sa.text("f_name_word_prefixes(search_key)")],
        postgresql_using="gin",
    )
    for index, function, _body in NAME_PARTS:
        op.create_index(index, "patients", [sa.text(f"{function}(search_key)")])
    op.create_index(
        "ix_insurance_info_bhyt_number",
        "insurance_info",
        [sa.text("right(bhyt_card_number, 10)")],
    )


def downgrade() -> None:
    op.drop_index("ix_insurance_info_bhyt_number", table_name="insurance_info")
    for index, function, _body in reversed(NAME_PARTS):
        op.drop_index(index, table_name="patients")
        op.execute(f"DROP FUNCTION {function}(text)")
    op.drop_index("ix_patients_name_words", table_name="patients")
    op.execute("DROP FUNCTION f_name_word_prefixes(text)")
