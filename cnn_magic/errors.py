"""The one error users see.

Every mistake in a network text, or in an option, raises :class:`CNNError`. It is a
``ValueError`` (the value the user gave is wrong), carries the 1-based ``line`` and
``column`` of the offending token, and its ``str()`` quotes the line with a caret
under the token:

>>> err = CNNError("unknown layer 'cnov'", line=2, column=5, source="C1: cnov 6 k5",
...                width=4, hint="did you mean 'conv'?")
>>> print(err)
line 2: unknown layer 'cnov'
    C1: cnov 6 k5
        ^^^^
did you mean 'conv'?
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .i18n import _, current_language, display_width, language


class CNNError(ValueError):
    """A mistake in a network description or an option.

    ``line`` and ``column`` are 1-based (``None`` when the mistake is not in the text,
    e.g. a bad ``rounding=`` argument); ``width`` is the length of the token to mark.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        source: str | None = None,
        width: int = 1,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        self.width = max(1, width)
        self.hint = hint
        self.language = current_language()  # the message's: "line 2:" speaks it too
        super().__init__(self._render())

    def _render(self) -> str:
        with language(self.language):
            line = _("line {line}: {message}")
        head = line.format(line=self.line, message=self.message) if self.line else self.message
        parts = [visible(head)]
        if self.source is not None:
            text = self.source.expandtabs(1)
            parts.append("    " + visible(text))
            if self.column:
                # the caret sits under the token as shown: escapes and wide (CJK)
                # characters included
                start = display_width(visible(text[: self.column - 1]))
                token = text[self.column - 1 : self.column - 1 + self.width]
                width = max(1, display_width(visible(token)) + self.width - len(token))
                parts.append("    " + " " * start + "^" * width)
        if self.hint:
            parts.append(visible(self.hint))
        return "\n".join(parts)

    def __str__(self) -> str:
        return self._render()

    def __reduce__(  # keep the keyword-only constructor picklable
        self,
    ) -> tuple[Callable[..., CNNError], tuple[object, ...]]:
        return (
            _rebuild,
            (self.message, self.line, self.column, self.source, self.width, self.hint),
        )


def _rebuild(
    message: str,
    line: int | None,
    column: int | None,
    source: str | None,
    width: int,
    hint: str | None,
) -> CNNError:
    return CNNError(message, line=line, column=column, source=source, width=width, hint=hint)


def visible(text: str) -> str:
    r"""``text`` with every character a terminal would act on or hide written as its
    Python escape, so a message cannot retitle or clear the terminal, and an invisible
    character shows. Line breaks of a multi-line message stay.

    >>> visible("conv\x1b]0;owned\x07 6\u2028k3")
    'conv\\x1b]0;owned\\x07 6\\u2028k3'
    """
    if text.isprintable():  # the common case, and C-fast
        return text
    return "\n".join(
        "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in line)
        for line in text.split("\n")
    )


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing the choices.

    >>> did_you_mean("maxpol", ["maxpool", "avgpool", "conv"])
    "did you mean 'maxpool'?"
    >>> did_you_mean("zzz", ["floor", "ceil"])
    'valid: ceil, floor'
    """
    import difflib  # only on the error path: keeps the import of cnn_magic light

    choices = sorted(set(choices))
    close = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    if close:
        return _("did you mean {choice!r}?").format(choice=close[0])
    return _("valid: {choices}").format(choices=", ".join(choices))
