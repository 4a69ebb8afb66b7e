"""k-anonymity gate on real SQLite: distinct vs repeated interactions, the k boundary, the
structure key's normalisation, persistence across reopen (and across two processes' handles),
salted ids, and clear errors for bad input."""

import sqlite3

import pytest

from mycel_subnet.privacy.kanon import KAnonymityGate, normalise_structure, structure_key

TEMPLATE = "Email <PERSON> at <EMAIL> about invoice {amount}"


@pytest.fixture
def gate(tmp_path):
    with KAnonymityGate(tmp_path / "kanon.sqlite", k=3) as g:
        yield g


def test_distinct_interactions_reach_k_and_repeats_do_not(gate):
    key = structure_key(TEMPLATE)
    assert gate.observe(key, "interaction-1") == 1
    assert gate.observe(key, "interaction-1") == 1  # the same interaction counts once
    assert gate.observe(key, "interaction-2") == 2
    assert not gate.shareable(key)  # k - 1 distinct interactions: not yet
    assert gate.observe(key, "interaction-2") == 2
    assert not gate.shareable(key)
    assert gate.observe(key, "interaction-3") == 3
    assert gate.shareable(key)  # exactly k
    other = structure_key("Summarise the attached report in three bullet points")
    assert gate.count(other) == 0 and not gate.shareable(other)


def test_k_of_one_shares_at_once(tmp_path):
    with KAnonymityGate(tmp_path / "k1.sqlite", k=1) as gate:
        key = structure_key(TEMPLATE)
        assert not gate.shareable(key)
        gate.observe(key, "only")
        assert gate.shareable(key)


def test_structure_key_normalises_placeholders_case_and_whitespace():
    same = [
        TEMPLATE,
        "email  {person}\tat {email} ABOUT invoice <AMOUNT>",
        "Email <PERSON_2> at {email_1} about\ninvoice {amount}",
        "Ｅmail <PERSON> at <EMAIL> about invoice {amount}",  # full-width E (NFKC)
    ]
    assert len({structure_key(text) for text in same}) == 1
    assert structure_key("Email <PERSON> at <PHONE> about invoice {amount}") != same[0]
    assert structure_key("Call <PERSON> at <EMAIL> about invoice {amount}") != same[0]
    assert normalise_structure(" A  {Person_3} ") == "a <person>"


def test_counts_persist_across_reopen_and_handles(tmp_path):
    path = tmp_path / "kanon.sqlite"
    key = structure_key(TEMPLATE)
    with KAnonymityGate(path, k=2) as first:
        first.observe(key, "a")
        with KAnonymityGate(path, k=2) as second:  # another process's handle on the file
            assert second.observe(key, "a") == 1
            assert second.observe(key, "b") == 2
        assert first.shareable(key)
    with KAnonymityGate(path, k=5) as reopened:  # restart with a stricter k
        assert reopened.count(key) == 2 and not reopened.shareable(key)
        assert reopened.observe(key, "b") == 2  # the salt survived: "b" is still known


def test_interaction_ids_are_stored_salted_not_in_clear(tmp_path):
    key = structure_key(TEMPLATE)
    with (
        KAnonymityGate(tmp_path / "one.sqlite") as one,
        KAnonymityGate(tmp_path / "two.sqlite") as two,
    ):
        one.observe(key, "user-42-session-7")
        two.observe(key, "user-42-session-7")
    stored = []
    for name in ("one.sqlite", "two.sqlite"):
        with sqlite3.connect(tmp_path / name) as conn:
            stored.append(conn.execute("SELECT interaction FROM kanon_seen").fetchone()[0])
            dump = "\n".join(conn.iterdump())
        assert "user-42-session-7" not in dump
    assert stored[0] != stored[1]  # a different random salt per file


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda g: g.observe("not a hash", "i"), "structure_key must be 64"),
        (lambda g: g.observe("A" * 64, "i"), "structure_key must be 64"),
        (lambda g: g.observe(structure_key("x y"), ""), "interaction_id"),
        (lambda g: g.observe(structure_key("x y"), 7), "interaction_id"),
        (lambda g: g.observe(structure_key("x y"), "i" * 513), "at most 512"),
        (lambda g: g.shareable(None), "structure_key"),
    ],
)
def test_bad_input_is_a_clear_error(gate, call, match):
    with pytest.raises(ValueError, match=match):
        call(gate)


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "3"])
def test_bad_k_is_refused(tmp_path, k):
    with pytest.raises(ValueError, match="k must be"):
        KAnonymityGate(tmp_path / "bad.sqlite", k=k)


def test_empty_structure_is_refused():
    with pytest.raises(ValueError, match="structure must not be empty"):
        structure_key("   \n ")
    with pytest.raises(TypeError, match="structure must be a str"):
        structure_key(b"bytes")
