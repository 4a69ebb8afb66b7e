"""The choice of answer, without a network: the validator's checks first, then agreement.

For every rule, the cheapest dishonest miner that could win it loses: random text, claimed
patterns nobody offered, random ids, one promoted id, and padding past k.
"""

from __future__ import annotations

import random

from mycel_subnet.gateway.aggregate import (
    MinerAnswer,
    choose_inference,
    fuse_rankings,
    rank_agreed,
    search_faults,
)
from protocol import InferenceResult, SearchPatternsResult

RNG = random.Random(3)
OFFERED = f"{RNG.getrandbits(256):064x}"
HONEST = "Split the total in cents, round each share up, and refuse fewer than one person."


def _rand_id() -> str:
    return f"{RNG.getrandbits(256):064x}"


def _inf(key: str, score: float, text: str, used: list[str] | None = None) -> MinerAnswer:
    return MinerAnswer(key, score, InferenceResult(response=text, patterns_used=used or []))


def test_two_agreeing_honest_answers_beat_a_higher_scored_liar():
    noise = " ".join(f"w{RNG.randrange(10**6)}" for _ in range(14))
    answers = [
        _inf("liar", 0.99, noise, [OFFERED]),
        _inf("h1", 0.40, HONEST, [OFFERED]),
        _inf("h2", 0.30, HONEST.replace("refuse", "reject"), [OFFERED]),
    ]
    choice = choose_inference(answers, {OFFERED})
    assert choice.answer.response == HONEST  # h1: as supported as h2, scored higher
    assert (choice.valid, choice.agreeing) == (3, 2)
    assert not choice.faults  # a wrong answer is outvoted, not provably wrong


def test_claiming_patterns_nobody_offered_is_a_fault_and_never_chosen():
    answers = [_inf("claims", 0.9, HONEST, [_rand_id()]), _inf("empty", 0.8, "   ")]
    choice = choose_inference(answers, {OFFERED})
    assert choice.answer is None and choice.valid == 0
    assert set(choice.faults) == {"claims", "empty"}
    assert "not offered" in choice.faults["claims"]
    alone = choose_inference([_inf("h", 0.1, HONEST, [OFFERED]), *answers], {OFFERED})
    assert alone.answer.response == HONEST and alone.agreeing == 1


def test_with_no_agreement_the_validators_score_decides():
    answers = [_inf("a", 0.2, "alpha beta gamma"), _inf("b", 0.7, "delta epsilon zeta")]
    assert choose_inference(answers, set()).answer.response == "delta epsilon zeta"


def _search(key: str, ids: list[str], score: float = 0.5) -> MinerAnswer:
    return MinerAnswer(key, score, SearchPatternsResult(pattern_ids=ids))


def test_random_and_promoted_ids_do_not_survive_agreement():
    real = [_rand_id() for _ in range(6)]
    promoted = real[5]
    honest = real[:4]
    answers = [
        _search("h1", honest),
        _search("h2", [honest[1], honest[0], honest[2], honest[3]]),
        _search("random", [_rand_id() for _ in range(4)], score=0.99),
        _search("poison", [promoted, *(_rand_id() for _ in range(3))], score=0.99),
    ]
    fused = fuse_rankings(answers, k=4)
    rejected = {pid: "not in the registry" for pid in fused if pid not in real}
    faults = search_faults(answers, 4, rejected)
    assert set(faults) == {"random", "poison"}  # both sent ids that do not exist
    clean = fuse_rankings([a for a in answers if a.key not in faults], k=4)
    ranked = rank_agreed(clean, set(clean) - set(rejected), k=4, min_support=2)
    order = [f.pattern_id for f in ranked]
    assert set(order[:2]) == set(honest[:2]) and order[2:] == honest[2:]  # a tie, then agreed
    assert promoted not in {f.pattern_id for f in ranked}


def test_a_real_id_one_miner_promotes_alone_needs_support():
    real = [_rand_id() for _ in range(5)]
    answers = [_search("h1", real[:3]), _search("h2", real[:3]), _search("p", [real[4], *real[:2]])]
    fused = fuse_rankings(answers, k=3)
    ranked = rank_agreed(fused, set(real), k=3, min_support=2)
    assert [f.pattern_id for f in ranked] == real[:3]
    assert all(f.support >= 2 for f in ranked)


def test_ids_past_k_count_for_nothing():
    real = [_rand_id() for _ in range(8)]
    padded = _search("padder", [real[7], *real[:7]])
    fused = fuse_rankings([padded, _search("h", real[:2])], k=2)
    assert real[3] not in fused and fused[real[0]].support == 2
