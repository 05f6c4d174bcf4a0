"""``%%cnn`` and ``%cnn``: read the line and the cell, evaluate, display a view.

Thin glue: the arithmetic is :func:`cnn_magic.evaluate`'s, the view
:class:`~cnn_magic.widget.CNNView`'s, the worked formulas :mod:`cnn_magic.explain`'s.
Nothing the user types is executed; ``{var}`` and ``$var`` are not expanded.

A mistake raises :class:`CNNMagicError`: IPython shows its ``_render_traceback_``
(the message, the line and a caret, no traceback) and a kernel still sends an
``error`` message, so nbclient, nbmake and nbval count the cell as failed.
"""

from __future__ import annotations

import argparse
import keyword
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from traitlets import Bool, Enum, observe

from .conventions import CONVENTIONS, DTYPE_BYTES, ROUNDINGS
from .dsl import lines
from .errors import CNNError
from .evaluate import declared_rounding
from .i18n import (
    LANGUAGES,
    N_,
    _,
    argparse_speaking,
    check_language,
    display_width,
    language,
    set_language,
    wrap_columns,
)
from .results import Network
from .sliders import SliderView, is_range, parse_ranges
from .sources import read_file
from .widget import CNNView

F = TypeVar("F", bound=Callable[..., Any])


class CNNMagicError(CNNError):
    """A :class:`CNNError` raised by the magic: shown as its message, never a traceback.

    >>> print("\\n".join(CNNMagicError("unknown layer 'cnov'", line=2, column=1,
    ...                                source="cnov 6 k5", width=4)._render_traceback_()))
    CNNError: line 2: unknown layer 'cnov'
        cnov 6 k5
        ^^^^
    """

    def _render_traceback_(self) -> list[str]:
        first, *rest = str(self).splitlines()
        return [f"CNNError: {first}", *rest]


def _surface(error: CNNError, line_offset: int = 0) -> CNNMagicError:
    """The same error as the magic shows it; ``line_offset`` counts the ``%%cnn`` line."""
    line = error.line + line_offset if error.line else error.line
    return CNNMagicError(
        error.message,
        line=line,
        column=error.column,
        source=error.source,
        width=error.width,
        hint=error.hint,
    )


CNN_HELP = N_(
    """Feature-map sizes, parameters and FLOPs of a CNN, layer by layer.

As a cell magic the network is the cell body, one statement a line::

    %%cnn --flops macs
    input 32x32x1
    C1: conv 6 k5 relu
    S2: avgpool k2 s2

As a line magic: ``%cnn input 32x32x1; conv 6 k5``, ``%cnn -f net.cnn`` or
``%cnn --example lenet5``. Toggles switch the FLOPs convention and the
rounding without re-running the cell. Defaults: ``%config CnnMagic``."""
)


def _documented(doc: str) -> Callable[[F], F]:
    """Give a function its docstring from a catalog message (a docstring itself cannot
    be marked for translation)."""

    def document(func: F) -> F:
        func.__doc__ = doc
        return func

    return document


@magics_class
class CnnMagic(Magics):
    """The ``%%cnn`` / ``%cnn`` magic; its defaults are set with ``%config CnnMagic.…``."""

    rounding = Enum(
        ROUNDINGS,
        default_value="textbook",
        help=N_(
            "Default rounding of output sizes: textbook (conv down, pooling up), floor or ceil."
        ),
    ).tag(config=True)
    flops = Enum(
        CONVENTIONS,
        default_value="flops",
        help=N_("Default operations convention: flops (2 per multiply-add), macs or exact."),
    ).tag(config=True)
    all_ops = Bool(False, help=N_("Also count pooling, activations, batch norm and adds.")).tag(
        config=True
    )
    dtype = Enum(
        tuple(DTYPE_BYTES), default_value="float32", help=N_("Data type of the activation memory.")
    ).tag(config=True)
    static = Bool(False, help=N_("Show a static table instead of the widget.")).tag(config=True)
    lang = Enum(
        LANGUAGES,
        default_value="en",
        help=N_("Language of every word shown (en or zh); also the Python API's from then on."),
    ).tag(config=True)

    @observe("lang")
    def _lang_changed(self, change: dict[str, Any]) -> None:
        set_language(change["new"])

    @classmethod
    def class_get_trait_help(cls, trait: Any, inst: Any = None, helptext: str | None = None) -> str:
        """``%config CnnMagic``'s help of one option, in the language in force."""
        if helptext is None and trait.help:
            helptext = _(trait.help)
        return str(super().class_get_trait_help(trait, inst, helptext))

    @no_var_expand
    @magic_arguments()
    @argument(
        "--flops",
        choices=CONVENTIONS,
        default=None,
        help=N_(
            "operations as FLOPs (2 per multiply-add, the notes'), MACs, or exact "
            "multiplications + additions"
        ),
    )
    @argument(
        "--rounding",
        choices=ROUNDINGS,
        default=None,
        help=N_(
            "textbook: conv rounds down, pooling up (the notes'); floor: all down "
            "(PyTorch); ceil: all up"
        ),
    )
    @argument(
        "--input",
        metavar="SHAPE",
        default=None,
        help=N_("input shape HxWxC, C@HxW or N, instead of (or replacing) an input line"),
    )
    @argument(
        "--all-ops",
        action="store_true",
        default=None,
        help=N_("also count pooling, activations, batch norm, adds and softmax"),
    )
    @argument(
        "--dtype",
        choices=tuple(DTYPE_BYTES),
        default=None,
        help=N_("data type of the activation memory (default float32)"),
    )
    @argument(
        "-o",
        metavar="NAME",
        dest="output",
        default=None,
        help=N_("store the evaluated network (a cnn_magic.Network) in the variable NAME"),
    )
    @argument(
        "--explain",
        action="store_true",
        help=N_("work out every layer's numbers with its own values, as LaTeX"),
    )
    @argument(
        "--vary",
        nargs="+",
        metavar="NAME=FROM:TO",
        default=None,
        help=N_("sliders for variables the network sets (k = 5 … k{k}): --vary k=1:7 s=1:3"),
    )
    @argument("--static", action="store_true", default=None, help=N_("a static table, no widget"))
    @argument(
        "--depth",
        metavar="N",
        type=int,
        default=None,
        help=N_(
            "levels of blocks shown expanded at first (default 2; the view's depth control "
            "changes it)"
        ),
    )
    @argument(
        "--quiz",
        nargs="?",
        const="default",
        default=None,
        metavar="WHAT",
        help=N_(
            "an exercise: the table with blanks to fill in; WHAT to hide, comma-separated: "
            "output, weights, biases, params, flops (default: output,weights,params,flops; or all)"
        ),
    )
    @argument("--lang", default=None, help=N_("language of this cell's output: en or zh"))
    @argument(
        "-f", metavar="PATH", dest="file", default=None, help=N_("read the network from a file")
    )
    @argument(
        "--example",
        metavar="NAME",
        default=None,
        help=N_("one of the example networks (lenet5, resnet50, ...)"),
    )
    @argument(
        "--model",
        metavar="NAME",
        default=None,
        help=N_(
            "a PyTorch model in a variable NAME, imported (needs --input C×H×W, PyTorch's order)"
        ),
    )
    @argument("--onnx", metavar="PATH", default=None, help=N_("an ONNX file, imported"))
    @argument(
        "--tools",
        action="store_true",
        help=N_("also show what torchinfo, fvcore, ptflops, thop and FlopCounterMode count"),
    )
    @argument(
        "--batch",
        metavar="N",
        type=int,
        default=None,
        help=N_("also show the memory of a training step at batch N"),
    )
    @argument(
        "network",
        nargs="*",
        metavar="NETWORK",
        help=N_("%%cnn only: a one-line network, statements separated by ';'"),
    )
    @line_cell_magic
    @_documented(CNN_HELP)
    def cnn(self, line: str, cell: str | None = None) -> None:
        # its docstring is CNN_HELP, so that %%cnn? can show it in either language
        offset = 0
        try:
            args, inline = _parse_line(line)
            lang = check_language(args.lang) if args.lang else None
        except CNNError as error:
            raise _surface(error, offset) from None
        with language(lang):
            self._run(args, inline, cell)

    def _run(self, args: argparse.Namespace, inline: str, cell: str | None) -> None:
        offset = 0
        try:
            text, rounding, offset = self._source(args, inline, cell)
            # an explicit --rounding, else the text's rounding statement, else the default
            rounding = args.rounding or declared_rounding(text) or rounding
            if args.quiz is not None:
                self._quiz(args, text, rounding)
                return
            convention = args.flops or self.flops
            all_ops = self.all_ops if args.all_ops is None else args.all_ops
            dtype = args.dtype or self.dtype
            static = (self.static if args.static is None else args.static) or not _has_kernel(
                self.shell
            )
            shown_input = None if args.model else args.input
            view: CNNView | SliderView
            if args.vary:
                view = SliderView(
                    text,
                    parse_ranges(args.vary),
                    rounding=args.rounding or rounding,
                    input=shown_input,
                    convention=convention,
                    all_ops=all_ops,
                    dtype=dtype,
                    static=static,
                )
            else:
                view = CNNView(
                    text,
                    rounding=args.rounding or rounding,
                    input=shown_input,
                    convention=convention,
                    all_ops=all_ops,
                    dtype=dtype,
                    static=static,
                    depth=args.depth,
                )
            name = _variable(args.output, self.shell)
        except CNNError as error:
            raise _surface(error, offset) from None
        if name is not None:
            self.shell.user_ns[name] = view.network  # type: ignore[union-attr]
        display(view)
        if args.tools:
            display(view.network.compare_tools())
        if args.batch is not None:
            try:
                display(view.network.memory(batch=args.batch, dtype=dtype))
            except CNNError as error:
                raise _surface(error) from None
        if args.explain:
            from .explain import explain  # only when asked: %load_ext stays light

            network = view.network
            assert isinstance(network, Network)  # the view raised otherwise
            worked = explain(
                network,
                convention,
                all_ops=all_ops,
                dtype=dtype,
            )
            display(worked)

    def _quiz(self, args: argparse.Namespace, text: str, rounding: str) -> None:
        """``--quiz``: the same table with blanks; shown as a widget where a kernel runs."""
        from .quiz import QuizView, parse_hide

        view = QuizView(
            text,
            hide=parse_hide(args.quiz),
            rounding=args.rounding or rounding,
            convention=args.flops or self.flops,
            input=args.input,
        )
        name = _variable(args.output)
        if name is not None:
            self.shell.user_ns[name] = view.network  # type: ignore[union-attr]
        static = (self.static if args.static is None else args.static) or not _has_kernel(
            self.shell
        )
        if static:
            display({"text/plain": view.to_text(), "text/html": view.to_html()}, raw=True)
        else:
            display(view)

    def _source(self, args: Any, inline: str, cell: str | None) -> tuple[str, str, int]:
        """The network text, its default rounding, and how far its line numbers are
        shifted in what the user sees (1 in a cell: the ``%%cnn`` line is line 1)."""
        if cell is not None and inline:
            raise CNNError(
                _("unexpected {inline!r} on the %%cnn line").format(inline=inline),
                hint=_("the network goes in the cell, under %%cnn"),
            )
        given = [
            what
            for what, present in (
                ("the cell", cell is not None and _has_statements(cell)),
                ("the %cnn line", inline),
                ("-f", args.file),
                ("--example", args.example),
                ("--model", args.model),
                ("--onnx", args.onnx),
            )
            if present
        ]
        if len(given) > 1:
            raise CNNError(
                _("the network is given twice: {value}").format(value=" and ".join(given)),
                hint=_("give it one way: in the cell, after %cnn, with -f or with --example"),
            )
        if args.file:
            return read_file(os.path.expanduser(args.file)), self.rounding, 0
        if args.example:
            return _example(args.example), self.rounding, 0
        if args.model or args.onnx:
            namespace = self.shell.user_ns if self.shell is not None else {}
            return _imported(namespace, args), "floor", 0
        text = cell if cell is not None else inline
        if not _has_statements(text):
            raise CNNError(
                _("no network given"),
                hint=_(
                    "write it in the cell under %%cnn, after %cnn (statements separated by ';'), "
                    "or use -f FILE or --example NAME"
                ),
            )
        return text, self.rounding, int(cell is not None)


def _has_kernel(shell: Any) -> bool:
    """Whether a kernel (Jupyter, VS Code, Colab) runs the shell: only then can a front
    end show widgets; terminal IPython gets the static table without importing them."""
    return getattr(shell, "kernel", None) is not None


def _has_statements(text: str) -> bool:
    """Whether ``text`` holds more than blank lines and comments."""
    try:
        found = lines(text)
    except CNNError:  # a character the language refuses: evaluating it says where
        return True
    return any(line.split("#", 1)[0].strip(" \t\f\v;") for line in found)


def _parse_line(line: str) -> tuple[argparse.Namespace, str]:
    """The options of the magic line, and the network text between them (``%cnn`` only).

    Options may stand anywhere on the line, before, after or between the statements;
    ``#`` outside quotes starts a comment to the end of the line, as in the network text,
    so an option written after it is part of the comment. Quotes around a word are
    removed (``--input "8x8x1"``, ``-f "my net.cnn"``).

    >>> args, text = _parse_line("input 32x32x1; conv 6 k5 --flops macs  # C1")
    >>> text, args.flops
    ('input 32x32x1; conv 6 k5', 'macs')
    """
    words = _words(line)
    options: list[str] = []
    runs: list[tuple[int, int]] = []  # the network's stretches of the raw line, as written
    joined = False  # whether the next network word continues the last run
    i = 0
    while i < len(words):
        start, end, word = words[i]
        i += 1
        if _OPTION.match(word):
            options.append(word)
            if len(word) > 3 and "--vary".startswith(word):  # every NAME=FROM:TO after it
                while i < len(words) and is_range(words[i][2]):
                    options.append(words[i][2])
                    i += 1
            elif "=" not in word and _takes_value(word, words[i][2] if i < len(words) else None):
                options.append(words[i][2])
                i += 1
            joined = False
        elif joined:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
            joined = True
    try:
        with argparse_speaking():  # its errors in the language in force
            args = CnnMagic.cnn.parser.parse_args(options)
    except UsageError as error:
        raise CNNError(
            _("%cnn: {error}").format(error=error), hint=_("options: see %%cnn?")
        ) from None
    return args, " ".join(line[start:end] for start, end in runs)


def _imported(namespace: dict[str, object], args: argparse.Namespace) -> str:
    """The layer-language text of ``--model NAME`` (a PyTorch model in the user's
    namespace) or ``--onnx PATH``."""
    if args.onnx:
        from .importers import from_onnx

        return from_onnx(os.path.expanduser(args.onnx)).text
    from .errors import did_you_mean
    from .importers import from_torch

    if args.model not in namespace:
        modules = [k for k, v in namespace.items() if hasattr(v, "named_modules")]
        raise CNNError(
            _("--model: no variable {model!r}").format(model=args.model),
            hint=did_you_mean(args.model, modules),
        )
    if not args.input:
        raise CNNError(_("--model needs --input, e.g. --input 3x224x224 (C×H×W, PyTorch's order)"))
    return from_torch(namespace[args.model], torch_input(args.input)).text


def torch_input(text: str) -> tuple[int, ...] | str:
    """``--input`` of ``--model``: PyTorch's order (``3x224x224``, ``1x3x224x224``), or
    ours with ``@`` (``3@224x224``)."""
    if "@" in text:
        return text
    try:
        return tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        raise CNNError(
            _("--input {text!r} is not a shape").format(text=text),
            hint=_("write C×H×W, e.g. 3x224x224"),
        ) from None


_OPTION = re.compile(r"--?[A-Za-z]")  # not "-1": a negative number is the network's


def _words(line: str) -> list[tuple[int, int, str]]:
    """The words of ``line`` up to a ``#`` outside quotes: (start, end, unquoted text).
    A quote without its closing partner is an ordinary character.

    >>> _words('-f "my net.cnn" conv#6')
    [(0, 2, '-f'), (3, 15, 'my net.cnn'), (16, 20, 'conv')]
    """
    found = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        if line[i] == "#":
            break
        start, parts = i, []
        while i < n and not line[i].isspace() and line[i] != "#":
            close = line.find(line[i], i + 1) if line[i] in "'\"" else -1
            if close > 0:
                parts.append(line[i + 1 : close])
                i = close + 1
            else:
                parts.append(line[i])
                i += 1
        found.append((start, i, "".join(parts)))
    return found


def _takes_value(option: str, following: str | None) -> bool:
    """Whether ``option`` (or the long option it abbreviates) reads the next word,
    ``following``; an optional value (``--quiz [WHAT]``) is never another option."""
    if following is None:
        return False
    known = CnnMagic.cnn.parser._option_string_actions
    actions = {known[option]} if option in known else set()
    if not actions and option.startswith("--"):
        actions = {action for name, action in known.items() if name.startswith(option)}
    if len(actions) != 1:
        return False
    nargs = actions.pop().nargs
    return nargs != 0 and not (nargs == "?" and _OPTION.match(following))


def _example(name: str) -> str:
    """An example network's text."""
    from . import examples

    return examples.text(name)


SHELL_NAMES = frozenset(
    {"get_ipython", "exit", "quit", "In", "Out", "_", "__", "___", "_i", "_ii", "_iii"}
    | {"_ih", "_oh", "_dh", "_exit_code"}
)
"""Names IPython itself keeps in the user namespace; replacing one breaks the session."""
_HISTORY_NAME = re.compile(r"_i?\d+\Z")  # _5 and _i5: output and input history


def _variable(name: str | None, shell: object = None) -> str | None:
    """The ``-o`` name, if storing a network there leaves the session working: a Python
    identifier, not a keyword, not a dunder such as ``__builtins__``, not one of the
    shell's own names (``get_ipython``, ``In``, ``_``, ``_5``, ...).

    >>> _variable("lenet")
    'lenet'
    >>> _variable("__builtins__")
    Traceback (most recent call last):
        ...
    cnn_magic.errors.CNNError: -o cannot use '__builtins__': a name Python itself uses
    for example -o net
    """
    if name is None:
        return None
    reason = None
    if not name.isidentifier():
        reason = _("not a Python variable name")
    elif keyword.iskeyword(name):
        reason = _("a Python keyword")
    elif name.startswith("__"):
        reason = _("a name Python itself uses")
    elif (
        name in SHELL_NAMES
        or _HISTORY_NAME.match(name)
        or name in getattr(shell, "user_ns_hidden", ())
    ):
        reason = _("a name the IPython shell itself uses")
    if reason:
        raise CNNError(
            _("-o cannot use {name!r}: {reason}").format(name=name, reason=reason),
            hint=_("for example -o net"),
        )
    return name


def magic_help() -> str:
    """``%%cnn?``: the usage, the options and the layers, in the language in force.

    IPython's ``?`` asks an object for ``getdoc()`` before reading its docstring, so the
    help is written when it is asked for: the same options as the magic's parser (from
    its own ``@argument`` decorators), their help through the catalog.
    """
    from IPython.core.magic_arguments import MagicArgumentParser, MagicHelpFormatter

    from .layers import help_lines

    class Formatter(MagicHelpFormatter):  # type: ignore[misc,unused-ignore]
        """Chinese help wrapped by terminal columns (as the command line's)."""

        def _split_lines(self, text: str, width: int) -> list[str]:
            if display_width(text) == len(text):
                return list(super()._split_lines(text, width))
            return wrap_columns(text, width)

    func: Any = CnnMagic.cnn
    with argparse_speaking():
        parser = MagicArgumentParser(prog="cnn", description=_(CNN_HELP), formatter_class=Formatter)
        for decorator in reversed(func.decorators):
            options = dict(decorator.kwds)
            if options.get("help"):
                options["help"] = _(options["help"])
            parser.add_argument(*decorator.args, **options)
        usage = parser.format_help()
    layers = "\n".join(f"  {line}" for line in help_lines())
    return usage + "\n" + _("layers:") + "\n" + layers + "\n"


CnnMagic.cnn.getdoc = magic_help  # type: ignore[attr-defined,unused-ignore]


def load_ipython_extension(shell: Any) -> None:
    """Register ``%%cnn``/``%cnn``; the instance joins ``shell.configurables`` itself
    (``Magics.__init__`` does it), which makes ``%config CnnMagic`` reach it."""
    unload_ipython_extension(shell)
    shell.register_magics(CnnMagic(shell=shell))


def unload_ipython_extension(shell: Any) -> None:
    """Remove ``%%cnn``/``%cnn`` and the configurable (``%unload_ext cnn_magic``)."""
    manager = shell.magics_manager
    for kind in ("line", "cell"):
        if _is_ours(manager.magics[kind].get("cnn")):
            del manager.magics[kind]["cnn"]
    manager.registry.pop("CnnMagic", None)
    shell.configurables[:] = [c for c in shell.configurables if not _is_ours(c)]


def _is_ours(thing: object) -> bool:
    # by name: after %reload_ext an older CnnMagic class may still be registered
    owner = getattr(thing, "__self__", thing)
    return type(owner).__name__ == "CnnMagic"
