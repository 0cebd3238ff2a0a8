"""Text nobody should type into a clinic's front desk, and somebody will.

Pasted from a spreadsheet, a web page or a chat; sent by a terminal or a Vietnamese input
method in decomposed form; typed on purpose to see what breaks. Every search box and every form
field must survive each entry: a result or a validation message, never a crash, never a
database error (PostgreSQL refuses NUL in text outright), and what is stored is NFC without
control characters.

`CORPUS` is (name, text) pairs for ``pytest.mark.parametrize`` ids; `is_typeable` tells which
entries a test can send key by key (the rest are pasted or set on the field). `hostile` and
`noisy` are the same idea as hypothesis strategies.
"""

from __future__ import annotations

import unicodedata
from typing import Final

from hypothesis import strategies as st

NAME_NFC: Final = unicodedata.normalize("NFC", "Nguyễn Thị Hồng")
#: How a macOS terminal or an IME may send it: base letters followed by combining marks.
NAME_NFD: Final = unicodedata.normalize("NFD", NAME_NFC)
assert NAME_NFD != NAME_NFC and len(NAME_NFD) > len(NAME_NFC)

LONG_LENGTH: Final = 10_000
#: Exactly 10,000 characters of plausible text (a pasted document), with accents and emoji.
LONG_TEXT: Final = ("Đau thắt lưng mạn tính 😀 " * LONG_LENGTH)[:LONG_LENGTH]

CORPUS: Final[tuple[tuple[str, str], ...]] = (
    # --- control characters ---------------------------------------------------------------
    ("nul-inside", "Nguyễn\x00Văn An"),
    ("nul-alone", "\u0000"),
    ("ansi-escape", "\x1b[31mĐỏ\x1b[0m \x1b]0;title\x07"),
    ("crlf", "Dòng một\r\nDòng hai"),
    ("tab", "Trần\tBình"),
    ("c0-c1-del", "a\x07b\x08c\x7fd\x85e\x9bf"),
    ("form-feed-vt", "x\x0cy\x0bz\x1c\x1f"),
    # --- size --------------------------------------------------------------------------------
    ("long-10000", LONG_TEXT),
    # --- emoji and scripts ---------------------------------------------------------------------
    ("emoji", "Bé khỏe 😀👍🏽"),
    ("emoji-zwj", "👩\u200d⚕️ 👨\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈"),
    ("arabic", "مريض جديد ١٢٣"),
    ("hebrew", "מטופל חדש"),
    ("rtl-override", "\u202eNguyễn Văn\u202c An"),
    ("zero-width-bom", "\ufeffNguyễn\u200b Văn\u200d An\u2060"),
    # --- Vietnamese as terminals send it -------------------------------------------------------
    ("nfd-vietnamese", NAME_NFD),
    ("combining-only", "\u0301\u0303\u0323"),
    ("whitespace-only", " \u00a0\u3000\u2003 "),
    # --- digits that are not ASCII ---------------------------------------------------------------
    ("fullwidth-digits", "０９１２３４５６７８"),
    ("arabic-indic-digits", "٠٩١٢٣٤٥٦٧٨"),
    ("superscript-digits", "²³¹"),
    # --- LIKE, regex, format and markup metacharacters ------------------------------------------
    ("percent", "%"),
    ("underscore", "_"),
    ("like-mix", "%_a%b_%"),
    ("backslashes", "\\ \\\\ C:\\dữ liệu\\%\\_"),
    ("regex", ".*[a-z]+(?i)^$|\\d{3}"),
    ("format-braces", "{} {0} {name} {{"),
    ("printf", "%s %d %(name)s %%"),
    ("markup-injection", "[@click=app.quit]Lan[/] [on]ẩn [b]đậm[/b]"),
    ("markup-broken", "[bold red]Đỏ[/] [/] [link=file:///etc/passwd]x[/link]"),
    # --- quotes and SQL -------------------------------------------------------------------------
    ("quotes", 'O\'Brien "Ngọc" `Lan` ‘Hà’ “Nội”'),
    ("sql-drop", "'; DROP TABLE patients; --"),
    ("sql-or", "' OR 1=1 --"),
    ("sql-union", '" UNION SELECT password_hash FROM users --'),
    ("sql-dollar", "$$; SELECT pg_sleep(10); $$"),
)

#: Entries that are not valid Textual/Rich markup: shown through a markup-parsing widget
#: (Static, Label, OptionList, DataTable given a str), they raise MarkupError.
BREAKS_MARKUP: Final = frozenset({"markup-broken"})
NAMES: Final = tuple(name for name, _text in CORPUS)
TEXTS: Final = dict(CORPUS)


def is_typeable(text: str) -> bool:
    """True when a test can send the text key by key: printable and not huge (a key event
    carries one printable character; the rest reach a field by paste)."""
    return len(text) <= 200 and all(char.isprintable() or char == " " for char in text)


def control_characters(text: str, *, allowed: str = "") -> list[str]:
    """The control (Cc) and lone-surrogate (Cs) characters in ``text``, except ``allowed``."""
    return [
        char for char in text if char not in allowed and unicodedata.category(char) in ("Cc", "Cs")
    ]


def is_clean(text: str, *, allowed: str = "") -> bool:
    """Stored text as it must be: NFC, no NUL or other control character."""
    return unicodedata.is_normalized("NFC", text) and not control_characters(text, allowed=allowed)


# --- as hypothesis strategies ------------------------------------------------------------------

#: What a paste or a terminal slips in unseen: controls, invisible format characters, spaces.
INVISIBLE: Final = "\x00\x1b\t\n\r\x7f\x85\u200b\u200d\u202e\ufeff\u2060 "
_NOISE: Final = INVISIBLE + "\u0301\u0303\u0323%_\\'\"`"
_VIETNAMESE: Final = "aăâdđeêioôơuưyAĂÂĐÊÔƠƯnghtr\u0300\u0301\u0303\u0309\u0323"

#: Arbitrary text (surrogates excluded), decomposed text, Vietnamese with noise between its
#: letters and marks, the corpus, and long repetitions (up to some 12,000 characters).
hostile: Final = st.one_of(
    st.text(),
    st.text().map(lambda text: unicodedata.normalize("NFD", text)),
    st.text(st.sampled_from(_VIETNAMESE + _NOISE), max_size=40),
    st.sampled_from([text for _name, text in CORPUS]),
    st.builds(
        lambda text, times: text * times, st.text(min_size=1, max_size=20), st.integers(100, 600)
    ),
)


def noisy(valid: str) -> st.SearchStrategy[str]:
    """A valid value as typed, decomposed, or with invisible characters pasted around it."""
    invisible = st.text(st.sampled_from(INVISIBLE), max_size=3)
    return st.one_of(
        st.just(valid),
        st.just(unicodedata.normalize("NFD", valid)),
        st.builds(lambda before, after: before + valid + after, invisible, invisible),
    )
