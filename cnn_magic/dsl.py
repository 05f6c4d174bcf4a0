"""The layer language: text → statements with their arguments read. Syntax only; what a
word means is ``layers.py``'s.

Grammar (one statement a line; ``;`` also ends a statement)::

    text       := { line }
    line       := indent statement { ";" statement } [ "#" comment ]
    statement  := [ LABEL ":" ] WORD { argument } [ ":" ]
    argument   := token, split on spaces, tabs and commas;
                  "k = 5" is the one token "k=5"

A statement whose last character is ``:`` opens a block; its body is the following
lines indented deeper (Python's rule: tabs advance to the next multiple of 8, and where
tabs and spaces mix, the blocks must come out the same with 1-column tabs). Lines end
at ``\\n``, ``\\r\\n`` or ``\\r`` (:func:`lines`). A name alone (``layer1:``, not a block's
word or close to one) opens a group of that name.
Blocks nest. Nothing here is case-sensitive except labels, which keep their case.

Arguments (:func:`read_args`): ``k5``, ``k=5``, ``k3x1``, ``kernel_size=3`` (a key and
one whole number per spatial dimension, or one for all); flags ``same``, ``valid``,
``nobias``, ``floor``, ``ceil``; bare numbers (``6``, ``0.5``, ``6x3``); and words
(``relu``), whose meaning the layer's rule decides. Input shapes (:func:`parse_shape`):
``HxWxC``, ``DxHxWxC``, ``C@L``, ``C@HxW``, ``C@DxHxW`` or ``N`` (a vector).

>>> [s.keyword.text for s in parse("input 32x32x1; C1: conv 6 k5  # comment")]
['input', 'conv']
>>> body = parse("repeat 2:\\n  conv 8 k3\\n  relu")[0].body
>>> [s.keyword.text for s in body]
['conv', 'relu']
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import NamedTuple

from . import pytorch_lines
from .errors import CNNError, did_you_mean
from .i18n import N_, _

BLOCKS = ("repeat", "residual", "concat", "add", "scale", "split", "side", "group")
"""Blocks that may stand anywhere; ``shortcut:`` lives in ``residual:``, ``branch:`` in
``concat:`` and ``add:``. What each block does is ``evaluate.py``'s. A group line, a
name alone before ``:`` (``layer1:``), opens a ``group:`` so named: its lines run in
order, as a stage of torchvision's ResNet does."""
INNER_BLOCKS = {"shortcut": "residual:", "branch": N_("concat:, add: or split:")}
"""Blocks that live only inside another, with where they belong."""
BLOCK_WORDS = (*BLOCKS, *INNER_BLOCKS)
"""Every word that opens a block."""

MAX_NESTING = 100  # deeper than any real network; keeps recursion far from Python's limit

_TOKEN = re.compile(r"[^\s,=]+(?:[ \t]*=[ \t]*[^\s,=]+)?|=[^\s,]*")
# any letter of any script starts a label (卷积1: conv 6 k5), as in Python names
_LABEL = re.compile(r"[^\W\d][\w.\-]*\Z")
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
    """A token of ``text`` at ``column``."""
    made: Token = _new(Token, (text, column, text.lower()))
    return made


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

    def error(self, message: str, token: Token | None = None, hint: str | None = None) -> CNNError:
        """A :class:`CNNError` pointing at ``token`` (the keyword by default)."""
        where = token or self.keyword
        return CNNError(
            message,
            line=self.line,
            column=where.column,
            source=self.source,
            width=len(where.text),
            hint=hint,
        )


def parse(text: str) -> tuple[Statement, ...]:
    """Split ``text`` into top-level statements, each block holding its body."""
    flat = list(_statements(text))
    if not flat:
        return ()
    body, end = _block(flat, 0, flat[0].indent, depth=0)
    if end < len(flat):  # a line less indented than the first one
        raise _indent_error(flat[end], _("this line is indented less than the first statement"))
    return body


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HIDDEN_BREAKS = {
    "\x1c": N_("a file separator (U+001C)"),
    "\x1d": N_("a group separator (U+001D)"),
    "\x1e": N_("a record separator (U+001E)"),
    "\x1f": N_("a unit separator (U+001F)"),
    "\x85": N_("a next-line character (U+0085)"),
    "\u2028": N_("a line separator (U+2028)"),
    "\u2029": N_("a paragraph separator (U+2029)"),
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
        _("{HIDDEN_BREAKS} in the text").format(HIDDEN_BREAKS=_(_HIDDEN_BREAKS[text[at]])),
        line=number,
        column=column,
        source=source,
        hint=_(
            "some editors break the line there and some do not: use a new line or a space instead"
        ),
    )


_AS_SPACE = {ord("\f"): " ", ord("\v"): " "}


def _statements(text: str) -> Iterator[Statement]:
    """Yield flat statements with their indentation, blocks not yet attached."""
    margins = _Margins() if "\t" in text else None  # without tabs nothing can disagree
    # lines written alike share their source string and tokens: a long network repeats
    # a few lines, and this halves the memory its statements hold
    seen: dict[str, str] = {}
    shared: dict[tuple[str, int], Statement] = {}
    for number, line in enumerate(lines(text), start=1):
        source = seen.setdefault(line, line)
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
                yield _statement(code, 0, number, source, indent, shared)
            continue
        offset = 0
        for piece in code.split(";"):
            if piece.replace(",", " ").strip():
                yield _statement(piece, offset, number, source, indent, shared)
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
                _("inconsistent use of tabs and spaces in indentation"),
                line=line,
                column=1,
                source=source,
                width=max(1, tab1),
                hint=_(
                    "indent with spaces only or with tabs only: editors disagree on how wide a tab "
                    "is (Python counts 8 columns)"
                ),
            )


def _statement(
    piece: str,
    offset: int,
    line: int,
    source: str,
    indent: int,
    shared: dict[tuple[str, int], Statement] | None = None,
) -> Statement:
    if ":" not in piece and "=" not in piece:  # the common case: no label, block or key=
        known = shared.get((piece, offset)) if shared is not None else None
        if known is not None:  # the same words at the same columns: the same tokens
            again: Statement = _new(
                Statement, (known[0], known[1], None, line, source, False, (), indent)
            )
            return again
        spaced = piece.replace(",", " ")  # same length: columns still hold
        tokens: list[Token] = []
        end = 0
        for word in spaced.split():
            end = spaced.index(word, end)
            tokens.append(_new(Token, (word, offset + end + 1, word.lower())))
            end += len(word)
        made: Statement = _new(
            Statement, (tokens[0], tuple(tokens[1:]), None, line, source, False, (), indent)
        )
        if shared is not None and len(shared) < 4096:
            shared[piece, offset] = made
        return made
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
                _("'{text}' is not a valid label").format(text=label.text),
                line=line,
                column=first.column,
                source=source,
                width=len(first.text),
                hint=_("a label is a letter or '_' followed by letters, digits, '_', '.' or '-'"),
            )
        tokens = tokens[1:]
    if opens_block:
        last = tokens[-1]
        if last.text == ":":
            tokens.pop()
        else:
            tokens[-1] = token(last.text[:-1], last.column)
    for each in tokens:
        if ":" in each.text or not each.text:
            raise CNNError(
                _("unexpected '{value}'").format(value=each.text or ":"),
                line=line,
                column=each.column,
                source=source,
                width=max(1, len(each.text)),
                hint=_("':' may only follow a label (C1: conv 6 k5) or end a block (repeat 2:)"),
            )
    if not tokens:
        raise CNNError(
            _("a label with nothing to name"),
            line=line,
            column=first.column,
            source=source,
            width=len(first.text),
            hint=_("write the layer after the label: C1: conv 6 k5"),
        )
    return Statement(tokens[0], tuple(tokens[1:]), label, line, source, opens_block, indent=indent)


def _block(
    flat: list[Statement], pos: int, indent: int, depth: int
) -> tuple[tuple[Statement, ...], int]:
    """Read statements at ``indent`` from ``pos``; return (statements, next position)."""
    if depth > MAX_NESTING:
        raise flat[pos].error(
            _("blocks nest deeper than {MAX_NESTING} levels").format(MAX_NESTING=MAX_NESTING)
        )
    items: list[Statement] = []
    while pos < len(flat) and flat[pos].indent == indent:
        statement = flat[pos]
        pos += 1
        if statement.opens_block:
            statement = _check_block_word(statement)
            if pos == len(flat) or flat[pos].indent <= indent:
                if statement.keyword.lower == "group" and statement.label is not None:
                    raise statement.error(
                        _("'{text}:' opens a group with nothing in it").format(
                            text=statement.label.text
                        ),
                        statement.label,
                        hint=_(
                            "indent the group's lines under it; a label goes before a layer "
                            "on the same line: C1: conv 6 k5"
                        ),
                    )
                raise statement.error(
                    _("'{text}' opens a block with nothing in it").format(text=statement.text),
                    hint=_("indent the block's lines under it"),
                )
            body, pos = _block(flat, pos, flat[pos].indent, depth + 1)
            statement = statement._replace(body=body)
        items.append(statement)
    if pos < len(flat):
        following = flat[pos]
        if following.indent > indent:
            translation = pytorch_lines.translate(following.source)
            if translation is not None:  # pasted from a model's __init__, indented
                raise following.error(
                    pytorch_lines.message(following.keyword.text),
                    hint=pytorch_lines.hint(translation),
                )
            raise _indent_error(
                following,
                _("unexpected indentation"),
                _("only the lines of a block (after a line ending in ':') are indented"),
            )
    return tuple(items), pos


def _check_block_word(statement: Statement) -> Statement:
    """The statement if it opens a known block; a name alone opens a group of that name."""
    word = statement.keyword.lower
    if word in BLOCK_WORDS:
        return statement
    if not statement.args and statement.label is None:
        if _LABEL.match(statement.keyword.text) and is_group_name(word):
            # the keyword reads "group" but keeps the name's text and place, so a caret
            # under it marks what the user wrote
            name = statement.keyword
            group: Token = _new(Token, (name.text, name.column, "group"))
            return statement._replace(keyword=group, label=name)
        raise statement.error(
            _("unknown block '{text}:'").format(text=statement.keyword.text),
            hint=_(
                "{did_you_mean} (a label goes before a layer on the same line: C1: conv 6 k5; "
                "a name alone, unlike a block's, opens a group: layer1:)"
            ).format(did_you_mean=did_you_mean(word, BLOCK_WORDS)),
        )
    raise statement.error(
        _("unknown block '{text}:'").format(text=statement.keyword.text),
        hint=did_you_mean(word, BLOCK_WORDS),
    )


@functools.lru_cache(maxsize=1024)  # stage names recur (layer1:, ...) across evaluations
def is_group_name(word: str) -> bool:
    """A group's name must not read as a misspelt block (``residul:``) or layer word."""
    import difflib  # only for a name alone before ':'

    return not difflib.get_close_matches(word, BLOCK_WORDS, n=1, cutoff=0.75)


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


# --------------------------------------------------------------------------- numbers

MAX_NUMBER = 10**9
"""The largest number the text may hold: no real network needs more, and it keeps every
count exact and every look-up fast."""


def whole(statement: Statement, token: Token, digits: str) -> int:
    """A whole number of the text, judged by its value (``0006`` is 6); more than 10⁹ is
    refused."""
    significant = digits.lstrip("0")
    value = int(significant or "0") if len(significant) <= 10 else MAX_NUMBER + 1
    if value > MAX_NUMBER:
        shown = significant[:12] + ("…" if len(significant) > 12 else "")
        raise statement.error(
            _("'{text}': {shown} is too large (at most 1,000,000,000)").format(
                text=token.text, shown=shown
            ),
            token,
        )
    return value


# --------------------------------------------------------------------------- arguments

Value = tuple[int, ...] | tuple[float] | str | bool
"""What an argument token holds: whole numbers (one per dimension, or one for all), a
fraction, a word (``same``, ``bilinear``, ``relu``) or a yes/no."""


class Arg(NamedTuple):
    """One argument of a statement: its name, its value and the token it came from.

    ``name`` is an argument key (``kernel``, ``stride``, ``padding``, ``dilation``,
    ``groups``, ``out_pad``, ``bias``, ``mode``), ``rounding`` (the flags ``floor`` and
    ``ceil``), ``number`` (a bare number) or ``word`` (a bare word: the rule decides).
    """

    name: str
    value: Value
    token: Token


KEYS = {
    "k": "kernel",
    "kernel": "kernel",
    "kernel_size": "kernel",
    "s": "stride",
    "stride": "stride",
    "p": "padding",
    "pad": "padding",
    "padding": "padding",
    "d": "dilation",
    "dilation": "dilation",
    "g": "groups",
    "groups": "groups",
    "op": "out_pad",
    "output_padding": "out_pad",
    "bias": "bias",
    "mode": "mode",
    "top": "top",
    "bottom": "bottom",
    "left": "left",
    "right": "right",
}
"""Argument keys as written (``k=3``, ``kernel_size=3``) → argument names."""

KEY_FORMS = {
    "kernel": N_("k5 or k=3x1"),
    "stride": N_("s2 or s=2x1"),
    "padding": N_("p1, p=1x2, same or valid"),
    "dilation": "d2",
    "groups": "g32",
    "out_pad": "op=1",
    "bias": N_("nobias or bias=no"),
    "rounding": N_("floor or ceil"),
    "mode": "mode=nearest",
    "top": "top=1",
    "bottom": "bottom=1",
    "left": "left=1",
    "right": "right=1",
    "frozen": "frozen",
}
"""How each argument is written, for hints."""

FLAGS: dict[str, tuple[str, Value]] = {
    "same": ("padding", "same"),
    "valid": ("padding", "valid"),
    "nobias": ("bias", False),
    "floor": ("rounding", "floor"),
    "ceil": ("rounding", "ceil"),
    "frozen": ("frozen", True),
}
"""Words that stand for an argument: ``same`` is ``p=same``."""

BIAS_WORDS = {
    "no": False,
    "false": False,
    "0": False,
    "off": False,
    "yes": True,
    "true": True,
    "1": True,
    "on": True,
}

_SHORT = re.compile(r"(op|k|s|p|d|g)(\d.*)\Z", re.ASCII)
_INTS = re.compile(r"(\d+)(?:x(\d+))?(?:x(\d+))?\Z", re.ASCII)
_FRACTION = re.compile(r"(\d+\.\d*|\.\d+)\Z", re.ASCII)
_WORD = re.compile(r"[a-z_][a-z0-9_]*\Z", re.ASCII)


def read_args(statement: Statement) -> tuple[Arg, ...]:
    """Every argument token of ``statement`` read; a token that is no argument at all is a
    CNNError. Whether the layer takes it is its rule's question."""
    return tuple(_read(statement, token) for token in statement.args)


_READ: dict[str, tuple[str, Value]] = {}


def _read(statement: Statement, token: Token) -> Arg:
    # remembered per word, as networks repeat their arguments: a tenth of a parse
    known = _READ.get(token.lower)
    if known is None:
        known = _read_new(statement, token)
        if len(_READ) < 4096:
            _READ[token.lower] = known
    return Arg(known[0], known[1], token)


def _read_new(statement: Statement, token: Token) -> tuple[str, Value]:
    word = token.lower
    if word in FLAGS:
        return FLAGS[word]
    if "=" in word:
        key, _equals, value = word.partition("=")
        if key not in KEYS:
            raise statement.error(
                _("unknown argument '{key}='").format(key=key), token, hint=did_you_mean(key, KEYS)
            )
    elif match := _SHORT.match(word):
        key, value = match.groups()
    elif _INTS.match(word) or _FRACTION.match(word):
        return "number", _number(statement, token, word)
    elif _WORD.match(word):
        return "word", word
    else:
        raise unknown_argument(statement, token, ())
    name = KEYS[key]
    return name, _value(statement, token, name, value)


def unknown_argument(statement: Statement, token: Token, words: tuple[str, ...]) -> CNNError:
    """The error for a token that is no argument of its layer; ``words`` are the bare
    words the layer would take (its activations, its modes)."""
    word = token.lower
    choices = (*FLAGS, *words, *KEYS)
    import difflib  # the error path only

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    key = KEYS.get(word[:1]) if word[:1] in "kspdg" else None
    if close:
        hint = _("did you mean {choice!r}?").format(choice=close[0])
    elif key:
        hint = _("{key} is written {forms}").format(key=key, forms=_(KEY_FORMS[key]))
    else:
        hint = did_you_mean(word, choices)
    error: CNNError = statement.error(
        _("unknown argument '{text}'").format(text=token.text), token, hint=hint
    )
    return error


def _value(statement: Statement, token: Token, name: str, value: str) -> Value:
    if name == "bias":
        if value not in BIAS_WORDS:
            raise statement.error(
                _("bias={value} is not yes or no").format(value=value),
                token,
                hint=_("write bias=no (or nobias) for a layer without bias"),
            )
        return BIAS_WORDS[value]
    if name == "mode" or (name == "padding" and value in ("same", "valid")):
        if not _WORD.match(value):
            raise statement.error(
                _("'{text}': {name} is a word").format(text=token.text, name=name), token
            )
        return value
    match = _INTS.match(value)
    if match is None:
        raise statement.error(
            _("'{text}': {name} must be a whole number or HxW").format(text=token.text, name=name),
            token,
            hint=_("for example {KEY_FORMS}").format(KEY_FORMS=_(KEY_FORMS[name])),
        )
    return tuple(whole(statement, token, v) for v in match.groups() if v is not None)


def _number(statement: Statement, token: Token, word: str) -> Value:
    if _FRACTION.match(word):
        return (float(word),)
    match = _INTS.match(word)
    assert match is not None  # the caller matched it
    return tuple(whole(statement, token, v) for v in match.groups() if v is not None)


# --------------------------------------------------------------------------- input shapes

SHAPE_HINT = N_(
    "write input HxWxC (32x32x1), C@HxW (1@32x32), C@L (2@128) or C@DxHxW (3@16x112x112) "
    "for maps, N for a vector (784)"
)
"""The hint for a missing or wrong input shape (English: pass it through i18n._)."""
_CHANNELS_FIRST_MAX = 4  # 1, 3 or 4 channels first: grey, RGB, RGBA as PyTorch writes them
_SQUARE_SIDE_MIN = 16  # a square image side; smaller squares are plausibly H×W×C
_PAPER = re.compile(r"(\d+)@(\d+)(?:x(\d+))?(?:x(\d+))?\Z", re.ASCII)
_LAST = re.compile(r"(\d+)x(\d+)(?:x(\d+))?(?:x(\d+))?\Z", re.ASCII)
_DIGITS = re.compile(r"\d+\Z", re.ASCII)


def input_shape(statement: Statement) -> tuple[int, ...]:
    """The shape of an ``input`` statement: ``HxWxC`` or ``DxHxWxC`` (channels last, the
    notes' order), ``C@L``, ``C@HxW`` or ``C@DxHxW`` (channels first, the LeNet paper's
    ``@``), or ``N`` for a vector; also ``32, 32, 1`` as three numbers.

    A channels-last shape whose first number is at most 4 and whose last two are equal
    and at least 16 (``3x224x224``, ``1x28x28``, ``3x16x112x112``) reads like PyTorch's
    channels-first C×H×W and is refused with a hint (``224x224x3`` or ``3@224x224``);
    such a map, if really meant, is written channels-first: ``224@3x224``.
    """
    args = statement.args
    if not args:
        raise statement.error(_("input needs a shape"), hint=_(SHAPE_HINT))
    words = [t.lower for t in args]
    token = args[0]
    numbers: list[int] | None = None
    channels_first = False
    if len(args) in (3, 4) and all(_DIGITS.match(w) for w in words):  # "input 32, 32, 1"
        numbers = [whole(statement, t, w) for t, w in zip(args, words, strict=True)]
    elif len(args) == 1:
        word = words[0]
        if m := _PAPER.match(word):
            numbers = [whole(statement, token, v) for v in m.groups() if v is not None]
            channels_first = True
        elif m := _LAST.match(word):
            numbers = [whole(statement, token, v) for v in m.groups() if v is not None]
            if len(numbers) == 2:
                raise statement.error(
                    _("'{text}' has no channel count").format(text=token.text),
                    token,
                    hint=_(
                        "shapes are H×W×C: did you mean {text}x1 (grey) or {text}x3 (colour)?"
                    ).format(text=token.text),
                )
        elif _DIGITS.match(word):
            numbers = [whole(statement, token, word)]
    if numbers is None:
        bad = args[0] if len(args) == 1 else args[min(len(args) - 1, 4)]
        raise statement.error(
            _("'{value}' is not a shape").format(value=" ".join(t.text for t in args)),
            bad,
            hint=_(SHAPE_HINT),
        )
    if min(numbers) < 1:
        raise statement.error(_("every input dimension must be at least 1"), token)
    if channels_first:
        return (*numbers[1:], numbers[0])
    if (
        len(numbers) > 2
        and numbers[0] <= _CHANNELS_FIRST_MAX
        and numbers[-1] == numbers[-2] >= _SQUARE_SIDE_MIN
    ):
        c, *spatial = numbers
        last = "x".join(map(str, [*spatial, c]))
        first = f"{c}@" + "x".join(map(str, spatial))
        raise statement.error(
            _("'{value}' reads like PyTorch's channels-first {value2}").format(
                value=" ".join(t.text for t in args),
                value2="C×D×H×W" if len(spatial) == 3 else "C×H×W",
            ),
            token,
            hint=_("shapes here put the channels last: did you mean {last} or {first}?").format(
                last=last, first=first
            ),
        )
    return tuple(numbers)


def parse_shape(text: str) -> tuple[int, ...]:
    """An input shape written as in an ``input`` line (see :func:`input_shape`).

    >>> parse_shape("32x32x1"), parse_shape("1@32x32"), parse_shape("784")
    ((32, 32, 1), (32, 32, 1), (784,))
    >>> parse_shape("2@128"), parse_shape("3@16x112x112")
    ((128, 2), (16, 112, 112, 3))
    """
    try:
        statements = parse(f"input {text}")
        if len(statements) != 1 or statements[0].opens_block:
            raise CNNError(_("{text!r} is not a shape").format(text=text), hint=_(SHAPE_HINT))
        return input_shape(statements[0])
    except CNNError as err:  # the option is not a line of the user's text: no caret
        raise CNNError(
            _("input shape {text!r}: {message}").format(text=text, message=err.message),
            hint=err.hint,
        ) from None
