"""An exclusive lock on the demo folder, so two `mlmon demo` runs never write one store.

Two builds in one folder would wipe each other's half-written database, and a replay
appends to runs a second build is replacing. The lock is `flock` on the folder itself,
not on a file in it. A lock file would stay behind in a folder that contains someone
else's store, which the build then rejects. Deleting the file on exit would race with
a run that opened it a moment earlier. The kernel drops the lock when the process dies,
so a killed build leaves no stale lock.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType

from mlmon.demo.store import DemoError

log = logging.getLogger(__name__)


class DemoLock:
    """Held from `acquire()` until `release()` (or the end of a `with` block, or the process)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.expanduser().resolve()
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> DemoLock:
        """Create the folder if needed and lock it; raise DemoError if another run has it locked."""
        try:
            import fcntl
        except ImportError:  # Not a POSIX system: run unlocked rather than not at all.
            log.warning("no flock on this platform; %s is not locked against a second demo", self.directory)
            return self
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.directory, os.O_RDONLY)
        except OSError as exc:
            raise DemoError(
                f"Cannot create the demo folder {self.directory}: {exc}.", "Pass a writable --dir."
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DemoError(
                f"Another mlmon demo is building {self.directory}.",
                "Wait for it, or use --dir with another folder.",
            ) from None
        except OSError as exc:  # A file system without locks (some network mounts).
            os.close(fd)
            log.warning("cannot lock %s (%s); running without the lock", self.directory, exc)
            return self
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock; calling it again does nothing."""
        if self._fd is not None:
            # Closing the descriptor drops the flock.
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DemoLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()
