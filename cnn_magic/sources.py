"""Reading a network text from a file or from stdin: bounded, UTF-8, never hanging.

A network text is small (ResNet-50 is 3 KB), so a file larger than :data:`MAX_BYTES`
(4 MiB) is refused before anything is read, and a stream is read only up to that size:
``/dev/zero``, ``/dev/urandom`` or ``yes | cnn-magic`` cannot eat the memory.

* ``%cnn -f PATH`` reads regular files only: a FIFO without a writer would block the
  kernel forever, a device may never end, so both are refused at once, by kind.
* ``cnn-magic PATH`` also reads a named pipe, as ``cat`` does (it waits for a writer),
  so ``cnn-magic <(generate-net)`` works; devices, directories and sockets are refused.
* Text is UTF-8; a leading byte-order mark (Windows Notepad's default) is dropped. A byte
  that is not UTF-8 is named with its line; NUL bytes mean a binary file.

>>> decode(b"\\xef\\xbb\\xbfinput 8x8x1", "'net.cnn'")
'input 8x8x1'
>>> decode(b"input 8x8x1\\nconv 4 k3 \\xff", "'net.cnn'")
Traceback (most recent call last):
    ...
cnn_magic.errors.CNNError: cannot read 'net.cnn': byte 0xff on line 2 is not UTF-8
save the file as UTF-8 text
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import IO

from .errors import CNNError

MAX_BYTES = 4 * 1024 * 1024
"""The largest network text read (4 MiB): a thousand times the largest example."""

_HINT = "a network file is UTF-8 text of at most 4 MiB"
_CHUNK = 1 << 16


def read_file(path: str, *, pipes: bool = False) -> str:
    """The text of the file at ``path``; with ``pipes``, a named pipe is read as ``cat``
    would (waiting for its writer). Anything else raises :class:`CNNError` at once."""
    name = repr(path if len(path) <= 200 else path[:100] + "…" + path[-60:])
    if "\0" in path:  # os.stat would raise ValueError
        raise CNNError(f"cannot read {name}: a file name holds no NUL character")
    try:
        kind = stat.S_IFMT(os.stat(path).st_mode)
        if kind == stat.S_IFIFO and pipes:
            fd = os.open(path, os.O_RDONLY)  # blocks until a writer opens it, like cat
        elif kind == stat.S_IFREG:
            # O_NONBLOCK: should the path turn into a FIFO after stat, open() still
            # returns at once instead of waiting for a writer
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        else:
            raise _not_a_file(name, kind)
    except OSError as error:
        raise CNNError(f"cannot read {name}: {error.strerror or error}") from None
    try:
        info = os.fstat(fd)
        if stat.S_IFMT(info.st_mode) not in (stat.S_IFREG, stat.S_IFIFO if pipes else -1):
            raise _not_a_file(name, stat.S_IFMT(info.st_mode))
        if info.st_size > MAX_BYTES:
            raise _too_large(name, info.st_size)
        if stat.S_ISREG(info.st_mode) and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        data = _read_bounded(lambda size: os.read(fd, size), name)
    except OSError as error:
        raise CNNError(f"cannot read {name}: {error.strerror or error}") from None
    finally:
        os.close(fd)
    return decode(data, name)


def read_stream(stream: IO[str] | None, name: str = "stdin") -> str:
    """The text of an open stream (the CLI's stdin): a pipe, a redirected file or a
    terminal, up to :data:`MAX_BYTES`; a device such as ``< /dev/zero`` is refused."""
    if stream is None:  # Python sets sys.stdin to None when file descriptor 0 is closed
        raise CNNError(f"no network given: {name} is closed", hint=_HINT)
    buffer = getattr(stream, "buffer", None)
    try:
        fileno = stream.fileno() if buffer is not None else None
    except (OSError, ValueError):  # a replaced sys.stdin without a descriptor
        fileno = None
    if buffer is None or fileno is None:  # an in-memory stream: already text
        text = stream.read(MAX_BYTES + 1)
        if len(text) > MAX_BYTES:
            raise _too_large(name, None)
        return text[1:] if text.startswith("\ufeff") else text
    try:
        kind = stat.S_IFMT(os.fstat(fileno).st_mode)
        if kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFDIR) and not stream.isatty():
            raise _not_a_file(name, kind)
        data = _read_bounded(buffer.read, name)
    except OSError as error:
        raise CNNError(f"cannot read {name}: {error.strerror or error}") from None
    return decode(data, name)


def decode(data: bytes, name: str) -> str:
    """UTF-8 text without its byte-order mark; a wrong encoding is named with its line.
    ``name`` is the source as messages quote it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CNNError(f"cannot read {name}: it is UTF-16 text", hint="save it as UTF-8")
    if b"\x00" in data:
        raise CNNError(f"cannot read {name}: it holds NUL bytes (a binary file?)", hint=_HINT)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[: error.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        line = before.count(b"\n") + 1
        raise CNNError(
            f"cannot read {name}: byte 0x{data[error.start]:02x} on line {line} is not UTF-8",
            hint="save the file as UTF-8 text",
        ) from None


def _read_bounded(read: Callable[[int], bytes], name: str) -> bytes:
    """Read until the end or one byte past :data:`MAX_BYTES`, whichever comes first."""
    chunks, total = [], 0
    while total <= MAX_BYTES:
        chunk = read(min(_CHUNK, MAX_BYTES + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > MAX_BYTES:
        raise _too_large(name, None)
    return b"".join(chunks)


_KINDS = {
    stat.S_IFDIR: "Is a directory",
    stat.S_IFCHR: "a character device, not a file",
    stat.S_IFBLK: "a block device, not a file",
    stat.S_IFIFO: "a named pipe (FIFO), not a regular file",
    stat.S_IFSOCK: "a socket, not a file",
}


def _not_a_file(name: str, kind: int) -> CNNError:
    return CNNError(f"cannot read {name}: {_KINDS.get(kind, 'not a regular file')}", hint=_HINT)


def _too_large(name: str, size: int | None) -> CNNError:
    what = f"{size:,} bytes" if size is not None else "the text"
    return CNNError(f"cannot read {name}: {what} is larger than 4 MiB", hint=_HINT)
