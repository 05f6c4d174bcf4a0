"""``cnn-magic``: the layer table of a network file, stdin or an example, in the terminal.

    cnn-magic --example lenet5
    cnn-magic net.cnn --flops macs --format markdown
    echo "input 32x32x1; conv 6 k5" | cnn-magic

A mistake prints the message with its caret to stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import evaluate, example_names
from .conventions import CONVENTIONS, ROUNDINGS
from .errors import CNNError
from .results import Network

FORMATS = ("text", "markdown", "csv", "json", "latex")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnn-magic",
        description="Feature-map sizes, parameters and FLOPs of a CNN written in the "
        "cnn_magic layer language, one row per layer, with the totals.",
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("file", nargs="?", help="network file (default: stdin; '-' too)")
    source.add_argument(
        "--example", metavar="NAME", help="a network of the zoo (see --list-examples)"
    )
    source.add_argument(
        "--list-examples", action="store_true", help="list the example networks and exit"
    )
    p.add_argument(
        "--rounding",
        choices=ROUNDINGS,
        help="output-size rounding (default: textbook; an example's own mode)",
    )
    p.add_argument(
        "--input",
        metavar="SHAPE",
        help="input shape HxWxC, C@HxW or N, replacing the text's input line",
    )
    p.add_argument(
        "--flops",
        choices=CONVENTIONS,
        default="flops",
        help="count FLOPs (2 per multiply-add), MACs, or exact mults + adds",
    )
    p.add_argument(
        "--all-ops",
        action="store_true",
        help="also count pooling, activations, batch norm and adds",
    )
    p.add_argument("--format", choices=FORMATS, default="text", help="output format")
    p.add_argument(
        "--units", action="store_true", help="numbers with k/M/G units instead of exact integers"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for any mistake)."""
    args = parser().parse_args(argv)
    try:
        if args.list_examples:
            output = _examples_list()
        else:
            net = _network(args)
            render = getattr(net, "to_text" if args.format == "text" else f"to_{args.format}")
            output = render(args.flops, all_ops=args.all_ops, units=args.units)
        sys.stdout.write(output.rstrip("\n") + "\n")
        sys.stdout.flush()
    except CNNError as err:
        print(err, file=sys.stderr)
        return 2
    except BrokenPipeError:  # `cnn-magic ... | head`: no traceback (Python docs' recipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _network(args: argparse.Namespace) -> Network:
    if args.example:
        from . import example

        net = example(args.example, args.rounding)
        return evaluate(net.text, args.rounding, input=args.input) if args.input else net
    # the text's own rounding statement holds unless --rounding says otherwise
    return evaluate(_read(args.file), args.rounding, input=args.input)


def _read(path: str | None) -> str:
    if path in (None, "-"):
        if path is None and sys.stdin.isatty():
            raise CNNError(
                "no network given", hint="give a file, --example NAME, or pipe the text on stdin"
            )
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise CNNError(f"cannot read {path!r}: {reason}") from None


def _examples_list() -> str:
    from . import examples

    names = example_names()
    width = max(map(len, names))
    return "\n".join(f"{name.ljust(width)}  {examples.source(name)}" for name in names)
