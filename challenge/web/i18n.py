"""Translations: Chinese source strings, English through the gettext catalog.

The active translation lives in a context variable set per request (or per CLI run), so the
one Jinja environment serves every language at once and services can translate messages too.
"""

import io
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from challenge.settings import LOCALE_DIR

LOCALES = {"zh_CN": "简体中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"

_current_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


@cache
def translations_for(locale: str) -> NullTranslations:
    """The catalog for a locale, compiled in memory from its .po file (no .mo to keep in step)."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == DEFAULT_LOCALE or not po_path.exists():
        # The source strings are Simplified Chinese: no catalog needed.
        return NullTranslations()
    with open(po_path, "rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    return _current_locale.get()


@contextmanager
def in_locale(locale: str):
    """Translate in another language for a while: messages written for their recipient."""
    token = _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def gettext(message: str, **variables) -> str:
    text = translations_for(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = translations_for(get_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


class LazyString:
    """A message translated when rendered, for module-level labels (enum names, choices)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.message)


def lazy(message: str) -> LazyString:
    return LazyString(message)


def negotiate(accept_language: str) -> str:
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh_CN"
    return DEFAULT_LOCALE
