"""Atomic file writes: a failed save never destroys the previous file.

The content goes to a temporary file beside the destination, which is flushed,
fsynced and renamed over it with ``os.replace`` (see :func:`atomic_write`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import warnings

#: suffix of the temporary files of an interrupted save (removed by the next save)
TMP_SUFFIX = ".numnet-tmp"


def atomic_write(path, write) -> None:
    """Call ``write(file)`` on a temporary file, then rename it to ``path``.

    * A symlink is written through: the temporary file is made beside the
      link's final target, which is replaced (the link stays a link).
    * An existing file keeps its permission bits; a new file gets
      ``0o666 & ~umask``, as ``open()`` would.
    * The temporary file is named ``.<name>.<pid>-<random>.numnet-tmp``; it is
      flushed and fsynced before ``os.replace`` and removed if anything fails,
      including ``KeyboardInterrupt``. Temporaries of the same target left by a
      killed process (one that no longer runs) are removed on the next save.
    * A hard-linked destination is replaced by a new file, with a RuntimeWarning
      (the other names keep the old content): an atomic rename cannot update
      every name of a file.
    """
    target = _resolve_target(os.fspath(path))
    directory, name = os.path.split(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"save: the directory {directory!r} of {os.fspath(path)!r} does not "
            f"exist; create it first (os.makedirs)"
        )
    _remove_stale_temporaries(directory, name)
    _warn_if_hard_linked(target)
    mode = _mode_for(target)
    tmp = os.path.join(
        directory, f".{name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}"
    )
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _resolve_target(path: str) -> str:
    """The final target of ``path`` when it is a symlink (loops are an error)."""
    if not os.path.islink(path):
        return os.path.abspath(path)
    try:
        return os.path.realpath(path, strict=True)
    except FileNotFoundError:  # a dangling link: create its target
        return os.path.realpath(path)
    except OSError as exc:
        raise OSError(
            exc.errno or errno.ELOOP,
            f"save: cannot resolve the symlink {path!r} ({exc.strerror or exc})",
        ) from None


def _warn_if_hard_linked(target: str) -> None:
    with contextlib.suppress(OSError):
        if os.stat(target).st_nlink > 1:
            warnings.warn(
                f"save: {target!r} has other hard links; the atomic rename gives it "
                f"a new file, so the other names keep the previous content",
                RuntimeWarning,
                stacklevel=4,
            )


def _mode_for(target: str) -> int:
    try:
        return os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it (restored at once)
    os.umask(mask)
    return mask


def _remove_stale_temporaries(directory: str, name: str) -> None:
    prefix = f".{name}."
    with contextlib.suppress(OSError):
        for entry in os.listdir(directory):
            if not (entry.startswith(prefix) and entry.endswith(TMP_SUFFIX)):
                continue
            pid = entry[len(prefix) : -len(TMP_SUFFIX)].split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(directory, entry))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True
