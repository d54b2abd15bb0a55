"""The bytes of files, in memory and on disk: kept whole by hash, once per content, nothing left of a refused upload."""

from __future__ import annotations

import hashlib

import pytest

from dds_pod.errors import DocumentTooLarge
from dds_pod.store.blobs import BlobStore, FileBlobs, MemoryBlobs


@pytest.fixture(params=["memory", "file"])
def blobs(request, tmp_path) -> BlobStore:
    return MemoryBlobs() if request.param == "memory" else FileBlobs(tmp_path / "files")


def test_kept_bytes_are_read_back_by_their_hash_once_per_content(blobs):
    for _ in range(2):
        staged = blobs.stage([b"ab", b"cd"], max_bytes=10)
        blobs.keep(staged)
        staged.discard()
    sha = hashlib.sha256(b"abcd").hexdigest()
    assert staged.sha256 == sha and staged.size == 4
    assert blobs.hashes() == [sha]
    with blobs.open(sha) as data:
        assert data.read() == b"abcd"
    blobs.remove(sha)
    assert blobs.hashes() == []
    with pytest.raises(FileNotFoundError):
        blobs.open(sha)


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(blobs, tmp_path):
    with pytest.raises(DocumentTooLarge) as refused:
        blobs.stage([b"12345", b"67890", b"x"], max_bytes=10)
    assert refused.value.field == "body" and "10 bytes" in refused.value.message
    assert blobs.hashes() == []
    if isinstance(blobs, FileBlobs):
        assert not list((tmp_path / "files" / "incoming").iterdir())


def test_an_upload_cut_off_while_read_leaves_nothing(tmp_path):
    blobs = FileBlobs(tmp_path / "files")

    def cut_off():
        yield b"the first part"
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        blobs.stage(cut_off(), max_bytes=1000)
    assert blobs.hashes() == [] and not list((tmp_path / "files" / "incoming").iterdir())


def test_a_staged_upload_not_kept_is_discarded(tmp_path):
    blobs = FileBlobs(tmp_path / "files")
    blobs.stage([b"never kept"], max_bytes=100).discard()
    assert blobs.hashes() == [] and not list((tmp_path / "files" / "incoming").iterdir())


def test_uploads_a_crash_left_aside_are_removed_at_start(tmp_path):
    FileBlobs(tmp_path / "files")
    (tmp_path / "files" / "incoming" / "tmp123").write_bytes(b"half")
    FileBlobs(tmp_path / "files")
    assert not list((tmp_path / "files" / "incoming").iterdir())


def test_a_name_that_is_not_a_hash_reads_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        FileBlobs(tmp_path / "files").open("../../etc/passwd")
