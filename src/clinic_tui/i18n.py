"""Translations and locale-aware formats.

Every user-visible string goes through `_()`. The current language can change at any time
(F2); screens re-render their labels by calling `_()` again, so nothing caches translated
text. Catalogs are read from `locales/<lang>/LC_MESSAGES/clinic_tui.po`, compiled once into a
cached `.mo` (nothing compiled is kept in the repository). Babel's formatting tables are
imported on first use, off the path to the first screen.
"""

from __future__ import annotations

import gettext
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import platformdirs

DOMAIN = "clinic_tui"
LANGUAGES = ("en", "vi")
BABEL_LOCALES = {"en": "en_US", "vi": "vi_VN"}
LANGUAGE_NAMES = {"en": "English", "vi": "Tiếng Việt"}

_current = "en"
_catalogs: dict[str, gettext.NullTranslations] = {}


def N_(message: str) -> str:
    """Mark a string for extraction; translate it later, where it is shown."""
    return message


def current_language() -> str:
    return _current


def set_language(language: str) -> None:
    global _current
    language = (language or "en")[:2].lower()
    _current = language if language in LANGUAGES else "en"


def other_language() -> str:
    return "vi" if _current == "en" else "en"


def _(message: str) -> str:
    return _catalog(_current).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalog(_current).ngettext(singular, plural, n)


def translate_to(language: str, message: str) -> str:
    """Translate into a given language whatever the current one (receipts, hand-outs)."""
    return _catalog(language).gettext(message)


def _catalog(language: str) -> gettext.NullTranslations:
    catalog = _catalogs.get(language)
    if catalog is None:
        catalog = _catalogs[language] = _load_catalog(language)
    return catalog


def po_path(language: str) -> Path:
    from clinic_tui.resources import locales_dir

    return locales_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load_catalog(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()  # the source strings are English
    po = po_path(language)
    if not po.exists():
        return gettext.NullTranslations()
    stat = po.stat()
    cache = (
        Path(platformdirs.user_cache_dir("clinic-tui", appauthor=False))
        / "locales"
        / f"{language}-{stat.st_mtime_ns}-{stat.st_size}.mo"
    )
    try:
        data = cache.read_bytes()
    except OSError:
        data = compile_po(po)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(data)
        except OSError:
            pass  # a read-only home still gets translations, just compiled each start
    return gettext.GNUTranslations(io.BytesIO(data))


def compile_po(po: Path) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


# ---- formats -----------------------------------------------------------------------------


def babel_locale(language: str | None = None) -> str:
    return BABEL_LOCALES[language or _current]


def format_money(amount: Decimal | int, language: str | None = None) -> str:
    """VND, whole dong: `250.000 ₫` in Vietnamese, `₫250,000` in English."""
    from babel.numbers import format_currency

    return format_currency(
        Decimal(amount), "VND", locale=babel_locale(language), decimal_quantization=True
    )


def format_number(value: int | Decimal, language: str | None = None) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=babel_locale(language))


SIZE_UNITS = ("B", "kB", "MB", "GB", "TB")


def format_size(size: int, language: str | None = None) -> str:
    """Bytes for people, 1024-based like PostgreSQL's pg_size_pretty: "8 kB", "1,5 MB" (vi)."""
    value, unit = Decimal(size), 0
    while value >= 1024 and unit < len(SIZE_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    shown = value.quantize(Decimal(1) if value >= 100 or unit == 0 else Decimal("0.1"))
    return f"{format_number(shown, language)} {SIZE_UNITS[unit]}"


def format_percent(value: int | Decimal, language: str | None = None) -> str:
    """`value` is in percent (80 → 80 %)."""
    from babel.numbers import format_percent as babel_format_percent

    return babel_format_percent(Decimal(value) / 100, locale=babel_locale(language))


def format_date(value: date, language: str | None = None) -> str:
    """`22/11/2026` in Vietnamese, `11/22/2026` in English (babel's short format)."""
    from babel.dates import format_date as babel_format_date

    return babel_format_date(value, _date_pattern(language), locale=babel_locale(language))


def _date_pattern(language: str | None) -> str:
    # Babel's "short" year is two digits; a clinic record wants all four.
    return "dd/MM/yyyy" if (language or _current) == "vi" else "MM/dd/yyyy"


def format_datetime(value: datetime, language: str | None = None) -> str:
    from babel.dates import format_datetime as babel_format_datetime

    pattern = _date_pattern(language) + " HH:mm"
    return babel_format_datetime(value, pattern, locale=babel_locale(language))


def format_time(value: object, language: str | None = None) -> str:
    from babel.dates import format_time as babel_format_time

    return babel_format_time(value, "HH:mm", locale=babel_locale(language))  # type: ignore[arg-type]
