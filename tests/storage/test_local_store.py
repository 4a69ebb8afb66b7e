"""LocalContentStore: round trips, corruption detection, pins and gc, size limits, bad CIDs."""

from __future__ import annotations

import os

import pytest

from mycel_subnet.config import IpfsSettings
from mycel_subnet.storage import (
    CidError,
    ContentNotFound,
    ContentTooLarge,
    IntegrityError,
    KuboContentStore,
    LocalContentStore,
    compute_cid,
    open_store,
)


@pytest.fixture
def store(tmp_path):
    return LocalContentStore(tmp_path / "ipfs", max_object_bytes=2 * 1024 * 1024)


def test_put_get_round_trip_both_versions(store):
    data = os.urandom(600_000)
    for version in (0, 1):
        cid = store.put(data, cid_version=version)
        assert cid == compute_cid(data, version)
        assert store.get(cid) == data
        assert store.has(cid)
    assert store.put(b"") == compute_cid(b"")
    assert store.get(compute_cid(b"")) == b""


def test_put_is_idempotent_and_leaves_no_temp_files(store):
    cid = store.put(b"same")
    assert store.put(b"same") == cid
    assert [p.name for p in (store.root / "objects").iterdir()] == [cid]


def test_corrupted_file_is_detected_and_repaired_by_put(store):
    data = b"adapter bytes" * 1000
    cid = store.put(data)
    path = store.root / "objects" / cid
    path.write_bytes(data[:-1] + b"X")
    with pytest.raises(IntegrityError, match=f"stored content for {cid} is corrupted"):
        store.get(cid)
    store.put(data)  # a fresh put rewrites the damaged object
    assert store.get(cid) == data


def test_missing_content_is_not_found(store):
    cid = compute_cid(b"never stored")
    with pytest.raises(ContentNotFound, match=cid):
        store.get(cid)
    assert not store.has(cid)
    with pytest.raises(ContentNotFound, match="cannot pin"):
        store.pin(cid)


def test_size_limits(store):
    with pytest.raises(ContentTooLarge, match="exceeds this store's limit"):
        store.put(b"\0" * (2 * 1024 * 1024 + 1))
    cid = store.put(b"x" * 1000)
    with pytest.raises(ContentTooLarge, match="over the limit of 999 bytes"):
        store.get(cid, max_size=999)
    assert store.get(cid, max_size=1000) == b"x" * 1000


def test_pins_unpin_and_gc(store):
    kept = store.put(b"kept")
    loose = store.put(b"loose", pin=False)
    assert store.pins() == [kept]
    assert store.objects() == sorted([kept, loose])
    assert store.gc() == [loose]
    assert not store.has(loose) and store.get(kept) == b"kept"
    store.unpin(kept)
    with pytest.raises(ContentNotFound, match="not pinned"):
        store.unpin(kept)
    assert store.gc() == [kept]
    assert store.objects() == []


@pytest.mark.parametrize("bad", ["../../etc/passwd", "Qm/../x", "", "bafy" + "A" * 50])
def test_bad_cids_never_touch_the_filesystem(store, bad):
    with pytest.raises(CidError):
        store.get(bad)
    with pytest.raises(CidError):
        store.has(bad)


def test_open_store_picks_backend(tmp_path):
    local = open_store(IpfsSettings(store_dir=tmp_path / "s"))
    assert isinstance(local, LocalContentStore) and (tmp_path / "s" / "objects").is_dir()
    kubo = open_store(IpfsSettings(api="http://127.0.0.1:5001"))
    assert isinstance(kubo, KuboContentStore)
    assert kubo.base_url == "http://127.0.0.1:5001"
    kubo.close()
