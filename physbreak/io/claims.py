"""Exclusive claims on output paths, so two runs never write one file.

A run holds ``<output>.lock`` under an exclusive ``flock`` from before it
looks at the output until it is done; the lock file holds its process id.
The kernel drops the lock when the process dies, so a killed run leaves no
stale claim.  Writers that find the lock held raise :class:`OutputBusyError`
naming the process; readers use :func:`holder` to say a file is in progress.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

from physbreak.errors import InvalidValue, OutputBusyError


def lock_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextmanager
def claim(path, what: str = "--out"):
    """Hold the exclusive claim on ``path`` (a file or folder) inside the block.

    Raises:
        OutputBusyError: another live process holds it.
        InvalidValue: the lock file cannot be created (the folder is missing or read-only).
    """
    lock = lock_path(path)
    fd = _acquire(lock, path, what)
    try:
        yield
    finally:
        try:
            lock.unlink()  # before unlocking: a waiter that opened this inode re-checks and retries
        except OSError:
            pass
        os.close(fd)


def _acquire(lock: Path, path: Path, what: str) -> int:
    for _ in range(100):
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InvalidValue(what, str(path), f"a writable path ({exc.strerror}: {exc.filename})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise OutputBusyError(f"{what} = {str(path)!r} is already being written by process {pid}: wait for it "
                                  "to finish, or choose another output") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            return fd
        os.close(fd)  # the holder removed this lock file as we opened it: claim the new one
    raise OutputBusyError(f"{what} = {str(path)!r} is claimed and released too often to claim: another process "
                          "keeps writing it")


def _read_pid(fd: int) -> str:
    """The holder's process id; it writes it just after locking, so wait a moment for it."""
    for _ in range(40):
        try:
            pid = os.pread(fd, 32, 0).decode().strip()
        except OSError:
            break
        if pid:
            return pid
        time.sleep(0.025)
    return "unknown"


def holder(path) -> str | None:
    """The process id (as text) of another run writing ``path`` now, else None."""
    lock = lock_path(path)
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = _read_pid(fd)
        os.close(fd)
        return None if pid == str(os.getpid()) else pid  # this process's own claim
    os.close(fd)
    return None
