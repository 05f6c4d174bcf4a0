"""``cnn-magic``: the layer table of a network file, stdin or an example, in the terminal.

    cnn-magic --example lenet5
    cnn-magic net.cnn --flops macs --format markdown
    cnn-magic model.onnx --tools --batch 32
    cnn-magic --example resnet50 --format svg > resnet50.svg
    echo "input 32x32x1; conv 6 k5" | cnn-magic

A mistake prints the message with its caret to stderr and exits with status 2; so does
output that cannot be written (``> /dev/full``, a closed stdout). The text is read as
UTF-8 (a byte-order mark is fine), at most 4 MiB, from a regular file, stdin or a named
pipe, which is read as ``cat`` reads it: waiting for its writer. Devices such as
``/dev/zero`` are refused at once. Where the terminal's encoding lacks ``×`` (a Windows
code page, ``PYTHONIOENCODING=ascii``) the table is written with ``x`` instead.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from typing import Any, TextIO

from . import evaluate, example_names
from .conventions import CONVENTIONS, ROUNDINGS
from .errors import CNNError
from .i18n import LANGUAGES, _, argparse_speaking, display_width, language, wrap_columns
from .results import Network
from .sources import read_file, read_stream

FORMATS = ("text", "markdown", "csv", "json", "latex", "svg")


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, its lines wrapped by terminal columns where the help is Chinese
    (argparse counts characters and breaks only at spaces)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        if display_width(text) == len(text):
            return super()._split_lines(text, width)
        return wrap_columns(text, width)

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None) -> str:
        # the usage's later lines line up under the program's name, which argparse places
        # by counting characters: a wide prefix (用法：) takes more columns than that
        text = super()._format_usage(usage, actions, groups, prefix)
        translate = getattr(argparse, "_")  # noqa: B009 (the words argparse writes)
        shown = translate("usage: ") if prefix is None else prefix
        extra = display_width(shown) - len(shown)
        if extra <= 0:
            return text
        first, *rest = text.split("\n")
        return "\n".join([first, *(" " * extra + line if line.strip() else line for line in rest)])


def parser() -> argparse.ArgumentParser:
    """The command line's parser, its help in the language in force (argparse's own
    words too when it is built and used inside :func:`~cnn_magic.i18n.argparse_speaking`)."""
    p = argparse.ArgumentParser(
        prog="cnn-magic",
        formatter_class=HelpFormatter,
        description=_(
            "Feature-map sizes, parameters and FLOPs of a CNN written in the "
            "cnn_magic layer language, one row per layer, with the totals."
        ),
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "file", nargs="?", help=_("network file, or an ONNX model (.onnx); default: stdin")
    )
    source.add_argument(
        "--example", metavar="NAME", help=_("a network of the zoo (see --list-examples)")
    )
    source.add_argument(
        "--list-examples", action="store_true", help=_("list the example networks and exit")
    )
    p.add_argument(
        "--rounding",
        choices=ROUNDINGS,
        help=_("output-size rounding (default: textbook; an example's own mode)"),
    )
    p.add_argument(
        "--input",
        metavar="SHAPE",
        help=_("input shape HxWxC, C@HxW or N, replacing the text's input line"),
    )
    p.add_argument(
        "--flops",
        choices=CONVENTIONS,
        default="flops",
        help=_("count FLOPs (2 per multiply-add), MACs, or exact mults + adds"),
    )
    p.add_argument(
        "--all-ops",
        action="store_true",
        help=_("also count pooling, activations, batch norm and adds"),
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help=_("output format; svg: the network's picture (feature maps as boxes)"),
    )
    p.add_argument(
        "--tools",
        action="store_true",
        help=_("also print what torchinfo, fvcore, ptflops, thop and FlopCounterMode count"),
    )
    p.add_argument(
        "--batch",
        type=int,
        metavar="N",
        help=_("also print the memory of a training step at batch N"),
    )
    p.add_argument(
        "--units", action="store_true", help=_("numbers with k/M/G units instead of exact integers")
    )
    p.add_argument(
        "--lang", choices=LANGUAGES, default=None, help=_("language of the output: en or zh")
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for any mistake)."""
    # --lang first, so that the help and argparse's own errors speak it too
    with language(_asked_language(argv)):
        with argparse_speaking():
            args = parser().parse_args(argv)
        return _run(args)


def _asked_language(argv: list[str] | None) -> str | None:
    """The language ``--lang`` asks for, if it is one the product speaks (a wrong one is
    left for the parser to refuse, in English)."""
    early = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    early.add_argument("--lang")
    try:
        known, _rest = early.parse_known_args(argv)
    except argparse.ArgumentError:  # "--lang" without a value: the parser will say so
        return None
    return known.lang if known.lang in LANGUAGES else None


def _run(args: argparse.Namespace) -> int:
    try:
        if args.list_examples:
            output = _examples_list()
        else:
            net = _network(args)
            if args.format == "svg":
                output = str(net.to_svg())
            else:
                render = getattr(net, f"to_{args.format}")
                output = render(args.flops, all_ops=args.all_ops, units=args.units)
                if args.tools:
                    output = output.rstrip("\n") + "\n\n" + str(net.compare_tools())
                if args.batch is not None:
                    output = output.rstrip("\n") + "\n\n" + str(net.memory(batch=args.batch))
    except CNNError as err:
        _say(sys.stderr, str(_narrowed(err, sys.stderr)))
        return 2
    except KeyboardInterrupt:  # Ctrl-C while the text is typed on the terminal
        return 130
    try:
        if sys.stdout is None:  # Python sets it to None when descriptor 1 is closed
            raise OSError(errno.EBADF, "stdout is closed")
        _say(sys.stdout, output.rstrip("\n"))
    except BrokenPipeError:  # `cnn-magic ... | head`: no traceback (Python docs' recipe)
        _silence_stdout()
        return 1
    except OSError as err:  # /dev/full, a closed descriptor
        _silence_stdout()
        _say(sys.stderr, f"cannot write the output: {err.strerror or err}")
        return 2
    return 0


def _say(stream: TextIO | None, text: str) -> None:
    """Write a line to ``stream`` in its own encoding: where that cannot encode the
    output (``PYTHONIOENCODING=ascii``, a Windows code page), × becomes x, → becomes ->
    and so on, and any other character ``?``, so the columns stay aligned."""
    if stream is None:
        return
    stream.write(_encodable(text + "\n", stream))
    stream.flush()


def _encodable(text: str, stream: TextIO) -> str:
    """``text`` as ``stream``'s encoding can write it (see :func:`_say`)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.translate(ASCII_FALLBACK).encode(encoding, "replace").decode(encoding)
    except LookupError:  # an encoding Python does not know: write ASCII
        return text.translate(ASCII_FALLBACK).encode("ascii", "replace").decode()
    return text


def _narrowed(err: CNNError, stream: TextIO) -> CNNError:
    """``err`` with its quoted line as ``stream`` will show it, so the caret is placed
    for what is shown: a Chinese character written as ``?`` takes one column, not two.
    The fallback spellings (``→`` as ``->``) are kept out of the quoted line, to keep
    one character for one and the column right."""
    if err.source is None or _encodable(err.source, stream) == err.source:
        return err
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        shown = err.source.encode(encoding, "replace").decode(encoding)
    except LookupError:
        shown = err.source.encode("ascii", "replace").decode()
    if len(shown) != len(err.source):  # a multi-byte replacement: keep the message as is
        return err
    return CNNError(
        err.message,
        line=err.line,
        column=err.column,
        source=shown,
        width=err.width,
        hint=err.hint,
    )


ASCII_FALLBACK = str.maketrans(
    {"×": "x", "·": ".", "→": "->", "−": "-", "—": "-", "–": "-", "…": "...", "²": "^2"}
)
"""The output's few non-ASCII characters, spelled in ASCII for terminals without them."""


def _silence_stdout() -> None:
    """Point descriptor 1 at /dev/null, so the flush at exit cannot fail a second time."""
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)


def _network(args: argparse.Namespace) -> Network:
    if args.example:
        from . import example

        net = example(args.example, args.rounding)
        return evaluate(net.text, args.rounding, input=args.input) if args.input else net
    if args.file and args.file.lower().endswith(".onnx"):  # a model, not a text
        from .importers import from_onnx

        text = from_onnx(args.file).text
        return evaluate(text, args.rounding or "floor", input=args.input)
    # the text's own rounding statement holds unless --rounding says otherwise
    return evaluate(_read(args.file), args.rounding, input=args.input)


def _read(path: str | None) -> str:
    if path in (None, "-"):
        if path is None and sys.stdin is not None and sys.stdin.isatty():
            raise CNNError(
                _("no network given"),
                hint=_("give a file, --example NAME, or pipe the text on stdin"),
            )
        return read_stream(sys.stdin)
    return read_file(path, pipes=True)


def _examples_list() -> str:
    from . import examples

    names = example_names()
    width = max(map(len, names))
    return "\n".join(f"{name.ljust(width)}  {examples.source(name)}" for name in names)
