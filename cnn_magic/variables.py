"""Variables in the layer language: ``k = 5`` sets one, ``{k}`` uses it.

    input 32x32x1
    k = 5
    s = 1
    C1: conv 6 k{k} s{s} relu
    S2: avgpool k2 s2

A variable holds a whole number; it is set once, on a line (or a ``;`` part) of its
own, ``NAME = NUMBER``, and used anywhere after in a word, as ``{NAME}``: ``k{k}``,
``input {n}x{n}x3``, ``repeat {r}:``. Nothing is evaluated: a use is replaced by the
number's digits before the statements are read, so every rule and every message sees
the network as it is with those values. ``%%cnn --vary k=1:7`` turns the variables into
sliders, and :func:`expand` takes new values for them.

This pass keeps the lines where they are (a setting becomes blank), so error messages
still point at the user's line; on a line that uses a variable they quote the line with
its values put in.

>>> print(expand("k = 5; s = 2\\nconv 6 k{k} s{s}"))
<BLANKLINE>
conv 6 k5 s2
>>> print(expand("k = 5\\nconv 6 k{k}", {"k": 3}).strip())
conv 6 k3
>>> variables("input 8x8x1\\nk = 3\\nconv 2 k{k}")
{'k': 3}
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import CNNError, did_you_mean
from .i18n import _

MAX_VALUE = 10**9  # as whole numbers elsewhere in the language

_SETTING = re.compile(r"[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*(\S*)[ \t]*\Z")
_USE = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_]\w*\Z")
_NUMBER = re.compile(r"\d+\Z", re.ASCII)


class Setting(NamedTuple):
    """``NAME = VALUE`` where the text sets it."""

    name: str
    value: int
    line: int
    column: int


def _parts(line: str) -> tuple[list[tuple[int, str]], str]:
    """The ``;`` parts of a line before its comment, each with its 0-based start, and
    the comment (with its ``#``)."""
    code, hash_, comment = line.partition("#")
    parts, start = [], 0
    for piece in code.split(";"):
        parts.append((start, piece))
        start += len(piece) + 1
    return parts, hash_ + comment


def _settings(text: str) -> tuple[list[Setting], list[str]]:
    """The settings of ``text``, and its lines with each setting blanked (same length,
    so the columns of the rest stay)."""
    found: dict[str, Setting] = {}
    lines = text.split("\n")
    for number, line in enumerate(lines, 1):
        if "=" not in line or "{" in line.partition("#")[0].split("=")[0]:
            continue
        parts, comment = _parts(line)
        kept = []
        for start, piece in parts:
            match = _SETTING.match(piece)
            if match is None or not _looks_set(piece):
                kept.append(piece)
                continue
            name, value = match.groups()
            column = start + match.start(1) + 1
            found[name] = _setting(name, value, number, column, line, found.get(name))
            kept.append(" " * len(piece))
        code = ";".join(kept)
        lines[number - 1] = (code if code.strip(" \t;") else "") + comment
    return list(found.values()), lines


def _looks_set(piece: str) -> bool:
    """A setting stands alone: ``k = 5``; ``conv 6 k = 5`` is a layer's argument."""
    return len(piece.split("=")[0].split()) == 1


def _setting(
    name: str, value: str, line: int, column: int, source: str, before: Setting | None
) -> Setting:
    if before is not None:
        raise CNNError(
            _("variable '{name}' is set twice (first on line {line})").format(
                name=name, line=before.line
            ),
            line=line,
            column=column,
            source=source,
            width=len(name),
            hint=_("set each variable once; --vary changes it without editing"),
        )
    if not _NUMBER.match(value) or int(value) > MAX_VALUE:
        at = source.index(value, column - 1 + len(name)) + 1 if value else column
        raise CNNError(
            f"variable '{name}' needs a whole number, not {value!r}"
            if value
            else f"variable '{name}' needs a value",
            line=line,
            column=at,
            source=source,
            width=len(value) or len(name),
            hint=_("for example {name} = 5 (a whole number from 0 to {MAX_VALUE:,})").format(
                name=name, MAX_VALUE=MAX_VALUE
            ),
        )
    return Setting(name, int(value), line, column)


def settings(text: str) -> list[Setting]:
    """Where ``text`` sets its variables, in order."""
    return _settings(text)[0]


def variables(text: str) -> dict[str, int]:
    """The variables ``text`` sets, with their values."""
    return {s.name: s.value for s in settings(text)}


class Line(NamedTuple):
    """A line the expansion changed: as written, and where each use now stands."""

    written: str
    uses: tuple[tuple[int, int, int, int], ...]  # (new start, new end, old start, old end)

    def column(self, column: int, width: int) -> tuple[int, int]:
        """The 1-based column and width in the written line of a span of the new one:
        a span touching a value covers its whole ``{NAME}``."""
        first = self._position(column - 1, start=True)
        last = self._position(column - 1 + width - 1, start=False)
        return first + 1, max(1, last - first + 1)

    def _position(self, at: int, *, start: bool) -> int:
        shift = 0
        for new_start, new_end, old_start, old_end in self.uses:
            if at < new_start:
                break
            if at < new_end:
                return old_start if start else old_end - 1
            shift = old_end - new_end
        return at + shift


def expand(text: str, values: dict[str, int] | None = None) -> str:
    """``text`` with its settings blanked and every ``{NAME}`` replaced by its value;
    ``values`` override what the text sets (each must be a variable it sets)."""
    return expand_lines(text, values)[0]


def expand_lines(text: str, values: dict[str, int] | None = None) -> tuple[str, dict[int, Line]]:
    """:func:`expand`, and the lines it changed (by number), to point back at them."""
    if "=" not in text and "{" not in text:
        return text, {}  # the usual network: nothing to do
    found, lines = _settings(text)
    known = {s.name: s.value for s in found}
    for name, value in (values or {}).items():
        if name not in known:
            raise CNNError(
                _("the network sets no variable '{name}'").format(name=name),
                hint=did_you_mean(name, known) if known else f"set it in the text: {name} = 1",
            )
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_VALUE:
            raise CNNError(
                _("variable '{name}' needs a whole number, not {value!r}").format(
                    name=name, value=value
                )
            )
        known[name] = value
    set_on = {s.name: s.line for s in found}
    written = text.split("\n")
    used: set[str] = set()
    changed: dict[int, Line] = {}
    for number, line in enumerate(lines, 1):
        new, uses = _substitute(line, written[number - 1], number, known, set_on, used)
        if new != written[number - 1]:
            changed[number] = Line(written[number - 1], uses)
        lines[number - 1] = new
    for setting in found:
        if setting.name not in used:
            raise CNNError(
                _("variable '{name}' is set but never used").format(name=setting.name),
                line=setting.line,
                column=setting.column,
                source=written[setting.line - 1],
                width=len(setting.name),
                hint=_(
                    "use it as {{{name}}} (k{{{name}}}, say), or remove the line; "
                    "a layer needs its name first: conv 6 k=5"
                ).format(name=setting.name),
            )
    return "\n".join(lines), changed


def restore(error: CNNError, changed: dict[int, Line], values: dict[str, int]) -> CNNError:
    """``error`` pointing at the line as written (``{k}``, not its value), with the
    values it was evaluated with."""
    line = changed.get(error.line or 0)
    if line is None:
        return error
    column, width = line.column(error.column, error.width) if error.column else (None, error.width)
    names = [name for name in values if "{" + name + "}" in line.written.replace(" ", "")]
    with_values = ", ".join(f"{name} = {values[name]}" for name in names)
    said = _("with {values}").format(values=with_values) if with_values else ""
    hint = "; ".join(h for h in (said, error.hint) if h)
    return CNNError(
        error.message,
        line=error.line,
        column=column,
        source=line.written,
        width=width,
        hint=hint or None,
    )


def _substitute(
    line: str,
    written: str,
    number: int,
    known: dict[str, int],
    set_on: dict[str, int],
    used: set[str],
) -> tuple[str, tuple[tuple[int, int, int, int], ...]]:
    """``line`` (settings blanked) with its uses replaced; errors quote ``written``."""
    code, hash_, comment = line.partition("#")
    if "{" not in code and "}" not in code:
        return line, ()
    pieces: list[str] = []
    uses: list[tuple[int, int, int, int]] = []
    last = 0
    length = 0
    for match in _USE.finditer(code):
        name = match.group(1).strip()
        _check_use(match, name, written, number, known, set_on)
        used.add(name)
        before = code[last : match.start()]
        pieces.append(before)
        length += len(before)
        value = str(known[name])
        uses.append((length, length + len(value), match.start(), match.end()))
        pieces.append(value)
        length += len(value)
        last = match.end()
    rest = code[last:]
    if "{" in rest or "}" in rest or any("{" in p or "}" in p for p in pieces):
        at = max(code.find("{", last), code.find("}", last))
        if at < 0:
            at = next(i for i, ch in enumerate(code) if ch in "{}")
        raise CNNError(
            _("a '{' or '}' without its partner"),
            line=number,
            column=at + 1,
            source=written,
            hint=_("a variable is used as {NAME}"),
        )
    return "".join(pieces) + rest + hash_ + comment, tuple(uses)


def _check_use(
    match: re.Match[str],
    name: str,
    line: str,
    number: int,
    known: dict[str, int],
    set_on: dict[str, int],
) -> None:
    problem = None
    if not _NAME.match(name):
        problem = f"'{{{match.group(1)}}}' is not a variable"
    elif name not in known:
        problem = f"unknown variable '{name}'"
    elif set_on[name] > number:
        problem = f"variable '{name}' is used before it is set (line {set_on[name]})"
    if problem is not None:
        raise CNNError(
            problem,
            line=number,
            column=match.start() + 1,
            source=line,
            width=len(match.group(0)),
            hint=did_you_mean(name, known) if known else "set it first: NAME = 5",
        )
