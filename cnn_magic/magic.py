"""``%%cnn`` and ``%cnn``: read the line and the cell, evaluate, display a view.

Thin glue: the arithmetic is :func:`cnn_magic.evaluate`'s, the view
:class:`~cnn_magic.widget.CNNView`'s, the worked formulas :mod:`cnn_magic.explain`'s.
Nothing the user types is executed; ``{var}`` and ``$var`` are not expanded.

A mistake raises :class:`CNNMagicError`: IPython shows its ``_render_traceback_``
(the message, the line and a caret, no traceback) and a kernel still sends an
``error`` message, so nbclient, nbmake and nbval count the cell as failed.
"""

from __future__ import annotations

import keyword
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display
from IPython.utils.process import arg_split  # type: ignore[attr-defined]
from traitlets import Bool, Enum

from .conventions import CONVENTIONS, DTYPE_BYTES, ROUNDINGS
from .errors import CNNError
from .evaluate import declared_rounding
from .results import Network
from .widget import CNNView


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


@magics_class
class CnnMagic(Magics):
    """The ``%%cnn`` / ``%cnn`` magic; its defaults are set with ``%config CnnMagic.…``."""

    rounding = Enum(
        ROUNDINGS,
        default_value="textbook",
        help="Default rounding of output sizes: textbook (conv down, pooling up), floor or ceil.",
    ).tag(config=True)
    flops = Enum(
        CONVENTIONS,
        default_value="flops",
        help="Default operations convention: flops (2 per multiply-add), macs or exact.",
    ).tag(config=True)
    all_ops = Bool(False, help="Also count pooling, activations, batch norm and adds.").tag(
        config=True
    )
    dtype = Enum(
        tuple(DTYPE_BYTES), default_value="float32", help="Data type of the activation memory."
    ).tag(config=True)
    static = Bool(False, help="Show a static table instead of the widget.").tag(config=True)

    @no_var_expand
    @magic_arguments()
    @argument(
        "--flops",
        choices=CONVENTIONS,
        default=None,
        help="operations as FLOPs (2 per multiply-add, the notes'), MACs, or exact "
        "multiplications + additions",
    )
    @argument(
        "--rounding",
        choices=ROUNDINGS,
        default=None,
        help="textbook: conv rounds down, pooling up (the notes'); floor: all down "
        "(PyTorch); ceil: all up",
    )
    @argument(
        "--input",
        metavar="SHAPE",
        default=None,
        help="input shape HxWxC, C@HxW or N, instead of (or replacing) an input line",
    )
    @argument(
        "--all-ops",
        action="store_true",
        default=None,
        help="also count pooling, activations, batch norm, adds and softmax",
    )
    @argument(
        "--dtype",
        choices=tuple(DTYPE_BYTES),
        default=None,
        help="data type of the activation memory (default float32)",
    )
    @argument(
        "-o",
        metavar="NAME",
        dest="output",
        default=None,
        help="store the evaluated network (a cnn_magic.Network) in the variable NAME",
    )
    @argument(
        "--explain",
        action="store_true",
        help="work out every layer's numbers with its own values, as LaTeX",
    )
    @argument("--static", action="store_true", default=None, help="a static table, no widget")
    @argument("-f", metavar="PATH", dest="file", default=None, help="read the network from a file")
    @argument(
        "--example",
        metavar="NAME",
        default=None,
        help="one of the example networks (lenet5, resnet50, ...)",
    )
    @argument(
        "network",
        nargs="*",
        metavar="NETWORK",
        help="%%cnn only: a one-line network, statements separated by ';'",
    )
    @line_cell_magic
    def cnn(self, line: str, cell: str | None = None) -> None:
        """Feature-map sizes, parameters and FLOPs of a CNN, layer by layer.

        As a cell magic the network is the cell body, one statement a line::

            %%cnn --flops macs
            input 32x32x1
            C1: conv 6 k5 relu
            S2: avgpool k2 s2

        As a line magic: ``%cnn input 32x32x1; conv 6 k5``, ``%cnn -f net.cnn`` or
        ``%cnn --example lenet5``. Toggles switch the FLOPs convention and the
        rounding without re-running the cell. Defaults: ``%config CnnMagic``.
        """
        offset = 0
        try:
            args, inline = _parse_line(line)
            text, rounding, offset = self._source(args, inline, cell)
            view = CNNView(
                text,
                # an explicit --rounding, else the text's rounding statement, else the default
                rounding=args.rounding or declared_rounding(text) or rounding,
                input=args.input,
                convention=args.flops or self.flops,
                all_ops=self.all_ops if args.all_ops is None else args.all_ops,
                dtype=args.dtype or self.dtype,
                static=(self.static if args.static is None else args.static)
                or not _has_kernel(self.shell),
            )
            name = _variable(args.output)
        except CNNError as error:
            raise _surface(error, offset) from None
        if name is not None:
            self.shell.user_ns[name] = view.network  # type: ignore[union-attr]
        display(view)
        if args.explain:
            from .explain import explain  # only when asked: %load_ext stays light

            network = view.network
            assert isinstance(network, Network)  # CNNView raised otherwise
            worked = explain(network, view.convention, all_ops=view.all_ops, dtype=view.dtype)
            display(worked)

    def _source(self, args: Any, inline: str, cell: str | None) -> tuple[str, str, int]:
        """The network text, its default rounding, and how far its line numbers are
        shifted in what the user sees (1 in a cell: the ``%%cnn`` line is line 1)."""
        if cell is not None and inline:
            raise CNNError(
                f"unexpected {inline!r} on the %%cnn line",
                hint="the network goes in the cell, under %%cnn",
            )
        given = [
            what
            for what, present in (
                ("the cell", cell is not None and _has_statements(cell)),
                ("the %cnn line", inline),
                ("-f", args.file),
                ("--example", args.example),
            )
            if present
        ]
        if len(given) > 1:
            raise CNNError(
                f"the network is given twice: {' and '.join(given)}",
                hint="give it one way: in the cell, after %cnn, with -f or with --example",
            )
        if args.file:
            return _read(args.file), self.rounding, 0
        if args.example:
            return _example(args.example), self.rounding, 0
        text = cell if cell is not None else inline
        if not _has_statements(text):
            raise CNNError(
                "no network given",
                hint="write it in the cell under %%cnn, after %cnn "
                "(statements separated by ';'), or use -f FILE or --example NAME",
            )
        return text, self.rounding, int(cell is not None)


def _has_kernel(shell: Any) -> bool:
    """Whether a kernel (Jupyter, VS Code, Colab) runs the shell: only then can a front
    end show widgets; terminal IPython gets the static table without importing them."""
    return getattr(shell, "kernel", None) is not None


def _has_statements(text: str) -> bool:
    """Whether ``text`` holds more than blank lines and comments."""
    return any(line.split("#", 1)[0].strip(" \t\f;") for line in text.splitlines())


def _parse_line(line: str) -> tuple[Any, str]:
    """The options of the magic line, and the raw text after them (``%cnn`` only)."""
    tokens = arg_split(line, strict=False)
    try:
        args = CnnMagic.cnn.parser.parse_args(tokens)
    except UsageError as error:
        raise CNNError(f"%cnn: {error}", hint="options: see %%cnn?") from None
    # the network keeps its own spelling (and columns, for the caret): cut it from the
    # raw line after the option tokens rather than re-joining argparse's tokens
    start = 0
    for token in tokens[: len(tokens) - len(args.network)]:
        start = line.index(token, start) + len(token)
    inline = line[start:].strip() if args.network else ""
    return args, inline


def _read(path: str) -> str:
    path = path.strip("'\"")
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise CNNError(f"cannot read {path!r}: {reason}") from None


def _example(name: str) -> str:
    """An example network's text."""
    from . import examples

    return examples.text(name)


def _variable(name: str | None) -> str | None:
    if name is not None and not (name.isidentifier() and not keyword.iskeyword(name)):
        raise CNNError(f"-o needs a Python variable name, not {name!r}", hint="for example -o net")
    return name


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
