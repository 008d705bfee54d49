"""Finding, downloading and verifying the IDX files of MNIST-like datasets.

Lookup order for a dataset (first directory holding all four files wins):

1. an explicit ``path=`` (then nothing else is tried);
2. ``$NUMNET_DATA/<dirname>`` and ``$NUMNET_DATA``;
3. system directories (Debian's ``dataset-fashion-mnist`` installs
   ``/usr/share/datasets/fashion-mnist``);
4. the user cache ``$XDG_CACHE_HOME/numnet/<dirname>`` (``~/.cache/numnet``);
5. a download from the official source into the cache, checked with SHA-256
   (pooch when installed, else urllib); the file is written to a temporary file
   and renamed into place only once its checksum matched.

Wherever the files were found, ``load_data`` checks each against the known SHA-256
of the standard file (hashed once per process, again only when the file's size or
mtime changed) and checks label range and image size; ``verify=False`` loads custom
data in the same format.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from numnet.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, read_idx

#: The four files of every MNIST-like dataset, in load_data order.
FILES = (
    ("x_train", "train-images-idx3-ubyte", IMAGES_MAGIC),
    ("y_train", "train-labels-idx1-ubyte", LABELS_MAGIC),
    ("x_test", "t10k-images-idx3-ubyte", IMAGES_MAGIC),
    ("y_test", "t10k-labels-idx1-ubyte", LABELS_MAGIC),
)


class DatasetNotFoundError(FileNotFoundError):
    """The dataset files are nowhere on disk and could not be downloaded."""


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Where an MNIST-like dataset lives and how to check it.

    Attributes:
        name: human name for messages ("Fashion-MNIST").
        dirname: sub-directory name under ``$NUMNET_DATA`` and the cache.
        mirrors: base URLs tried in order; ``mirror + filename + ".gz"``.
        checksums: filename -> ("gz" | "idx", sha256 hex). "gz" hashes the
            downloaded file, "idx" the decompressed content (robust to mirrors
            that recompress, as Debian's package does).
        system_dirs: directories installed by a system package.
        install_hint: how to install the files with the system package manager.
        num_classes: labels must lie in ``[0, num_classes)``.
        image_shape: the (rows, cols) every image must have.
    """

    name: str
    dirname: str
    mirrors: tuple[str, ...]
    checksums: dict
    system_dirs: tuple[str, ...] = ()
    install_hint: str = ""
    num_classes: int = 10
    image_shape: tuple[int, int] = (28, 28)


def cache_dir() -> Path:
    """numnet's user cache: ``$XDG_CACHE_HOME/numnet`` or ``~/.cache/numnet``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "numnet"


def _file_in(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _complete(directory: Path) -> dict | None:
    found = {stem: _file_in(directory, stem) for _, stem, _ in FILES}
    return found if all(found.values()) else None


def candidate_dirs(spec: DatasetSpec) -> list[Path]:
    """The directories searched before downloading, in order."""
    dirs = []
    env = os.environ.get("NUMNET_DATA")
    if env:
        dirs += [Path(env).expanduser() / spec.dirname, Path(env).expanduser()]
    dirs += [Path(d) for d in spec.system_dirs]
    dirs.append(cache_dir() / spec.dirname)
    return dirs


def locate(spec: DatasetSpec, path=None, download: bool = True) -> dict:
    """Return ``{file stem: Path}`` for the four files, downloading if needed.

    Raises:
        DatasetNotFoundError: when an explicit ``path`` lacks files, or the
            files are nowhere and the download failed.
    """
    if path is not None:
        directory = Path(path).expanduser()
        found = _complete(directory)
        if found is None:
            missing = [s for _, s, _ in FILES if _file_in(directory, s) is None]
            raise DatasetNotFoundError(
                f"{spec.name}: invalid value for argument 'path'. Expected a "
                f"directory holding the four IDX files (.gz or raw). Received: "
                f"path={str(path)!r}, which lacks {missing}"
            )
        return found
    for directory in candidate_dirs(spec):
        found = _complete(directory)
        if found is not None:
            return found
    if not download:
        raise DatasetNotFoundError(_not_found_message(spec, None))
    return _download_all(spec, cache_dir() / spec.dirname)


def _not_found_message(spec: DatasetSpec, error) -> str:
    looked = ", ".join(str(d) for d in candidate_dirs(spec))
    reason = f" and the download failed ({error})" if error else ""
    hint = f" {spec.install_hint}, or" if spec.install_hint else ""
    return (
        f"{spec.name}: the IDX files were not found (looked in: {looked}){reason}. "
        f"To get them:{hint} download the four files "
        f"({', '.join(s + '.gz' for _, s, _ in FILES)}) from {spec.mirrors[0]} into "
        f"a directory and set NUMNET_DATA to it (or pass path=...)."
    )


def _download_all(spec: DatasetSpec, target: Path) -> dict:
    target.mkdir(parents=True, exist_ok=True)
    found = {}
    for _, stem, _ in FILES:
        existing = _file_in(target, stem)
        if existing is not None:
            found[stem] = existing
            continue
        found[stem] = _download_one(spec, stem + ".gz", target)
    return found


def _download_one(spec: DatasetSpec, filename: str, target: Path) -> Path:
    kind, digest = spec.checksums[filename]
    errors = []
    for mirror in spec.mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            return fetch(url, target / filename, kind, digest)
        except (OSError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
    raise DatasetNotFoundError(_not_found_message(spec, "; ".join(errors)))


def sha256_of(path, kind: str = "gz") -> str:
    """SHA-256 of a file ("gz": its bytes) or of its decompressed content ("idx")."""
    h = hashlib.sha256()
    opener = gzip.open if kind == "idx" and _is_gzip(path) else open
    with opener(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_gzip(path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def fetch(url: str, dest: Path, kind: str, digest: str) -> Path:
    """Download ``url`` to ``dest`` atomically and check its SHA-256.

    The data goes to a temporary file in ``dest``'s directory, which is renamed
    to ``dest`` only when the checksum matched; on any error or interruption
    the temporary file is removed.

    Raises:
        ValueError: on a checksum mismatch.
        OSError: on a network or file error.
    """
    dest = Path(dest)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(url, out)
            out.flush()
            os.fsync(out.fileno())
        actual = sha256_of(tmp, kind)
        if actual != digest:
            raise ValueError(
                f"SHA-256 mismatch for {dest.name}: expected {digest}, received "
                f"{actual}; the download is corrupt or the mirror changed"
            )
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    return dest


def _stream(url: str, out) -> None:
    try:
        import pooch  # optional: retries, progress, proxies
    except ImportError:
        pooch = None
    if pooch is not None and url.startswith(("http://", "https://")):
        downloader = pooch.HTTPDownloader(progressbar=False)
        try:
            downloader(url, out, None)
        except Exception as exc:  # requests raises its own hierarchy
            raise OSError(str(exc)) from exc
        return
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as response:
        for block in iter(lambda: response.read(1 << 20), b""):
            out.write(block)


#: (real path, size, mtime) -> the SHA-256 that file was verified against, so
#: each file is hashed once per process (again only if it changed)
_VERIFIED: dict = {}


def verify_file(spec: DatasetSpec, stem: str, path) -> None:
    """Check ``path`` against the known SHA-256 of the standard ``stem`` file.

    Raises:
        IDXError: on a mismatch (another dataset, a tampered or custom file),
            or a raw file when only the ``.gz`` checksum is known.
    """
    kind, digest = spec.checksums[stem + ".gz"]
    info = os.stat(path)
    key = (os.path.realpath(path), info.st_size, info.st_mtime_ns)
    if _VERIFIED.get(key) == digest:
        return
    if kind == "gz" and not _is_gzip(path):
        raise IDXError(
            f"{spec.name}: {path} is an uncompressed file, but only the SHA-256 of "
            f"the official {stem}.gz is known, so it cannot be verified. Use the "
            f".gz file, or pass verify=False to load custom data unchecked."
        )
    actual = sha256_of(path, kind)
    if actual != digest:
        raise IDXError(
            f"{spec.name}: {path} is not the standard {stem} file: its SHA-256 is "
            f"{actual}, expected {digest} (another dataset, a modified or a "
            f"corrupt file). For your own data in IDX format pass verify=False."
        )
    _VERIFIED[key] = digest


def check_arrays(spec: DatasetSpec, arrays: dict) -> None:
    """Image size, label range and matching counts (verified or not).

    Raises:
        IDXError: naming the split and what was found.
    """
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise IDXError(
                f"{spec.name}: the {split} images and labels do not match: images "
                f"{x.shape} (expected (N, rows, cols)), labels {y.shape} "
                f"(expected (N,))"
            )
        if x.shape[1:] != tuple(spec.image_shape):
            raise IDXError(
                f"{spec.name}: the {split} images are {x.shape[1]}x{x.shape[2]}; "
                f"expected {spec.image_shape[0]}x{spec.image_shape[1]}"
            )
        if y.size and int(y.max()) >= spec.num_classes:
            bad = int(np.argmax(y >= spec.num_classes))
            raise IDXError(
                f"{spec.name}: the {split} labels must lie in [0, "
                f"{spec.num_classes}); label {bad} is {int(y[bad])}"
            )


def load_idx_dataset(spec: DatasetSpec, path=None, verify: bool = True) -> tuple:
    """Load ``(x_train, y_train), (x_test, y_test)`` as uint8 arrays.

    Args:
        spec: the dataset.
        path: an explicit directory (see :func:`locate`).
        verify: check every file against the known SHA-256 of the standard
            file, wherever it was found (once per process and file); False
            loads custom data in the same format unchecked. Image size and
            label range are checked either way.

    Raises:
        DatasetNotFoundError: see :func:`locate`.
        IDXError: on a corrupt or unverified file, images and labels of
            different counts, images of another size or labels out of range.
    """
    if not isinstance(verify, bool):
        raise TypeError(
            f"{spec.name}: invalid value for argument 'verify'. Expected True or "
            f"False. Received: verify={verify!r}"
        )
    files = locate(spec, path)
    if verify:
        for _, stem, _ in FILES:
            verify_file(spec, stem, files[stem])
    arrays = {
        key: read_idx(files[stem], expected_magic=magic) for key, stem, magic in FILES
    }
    check_arrays(spec, arrays)
    # The magic numbers checked above (2051/2049) guarantee uint8 data.
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
