"""Every word the product shows, in the reader's language.

The English text is the message id, written in the code as ``_("...")`` (or ``N_`` where a
string is only stored, to be translated when it is shown, and ``_n`` for plurals).
Placeholders are ``str.format`` fields, filled *after* translation, so a translation
can move them: ``_("{count} of {total} right").format(count=3, total=8)``. Numbers,
formulas and layer words are never translated.

Each language has one gettext catalog, ``cnn_magic/locale/<lang>/LC_MESSAGES/
cnn_magic.po``, compiled to the ``.mo`` beside it (both are committed, so an install
needs no build tool); ``cnn_magic/locale/cnn_magic.pot`` lists every message of the
code. ``python tools/messages.py`` re-extracts the template, merges it into each
catalog and compiles them (it needs Babel); the tests fail when the template is stale,
when a message has no translation, or when a compiled catalog is out of date.

The language is, in order: the one of a ``with language("zh"):`` block (the magic and
the command line wrap their work in one), else the default set by
:func:`set_language` (``%config CnnMagic.lang`` sets it too), else English.

>>> with language("zh"):
...     print(_("params"))
参数量
>>> print(_("params"))
params
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "cnn_magic"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

LANGUAGES = ("en", "zh")
"""The languages the product speaks: English (the source) and Chinese (the notes')."""

LANGUAGE_NAMES = {"en": "English", "zh": "中文"}

_default = "en"
_override: ContextVar[str | None] = ContextVar("cnn_magic_language", default=None)


def check_language(lang: str) -> str:
    """``lang`` if the product speaks it (``"zh-CN"`` and ``"zh_CN"`` mean ``"zh"``),
    else :class:`~cnn_magic.CNNError` naming the valid ones."""
    from .errors import CNNError, did_you_mean  # errors.py speaks through this module

    if not isinstance(lang, str):
        raise CNNError(
            _("unknown language {lang!r}").format(lang=lang),
            hint=_("valid: {choices}").format(choices=", ".join(LANGUAGES)),
        )
    base = lang.strip().lower().replace("_", "-").split("-")[0]
    if base not in LANGUAGES:
        raise CNNError(
            _("unknown language {lang!r}").format(lang=lang),
            hint=did_you_mean(base, LANGUAGES),
        )
    return base


def set_language(lang: str) -> None:
    """Make ``lang`` ("en" or "zh") the language of everything shown from now on.

    >>> set_language("zh"); current_language()
    'zh'
    >>> set_language("en")
    """
    global _default
    _default = check_language(lang)


def current_language() -> str:
    """The language in force: a :func:`language` block's, else the default."""
    return _override.get() or _default


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Speak ``lang`` inside the block (``None``: keep the language in force)."""
    token = _override.set(check_language(lang) if lang is not None else current_language())
    try:
        yield current_language()
    finally:
        _override.reset(token)


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":  # the message ids are the English text
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang])


def _(message: str) -> str:
    """``message`` in the language in force."""
    return _translations(current_language()).gettext(message)


def _n(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count``, in the language in force."""
    return _translations(current_language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now: for strings kept in
    tables at import time and passed through :func:`_` when shown."""
    return message


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal or a monospaced cell: Chinese characters
    (East Asian wide and full-width) take two, combining marks none.

    >>> display_width("参数量"), display_width("params"), display_width("e\u0301")
    (6, 6, 1)
    """
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    return sum(
        0 if combining(char) else 2 if east_asian_width(char) in "WF" else 1 for char in text
    )


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` display columns (numbers: ``right``)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill
