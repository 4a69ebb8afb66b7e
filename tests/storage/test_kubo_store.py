"""KuboContentStore against a fake kubo RPC server on loopback (see fake_kubo.py for why fake)."""

from __future__ import annotations

import os
import socket

import pytest

from mycel_subnet.storage import (
    ContentNotFound,
    ContentTooLarge,
    IntegrityError,
    KuboContentStore,
    StorageError,
    StoreUnavailable,
    compute_cid,
)
from mycel_subnet.storage.kubo import api_base_url, redact
from tests.storage.fake_kubo import FakeKubo


@pytest.fixture
def kubo():
    with FakeKubo() as fake:
        yield fake


def test_add_cat_pin_round_trip(kubo):
    data = os.urandom(700_000) + b"\r\n--boundary\r\n"  # multipart-hostile bytes too
    with KuboContentStore(kubo.url) as store:
        cid = store.put(data)
        assert cid == compute_cid(data, 1)
        assert store.get(cid) == data
        assert store.has(cid) and not store.has(compute_cid(b"other"))
        assert store.pins() == [cid]
        store.unpin(cid)
        assert store.pins() == []
        store.pin(cid)
        assert store.pins() == [cid]
        assert store.version() == "0.22.0-fake"
    add_query = next(q for path, q in kubo.requests if path == "/api/v0/add")
    assert "cid-version=1" in add_query and "raw-leaves=true" in add_query


def test_cidv0_put(kubo):
    with KuboContentStore(kubo.url) as store:
        cid = store.put(b"v0 content", cid_version=0)
        assert cid.startswith("Qm") and store.get(cid) == b"v0 content"


def test_daemon_with_other_import_settings_is_refused():
    with (
        FakeKubo(mode="v0_only") as kubo,
        KuboContentStore(kubo.url) as store,
        pytest.raises(IntegrityError, match="other import settings"),
    ):
        store.put(b"data")


def test_corrupted_cat_is_refused():
    with FakeKubo(mode="corrupt") as kubo, KuboContentStore(kubo.url) as store:
        cid = store.put(b"precious adapter")
        with pytest.raises(IntegrityError, match=f"served bytes for {cid}"):
            store.get(cid)


def test_cat_size_cap(kubo):
    with KuboContentStore(kubo.url, max_object_bytes=1000) as store:
        cid = store.put(b"y" * 1000)
        with pytest.raises(ContentTooLarge, match="over the limit of 10 bytes"):
            store.get(cid, max_size=10)
        with pytest.raises(ContentTooLarge, match="exceeds the limit"):
            store.put(b"y" * 1001)
    cat_query = [q for path, q in kubo.requests if path == "/api/v0/cat"][-1]
    assert "length=11" in cat_query  # kubo itself stops after limit + 1 bytes


def test_not_found_and_not_pinned(kubo):
    with KuboContentStore(kubo.url) as store:
        with pytest.raises(ContentNotFound, match="has no content"):
            store.get(compute_cid(b"absent"))
        with pytest.raises(ContentNotFound, match="not pinned"):
            store.unpin(compute_cid(b"absent"))


def test_http_errors_carry_kubos_message():
    with (
        FakeKubo(mode="error") as kubo,
        KuboContentStore(kubo.url) as store,
        pytest.raises(StorageError, match="HTTP 500.*broken on purpose"),
    ):
        store.put(b"x")


def test_wrong_port_says_so(kubo):
    with (
        KuboContentStore(kubo.url + "/not-kubo") as store,
        pytest.raises(StorageError, match="HTTP 404.*RPC port"),
    ):
        store.pins()


def test_unreachable_daemon():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    with KuboContentStore(f"http://127.0.0.1:{port}", timeout_s=2) as store:
        with pytest.raises(StoreUnavailable, match="unreachable.*daemon running"):
            store.put(b"x")
        with pytest.raises(StoreUnavailable, match="unreachable"):
            store.get(compute_cid(b"x"))


def test_api_address_forms():
    assert api_base_url("/ip4/127.0.0.1/tcp/5001") == "http://127.0.0.1:5001"
    assert api_base_url("/dns/kubo.lan/tcp/443/https") == "https://kubo.lan:443"
    assert api_base_url("http://h:5001/api/v0/") == "http://h:5001"
    with pytest.raises(ValueError, match="ipfs.api must be"):
        api_base_url("ftp://u:secret@h")
    try:
        api_base_url("ftp://u:secret@h")
    except ValueError as exc:
        assert "secret" not in str(exc)
    assert redact("http://user:pw@h:5001") == "http://***@h:5001"
