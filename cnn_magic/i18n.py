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
import re
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


# argparse's own words, written as argparse writes them (its message ids; "optional
# arguments" is Python 3.10's title for "options"), so that the help and the errors of
# the command line and of %%cnn read in the language in force: "usage:", the section
# titles, -h's help and the errors users meet.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("options"),
    N_("optional arguments"),
    N_("positional arguments"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("not allowed with argument %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
)


@contextmanager
def argparse_speaking() -> Iterator[None]:
    """argparse's own words through this catalog while the block runs.

    argparse reads every word it writes through the ``gettext`` functions it imported
    (``argparse._`` and ``argparse.ngettext``); Python's argparse HOWTO translates them
    by putting argparse's message ids in a catalog, which :data:`ARGPARSE_MESSAGES`
    does. Installing a catalog for the whole process (``gettext.textdomain``) would
    also change every other program's words in it (IPython's own magics), so the
    functions are lent to argparse only while our parser is built, parses or writes
    its help, and given back after. A message this catalog lacks stays English.
    """
    import argparse

    saved = (getattr(argparse, "_"), getattr(argparse, "ngettext"))  # noqa: B009
    setattr(argparse, "_", _)  # noqa: B010
    setattr(argparse, "ngettext", _n)  # noqa: B010
    try:
        yield
    finally:
        setattr(argparse, "_", saved[0])  # noqa: B010
        setattr(argparse, "ngettext", saved[1])  # noqa: B010


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


# a wide character with the closing punctuation that must not start a line; a run of
# other non-space characters; a run of spaces
_WRAP_TOKEN = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef][，。；：、！？）」』,.;:!?)]*"
    r"|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+"
)


def wrap_columns(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` terminal columns (a Chinese character
    takes two and a line may break between any two of them; Latin words stay whole).

    >>> wrap_columns("同时计入池化、激活函数、批归一化和 softmax", 16)
    ['同时计入池化、激', '活函数、批归一化', '和 softmax']
    """
    lines: list[str] = []
    line = ""
    for token in _WRAP_TOKEN.findall(" ".join(text.split())):
        if token.isspace():
            line += " " if line else ""
        elif line and display_width(line + token) > width:
            lines.append(line.rstrip())
            line = token
        else:
            line += token
    return [*lines, line.rstrip()] if line.strip() else lines


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` display columns (numbers: ``right``)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill
