"""Bytes of non-RDF resources (images, PDFs), content-addressed by their SHA-256.

A pod's description of a file (its RDF, in the quad store) names the hash; the bytes live here, once per
distinct content. An upload is first written aside (:meth:`BlobStore.stage`), hashed and counted as it
arrives, and only kept (:meth:`BlobStore.keep`) once whole and within the limit: an interrupted or oversized
upload leaves nothing. The caller removes a hash no description names any more, under :attr:`BlobStore.lock`,
the lock it also holds while it keeps a blob and commits the description naming it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from ..errors import DocumentTooLarge

CHUNK_BYTES = 64 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Staged:
    """An upload read whole and hashed, not yet kept: ``data`` in memory or ``path`` on disk."""

    sha256: str
    size: int
    data: bytes | None = None
    path: Path | None = None

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


class BlobStore(ABC):
    """Where the bytes of files live; one instance per store of descriptions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def stage(self, chunks: Iterable[bytes], max_bytes: int) -> Staged:
        """Read an upload aside; beyond ``max_bytes`` it is dropped and a 413 raised (naming the body)."""
        digest, size, sink = hashlib.sha256(), 0, self._sink()
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise DocumentTooLarge(f"the file is over the limit of {max_bytes} bytes", field="body")
                digest.update(chunk)
                sink.write(chunk)
        except BaseException:
            self._abandon(sink)
            raise
        return self._staged(sink, digest.hexdigest(), size)

    @abstractmethod
    def _sink(self) -> IO[bytes]: ...

    @abstractmethod
    def _abandon(self, sink: IO[bytes]) -> None: ...

    @abstractmethod
    def _staged(self, sink: IO[bytes], sha256: str, size: int) -> Staged: ...

    @abstractmethod
    def keep(self, staged: Staged) -> None:
        """Make a staged upload's bytes readable by their hash (a content already kept is not written twice)."""

    @abstractmethod
    def open(self, sha256: str) -> BinaryIO:
        """The bytes of a kept content; FileNotFoundError when there are none."""

    @abstractmethod
    def remove(self, sha256: str) -> None:
        """Forget a content (call under :attr:`lock`, once no description names it)."""

    @abstractmethod
    def hashes(self) -> list[str]:
        """Every content kept (for checks and tests of the collection of unused ones)."""


class MemoryBlobs(BlobStore):
    """The bytes of a node whose quad store lives in memory."""

    def __init__(self) -> None:
        super().__init__()
        self._blobs: dict[str, bytes] = {}

    def _sink(self) -> IO[bytes]:
        return io.BytesIO()

    def _abandon(self, sink: IO[bytes]) -> None:
        sink.close()

    def _staged(self, sink: IO[bytes], sha256: str, size: int) -> Staged:
        assert isinstance(sink, io.BytesIO)
        return Staged(sha256, size, data=sink.getvalue())

    def keep(self, staged: Staged) -> None:
        assert staged.data is not None
        self._blobs.setdefault(staged.sha256, staged.data)

    def open(self, sha256: str) -> BinaryIO:
        if sha256 not in self._blobs:
            raise FileNotFoundError(sha256)
        return io.BytesIO(self._blobs[sha256])

    def remove(self, sha256: str) -> None:
        self._blobs.pop(sha256, None)

    def hashes(self) -> list[str]:
        return sorted(self._blobs)


class FileBlobs(BlobStore):
    """Bytes under a folder, one file per content at ``ab/cdef...`` (its hash); uploads are written in
    ``incoming/`` and moved into place whole, so a crash leaves at most a staged file, removed at start."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self._incoming = root / "incoming"
        self._incoming.mkdir(parents=True, exist_ok=True)
        for leftover in self._incoming.iterdir():
            leftover.unlink(missing_ok=True)

    def _path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise FileNotFoundError(sha256)
        return self.root / sha256[:2] / sha256[2:]

    def _sink(self) -> IO[bytes]:
        return tempfile.NamedTemporaryFile(dir=self._incoming, delete=False)  # closed by _staged or _abandon

    def _abandon(self, sink: IO[bytes]) -> None:
        sink.close()
        Path(sink.name).unlink(missing_ok=True)

    def _staged(self, sink: IO[bytes], sha256: str, size: int) -> Staged:
        sink.flush()
        os.fsync(sink.fileno())
        sink.close()
        return Staged(sha256, size, path=Path(sink.name))

    def keep(self, staged: Staged) -> None:
        assert staged.path is not None
        target = self._path(staged.sha256)
        if target.exists():
            staged.discard()
            return
        target.parent.mkdir(exist_ok=True)
        os.replace(staged.path, target)

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")

    def remove(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def hashes(self) -> list[str]:
        return sorted(f"{p.parent.name}{p.name}" for p in self.root.glob("??/*"))


def open_blobs(folder: Path | None) -> BlobStore:
    """On disk under ``folder``, else in memory (a node without ``data_dir`` keeps nothing on disk)."""
    return FileBlobs(folder) if folder is not None else MemoryBlobs()
