"""The layer language: text → statements. Syntax only; what a word means is ``layers.py``'s.

Grammar (one statement a line; ``;`` also ends a statement)::

    text       := { line }
    line       := indent statement { ";" statement } [ "#" comment ]
    statement  := [ LABEL ":" ] WORD { argument } [ ":" ]
    argument   := token, split on spaces, tabs and commas;
                  "k = 5" is the one token "k=5"

A statement whose last character is ``:`` opens a block; its body is the following
lines indented deeper (Python's rule: tabs advance to the next multiple of 8, and where
tabs and spaces mix, the blocks must come out the same with 1-column tabs). Lines end
at ``\\n``, ``\\r\\n`` or ``\\r`` (:func:`lines`).
Blocks nest. Nothing here is case-sensitive except labels, which keep their case.

>>> [s.keyword.text for s in parse("input 32x32x1; C1: conv 6 k5  # comment")]
['input', 'conv']
>>> body = parse("repeat 2:\\n  conv 8 k3\\n  relu")[0].body
>>> [s.keyword.text for s in body]
['conv', 'relu']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from .errors import CNNError, did_you_mean

BLOCK_WORDS = ("repeat", "residual", "shortcut", "concat", "add", "branch")
"""The words that open a block; what each block does is ``evaluate.py``'s."""

MAX_NESTING = 100  # deeper than any real network; keeps recursion far from Python's limit

_TOKEN = re.compile(r"[^\s,=]+(?:[ \t]*=[ \t]*[^\s,=]+)?|=[^\s,]*")
_LABEL = re.compile(r"[A-Za-z_][\w.\-]*\Z")
_SPACES_AROUND_EQUALS = re.compile(r"[ \t]*=[ \t]*")


# Tokens and statements are named tuples rather than frozen dataclasses: just as
# immutable, and several times cheaper to create, which matters at 10,000 lines.
class Token(NamedTuple):
    """A word of the text as written, with its 1-based column on its line."""

    text: str
    column: int
    lower: str  # the text in lower case: names and flags are case-insensitive


# tuple.__new__ builds a named tuple without its Python-level __new__: a parse makes
# one Token per word, and the call is a third of the cost
_new = tuple.__new__


def token(text: str, column: int) -> Token:
    return _new(Token, (text, column, text.lower()))


class Statement(NamedTuple):
    """One statement: ``[label:] keyword args...``, with the body if it opens a block."""

    keyword: Token
    args: tuple[Token, ...]
    label: Token | None
    line: int
    source: str  # the whole physical line, quoted by error messages
    opens_block: bool = False
    body: tuple[Statement, ...] = ()
    indent: int = 0

    @property
    def text(self) -> str:
        """The statement as written, without its label: ``conv 6 k5 relu``."""
        words = " ".join([self.keyword.text, *[t.text for t in self.args]])
        return words + ":" if self.opens_block else words

    def error(self, message: str, token: Token | None = None, hint: str | None = None):
        """A :class:`CNNError` pointing at ``token`` (the keyword by default)."""
        token = token or self.keyword
        return CNNError(
            message,
            line=self.line,
            column=token.column,
            source=self.source,
            width=len(token.text),
            hint=hint,
        )


def parse(text: str) -> tuple[Statement, ...]:
    """Split ``text`` into top-level statements, each block holding its body."""
    flat = list(_statements(text))
    if not flat:
        return ()
    body, end = _block(flat, 0, flat[0].indent, depth=0)
    if end < len(flat):  # a line less indented than the first one
        raise _indent_error(flat[end], "this line is indented less than the first statement")
    return body


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HIDDEN_BREAKS = {
    "\x1c": "a file separator (U+001C)",
    "\x1d": "a group separator (U+001D)",
    "\x1e": "a record separator (U+001E)",
    "\x1f": "a unit separator (U+001F)",
    "\x85": "a next-line character (U+0085)",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
}
"""Characters that ``str.splitlines()`` breaks lines at but Python and Jupyter do not:
whether they end a line depends on the editor, so a text holding one is refused."""
_HIDDEN_BREAK = re.compile("[" + "".join(_HIDDEN_BREAKS) + "]")


def lines(text: str) -> list[str]:
    """The physical lines of ``text``: broken at ``\\n``, ``\\r\\n`` and ``\\r`` only, as
    Python and Jupyter break them; a leading byte-order mark is dropped. Vertical tab and
    form feed are whitespace inside a line.

    >>> lines("input 8x8x1\\r\\nconv 6\\fk3\\rrelu")
    ['input 8x8x1', 'conv 6\\x0ck3', 'relu']
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    hidden = _HIDDEN_BREAK.search(text)
    if hidden:
        _refuse_hidden_break(text, hidden.start())
    if "\v" not in text and "\f" not in text:
        return text.splitlines()  # the same split, and several times faster
    found = _LINE_BREAK.split(text)
    return found[:-1] if found and not found[-1] else found


def _refuse_hidden_break(text: str, at: int) -> None:
    before = _LINE_BREAK.split(text[:at])
    number, column = len(before), len(before[-1]) + 1
    source = _LINE_BREAK.split(text[at - column + 1 :], maxsplit=1)[0]
    raise CNNError(
        f"{_HIDDEN_BREAKS[text[at]]} in the text",
        line=number,
        column=column,
        source=source,
        hint="some editors break the line there and some do not: use a new line or a space instead",
    )


_AS_SPACE = {ord("\f"): " ", ord("\v"): " "}


def _statements(text: str) -> Iterator[Statement]:
    """Yield flat statements with their indentation, blocks not yet attached."""
    margins = _Margins() if "\t" in text else None  # without tabs nothing can disagree
    for number, source in enumerate(lines(text), start=1):
        code = source.partition("#")[0]
        stripped = code.lstrip(" \t\f\v")
        if not stripped or stripped.isspace():
            continue
        margin = code[: len(code) - len(stripped)]
        if "\f" in code or "\v" in code:
            # whitespace to the tokens (same length: the columns hold); in the margin, as
            # in Python, a form feed resets the column
            code = margin + stripped.translate(_AS_SPACE)
            margin = margin[max(margin.rfind("\f"), margin.rfind("\v")) + 1 :]
        indent = len(margin.expandtabs(8)) if "\t" in margin else len(margin)
        if margins is not None:
            margins.check(indent, len(margin), number, source)
        if ";" not in code:
            if "," not in code or code.replace(",", " ").strip():  # commas count as spaces
                yield _statement(code, 0, number, source, indent)
            continue
        offset = 0
        for piece in code.split(";"):
            if piece.replace(",", " ").strip():
                yield _statement(piece, offset, number, source, indent)
            offset += len(piece) + 1


class _Margins:
    """Python's check of tabs against spaces: every indentation is compared both with
    tabs as 8 columns and as 1, and the two comparisons must agree; otherwise the block
    a line joins depends on the editor's tab width."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, int]] = []

    def check(self, tab8: int, tab1: int, line: int, source: str) -> None:
        stack = self.stack
        if not stack:
            stack.append((tab8, tab1))
            return
        top8, top1 = stack[-1]
        if tab8 > top8:
            consistent = tab1 > top1
            stack.append((tab8, tab1))
        else:
            while len(stack) > 1 and tab8 < stack[-1][0]:
                stack.pop()
            top8, top1 = stack[-1]
            consistent = tab8 != top8 or tab1 == top1
        if not consistent:
            raise CNNError(
                "inconsistent use of tabs and spaces in indentation",
                line=line,
                column=1,
                source=source,
                width=max(1, tab1),
                hint="indent with spaces only or with tabs only: editors disagree on how "
                "wide a tab is (Python counts 8 columns)",
            )


def _statement(piece: str, offset: int, line: int, source: str, indent: int) -> Statement:
    if ":" not in piece and "=" not in piece:  # the common case: no label, block or key=
        spaced = piece.replace(",", " ")  # same length: columns still hold
        tokens, end = [], 0
        for word in spaced.split():
            end = spaced.index(word, end)
            tokens.append(_new(Token, (word, offset + end + 1, word.lower())))
            end += len(word)
        return _new(
            Statement, (tokens[0], tuple(tokens[1:]), None, line, source, False, (), indent)
        )
    tokens = [
        token(
            _SPACES_AROUND_EQUALS.sub("=", m.group()) if "=" in m.group() else m.group(),
            offset + m.start() + 1,
        )
        for m in _TOKEN.finditer(piece)
    ]
    label = None
    first = tokens[0]
    if ":" in first.text[:-1] and not first.text.startswith(":"):
        # "C1:conv" written without a space
        name, rest = first.text.split(":", 1)
        tokens[0:1] = [token(name + ":", first.column), token(rest, first.column + len(name) + 1)]
        first = tokens[0]
    opens_block = tokens[-1].text.endswith(":")
    if first.text.endswith(":") and len(tokens) > 1:
        label = token(first.text[:-1], first.column)
        if not _LABEL.match(label.text):
            raise CNNError(
                f"'{label.text}' is not a valid label",
                line=line,
                column=first.column,
                source=source,
                width=len(first.text),
                hint="a label is a letter or '_' followed by letters, digits, '_', '.' or '-'",
            )
        tokens = tokens[1:]
    if opens_block:
        last = tokens[-1]
        if last.text == ":":
            tokens.pop()
        else:
            tokens[-1] = token(last.text[:-1], last.column)
    for word in tokens:
        if ":" in word.text or not word.text:
            raise CNNError(
                f"unexpected '{word.text or ':'}'",
                line=line,
                column=word.column,
                source=source,
                width=max(1, len(word.text)),
                hint="':' may only follow a label (C1: conv 6 k5) or end a block (repeat 2:)",
            )
    if not tokens:
        raise CNNError(
            "a label with nothing to name",
            line=line,
            column=first.column,
            source=source,
            width=len(first.text),
            hint="write the layer after the label: C1: conv 6 k5",
        )
    return Statement(tokens[0], tuple(tokens[1:]), label, line, source, opens_block, indent=indent)


def _block(flat: list[Statement], pos: int, indent: int, depth: int):
    """Read statements at ``indent`` from ``pos``; return (statements, next position)."""
    if depth > MAX_NESTING:
        raise flat[pos].error(f"blocks nest deeper than {MAX_NESTING} levels")
    items: list[Statement] = []
    while pos < len(flat) and flat[pos].indent == indent:
        statement = flat[pos]
        pos += 1
        if statement.opens_block:
            _check_block_word(statement)
            if pos == len(flat) or flat[pos].indent <= indent:
                raise statement.error(
                    f"'{statement.text}' opens a block with nothing in it",
                    hint="indent the block's lines under it",
                )
            body, pos = _block(flat, pos, flat[pos].indent, depth + 1)
            statement = statement._replace(body=body)
        items.append(statement)
    if pos < len(flat):
        following = flat[pos]
        if following.indent > indent:
            raise _indent_error(
                following,
                "unexpected indentation",
                "only the lines of a block (after a line ending in ':') are indented",
            )
    return tuple(items), pos


def _check_block_word(statement: Statement) -> None:
    word = statement.keyword.lower
    if word in BLOCK_WORDS:
        return
    if not statement.args and statement.label is None:
        raise statement.error(
            f"unknown block '{statement.keyword.text}:'",
            hint=f"{did_you_mean(word, BLOCK_WORDS)} (a label goes before a layer on the "
            "same line: C1: conv 6 k5)",
        )
    raise statement.error(
        f"unknown block '{statement.keyword.text}:'", hint=did_you_mean(word, BLOCK_WORDS)
    )


def _indent_error(statement: Statement, message: str, hint: str | None = None) -> CNNError:
    if hint is None:
        hint = "indent it like the lines of the block it belongs to"
    return CNNError(
        message,
        line=statement.line,
        column=1,
        source=statement.source,
        width=max(1, statement.keyword.column - 1),
        hint=hint,
    )
