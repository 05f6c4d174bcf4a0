"""Reading network texts (cnn_magic.sources): files of every kind, stdin, limits, encodings.

Each case ends in the text or a CNNError at once: nothing blocks, nothing grows without
bound (checked under a memory cap in a subprocess), nothing else is raised.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from cnn_magic import CNNError
from cnn_magic.sources import MAX_BYTES, decode, read_file, read_stream

ROOT = Path(__file__).resolve().parent.parent
NET = "input 8x8x1\nconv 4 k3\n"


def refused(path: str, *, pipes: bool = False) -> str:
    start = time.perf_counter()
    with pytest.raises(CNNError) as caught:
        read_file(path, pipes=pipes)
    assert time.perf_counter() - start < 5.0  # reading a device to its end never stops
    return str(caught.value)


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "net.cnn"
    path.write_text(NET, encoding="utf-8")
    assert read_file(str(path)) == NET == read_file(str(path), pipes=True)


def test_a_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "notepad.cnn"
    path.write_bytes(b"\xef\xbb\xbf" + NET.encode())
    assert read_file(str(path)) == NET


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_at_once(device: str) -> None:
    if not os.path.exists(device):
        pytest.fail(f"{device} is missing on this machine")
    message = refused(device, pipes=True)
    assert message.startswith(f"cannot read {device!r}: a character device, not a file")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert refused(str(tmp_path)).startswith(f"cannot read {str(tmp_path)!r}: Is a directory")


def test_a_fifo_without_writer_does_not_hang_the_magic(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert "a named pipe (FIFO), not a regular file" in refused(str(fifo))


def test_the_cli_reads_a_fifo_as_cat_does(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "w", encoding="utf-8") as writer:
            writer.write(NET)

    writer = threading.Thread(target=write)
    writer.start()
    assert read_file(str(fifo), pipes=True) == NET
    writer.join(5)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert "a socket, not a file" in refused(str(path), pipes=True)
    finally:
        server.close()


def test_a_huge_file_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.cnn"
    with open(path, "wb") as file:  # sparse: 10 GB that take no disk
        file.truncate(10 * 1024**3)
    assert refused(str(path)) == (
        f"cannot read {str(path)!r}: 10,737,418,240 bytes is larger than 4 MiB\n"
        "a network file is UTF-8 text of at most 4 MiB"
    )


def test_the_limit_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "big.cnn"
    path.write_bytes(b"#" * MAX_BYTES)
    assert len(read_file(str(path))) == MAX_BYTES
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    assert "larger than 4 MiB" in refused(str(path))


def test_missing_and_unreadable_files_name_the_reason(tmp_path: Path) -> None:
    assert refused(str(tmp_path / "nope.cnn")).endswith("No such file or directory")
    locked = tmp_path / "locked.cnn"
    locked.write_text(NET, encoding="utf-8")
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything: the message path is the same
        return
    assert refused(str(locked)).endswith("Permission denied")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"input 8x8x1\r\nconv 4 k3 \xff\n", "byte 0xff on line 2 is not UTF-8"),
        (b"input 8x8x1\rconv\r4 \xe9", "byte 0xe9 on line 3 is not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "it holds NUL bytes (a binary file?)"),
        ("input 8x8x1".encode("utf-16"), "it is UTF-16 text"),
    ],
)
def test_decoding_errors_are_named(data: bytes, message: str) -> None:
    with pytest.raises(CNNError) as caught:
        decode(data, "'net.cnn'")
    assert str(caught.value).startswith(f"cannot read 'net.cnn': {message}")


def test_streams_are_read_within_the_limit() -> None:
    assert read_stream(io.StringIO("\ufeff" + NET)) == NET
    with pytest.raises(CNNError, match="larger than 4 MiB"):
        read_stream(io.StringIO("#" * (MAX_BYTES + 1)))
    with pytest.raises(CNNError, match="no network given: stdin is closed"):
        read_stream(None)


MEMORY_CAP = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from cnn_magic import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def capped(
    *argv: str, stdin: IO[bytes] | None = None, cap: int = 400 * 1024**2
) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess whose address space is capped at ``cap`` bytes."""
    return subprocess.run(
        [sys.executable, "-c", MEMORY_CAP.format(cap=cap), *argv],
        stdin=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=30,
    )


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_under_a_memory_cap(device: str) -> None:
    done = capped(device)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"cannot read {device!r}: a character device, not a file")
    with open(device, "rb") as stream:
        done = capped(stdin=stream)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("cannot read stdin: a character device, not a file")


def test_an_endless_pipe_under_a_memory_cap() -> None:
    """``yes | cnn-magic``: stdin is read up to the limit, then refused."""
    yes = subprocess.Popen(["yes", "relu"], stdout=subprocess.PIPE)
    try:
        done = capped(stdin=yes.stdout)
    finally:
        yes.kill()
        yes.wait()
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("cannot read stdin: the text is larger than 4 MiB")


def test_the_memory_cap_bites() -> None:
    """The cap is real: the same subprocess fails when told to read 1 GB."""
    code = MEMORY_CAP.replace("from cnn_magic import cli", "b'x' * 1024**3")
    done = subprocess.run(
        [sys.executable, "-c", code.format(cap=400 * 1024**2)], capture_output=True, timeout=30
    )
    assert done.returncode != 0 and b"MemoryError" in done.stderr


def test_impossible_names_are_refused_briefly() -> None:
    assert refused("a\0b") == "cannot read 'a\\x00b': a file name holds no NUL character"
    long_name = refused("x" * 5000)
    assert long_name.endswith("File name too long") and len(long_name) < 300
    assert refused("") == "cannot read '': No such file or directory"
