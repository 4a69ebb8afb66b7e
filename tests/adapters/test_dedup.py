"""Duplicate adapters by hash: the earliest commitment wins, whatever order they arrive in."""

from __future__ import annotations

import random

from mycel_subnet.adapters import AdapterSubmission, find_duplicates


def test_earliest_wins_regardless_of_arrival_order():
    subs = [
        AdapterSubmission(block=10, order=0, hotkey="5Copy", adapter_hash="aa"),
        AdapterSubmission(block=7, order=3, hotkey="5Orig", adapter_hash="aa"),
        AdapterSubmission(block=7, order=5, hotkey="5Late", adapter_hash="aa"),
        AdapterSubmission(block=9, order=0, hotkey="5Solo", adapter_hash="bb"),
    ]
    for _ in range(5):
        random.shuffle(subs)
        result = find_duplicates(subs)
        assert result.originals["aa"].hotkey == "5Orig"
        assert result.originals["bb"].hotkey == "5Solo"
        assert sorted(dup.hotkey for dup, _ in result.duplicates) == ["5Copy", "5Late"]
        assert all(orig.hotkey == "5Orig" for _, orig in result.duplicates)
        flagged = {s.hotkey for s in subs if result.is_duplicate(s)}
        assert flagged == {"5Copy", "5Late"}


def test_same_block_and_order_falls_back_to_hotkey():
    a = AdapterSubmission(block=1, order=0, hotkey="5B", adapter_hash="cc")
    b = AdapterSubmission(block=1, order=0, hotkey="5A", adapter_hash="cc")
    assert find_duplicates([a, b]).originals["cc"] is b
