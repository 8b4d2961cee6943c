"""Write a file whole or not at all.

Every file the toolkit writes for keeps (outputs, state, caches, markers) goes through
:func:`atomic_file` (or :func:`atomic_path`, for writers that open a file by name): the bytes go
to a hidden temporary file in the same folder (``.NAME.<random>.tmp``), which is flushed to disk
and then renamed over ``NAME`` in one step (``os.replace``). A failure at any point (an
exception, a full disk, an interrupt) removes the temporary file and leaves ``NAME`` as it was:
there is never a partial file under either name.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomically(folder / "note.txt", "hello")
    >>> (folder / "note.txt").read_text()
    'hello'
    >>> try:
    ...     with atomic_file(folder / "note.txt") as out:
    ...         _ = out.write(b"half a no")
    ...         raise RuntimeError("the disk filled up")
    ... except RuntimeError:
    ...     pass
    >>> (folder / "note.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('hello', ['note.txt'])
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["TEMP_SUFFIX", "atomic_file", "atomic_path", "is_temporary", "write_atomically"]

TEMP_SUFFIX = ".tmp"


def is_temporary(name: str) -> bool:
    """Whether a file name is one of :func:`atomic_file`'s temporary files (left by a killed process).

    Example:
        >>> is_temporary(".data.json.3f9a1c2b4d5e.tmp"), is_temporary("data.json")
        (True, False)
    """
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, mode: int = 0o666, durable: bool = True) -> Iterator[Path]:
    """The temporary file's path, for writers that open a file by name (Parquet, CSV writers).

    On a clean exit the file there becomes ``path``; on any error it is removed. ``mode`` is the
    new file's permission bits before the umask (``0o600``: this user only); ``durable`` flushes
    the file and its folder to disk around the rename (a cache that can be rebuilt may skip that).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    try:
        yield temp
        if durable:
            fd = os.open(temp, os.O_RDWR)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if durable:
        _sync_folder(target.parent)


@contextlib.contextmanager
def atomic_file(path: str | Path, *, mode: int = 0o666, durable: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write; on a clean exit it becomes ``path``, on any error it is removed.

    The options are :func:`atomic_path`'s.
    """
    with atomic_path(path, mode=mode, durable=durable) as temp, temp.open("wb") as out:
        yield out


def write_atomically(path: str | Path, data: str | bytes, *, mode: int = 0o666, durable: bool = True) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` with :func:`atomic_file`."""
    with atomic_file(path, mode=mode, durable=durable) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk, where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
