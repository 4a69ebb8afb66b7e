"""The loop survives failing steps and failing mirrors; weights wait for permit and rate limit.

The chain here is a small stand-in (a scripted metagraph and a set_weights that records its
calls), because these tests are about the loop's reaction to chain failures that the sim chain
cannot be made to produce on demand. The sim chain itself is used in test_validator_chain.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace

import pytest

from mycel_subnet.chain.types import (
    ChainErrorKind,
    ChainResult,
    Hyperparameters,
    MetagraphSnapshot,
    NeuronInfo,
)
from mycel_subnet.validator.loop import Validator, ValidatorConfig
from mycel_subnet.validator.mirror import LocalRewardLog, MirrorChain
from mycel_subnet.validator.weights import (
    WeightPolicy,
    WeightSetter,
    normalised_weights,
    shaped_scores,
)

ME = "5Validator"
HP = Hyperparameters(tempo=10, weights_rate_limit=5, weights_version=0, max_weight_limit=1.0,
                     min_allowed_weights=0, max_allowed_uids=64, immunity_period=0)  # fmt: skip


def _graph(block=20, permit=True, last_update=0):
    neurons = (
        NeuronInfo(0, ME, "cv", 50.0, permit, last_update=last_update),
        NeuronInfo(1, "5MinerA", "ca", 0.0, False),
        NeuronInfo(2, "5MinerB", "cb", 0.0, False),
    )
    return MetagraphSnapshot(netuid=1, block=block, neurons=neurons)


class ScriptedChain:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple] = []

    def metagraph(self):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("chain hiccup")
        return _graph()

    def hyperparameters(self):
        return HP

    def set_weights(self, uids, weights, version_key):
        self.calls.append((uids, weights, version_key))
        return ChainResult.success("ok", block=20)


def test_a_failing_step_is_logged_and_the_loop_goes_on(tmp_path, caplog):
    chain = ScriptedChain(failures=2)
    config = ValidatorConfig(
        sample_size=4,
        timeout_s=1.0,
        step_interval_s=0.0,
        alpha=0.5,
        max_response_bytes=1024 * 1024,
        state_dir=tmp_path,
        version_key=1,
    )
    validator = Validator(config, wallet=SimpleNamespace(hotkey=SimpleNamespace(ss58_address=ME)),
                          chain=chain)  # fmt: skip

    async def run_until_two_steps():
        stop = asyncio.Event()
        task = asyncio.create_task(validator.run(stop))
        while validator.step_no < 2:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 10)

    with caplog.at_level(logging.ERROR):
        asyncio.run(run_until_two_steps())
    assert caplog.text.count("validator step failed; the loop goes on") == 2
    assert "chain hiccup" in caplog.text
    lines = [json.loads(x) for x in (tmp_path / "steps.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines][:2] == [1, 2]  # numbered on, after the failures
    assert lines[0]["weights"]["status"] == "empty"  # nobody scored yet: nothing to set
    validator.close()


def test_weight_setter_checks_permit_rate_limit_and_version(caplog):
    chain = ScriptedChain(failures=0)
    setter = WeightSetter(chain, ME, version_key=3)
    scores = {0: 0.9, 1: 0.3, 2: 0.1}
    with caplog.at_level(logging.WARNING):
        cannot = setter.attempt(_graph(permit=False), HP, scores, 20)
        setter.attempt(_graph(permit=False), HP, scores, 21)
    assert cannot.status == "cannot" and "no validator permit" in cannot.message
    assert caplog.text.count("cannot set weights") == 1  # said once, not every step
    assert chain.calls == []
    done = setter.attempt(_graph(), HP, scores, 20)
    assert done.ok and len(chain.calls) == 1
    uids, weights, version = chain.calls[0]
    # Not self; scores squared by the default policy: 0.3^2 : 0.1^2.
    assert uids == [1, 2] and weights == pytest.approx([0.9, 0.1]) and version == 3
    assert setter.attempt(_graph(block=22), HP, scores, 22).status == "not_due"
    assert setter.attempt(_graph(block=25), HP, scores, 25).ok
    rich = HP.__class__(**{**HP.__dict__, "min_stake_for_permit": 100.0})
    assert "below the subnet's minimum" in setter.attempt(_graph(), rich, scores, 40).message
    # The chain's own record of our last update counts too (e.g. after a restart).
    fresh = WeightSetter(chain, ME, version_key=3)
    assert fresh.attempt(_graph(block=30, last_update=28), HP, scores, 30).status == "not_due"


def test_the_weight_policy_shapes_scores_before_they_are_normalised():
    chain = ScriptedChain(failures=0)
    linear = WeightSetter(chain, ME, version_key=3, policy=WeightPolicy(sharpen_power=1.0))
    assert linear.attempt(_graph(), HP, {0: 0.9, 1: 0.3, 2: 0.1}, 20).ok
    assert chain.calls[0][1] == pytest.approx([0.75, 0.25])
    cubed = shaped_scores({1: 0.5, 2: -0.1}, WeightPolicy(sharpen_power=3.0))
    assert cubed == pytest.approx({1: 0.125, 2: 0.0})
    burn = WeightPolicy(floor=0.2, floor_policy="burn", burn_uid=7)
    assert shaped_scores({1: 0.2, 2: 0.1}, burn) == {7: 1.0}  # nobody above the floor
    assert shaped_scores({1: 0.3, 2: 0.1}, burn) == pytest.approx({1: 0.09, 2: 0.01})
    equal = WeightPolicy(floor=0.2)
    assert shaped_scores({1: 0.2, 2: 0.1}, equal) == pytest.approx({1: 0.04, 2: 0.01})


def test_a_refused_weight_setting_is_reported_with_its_reason():
    class Refusing(ScriptedChain):
        def set_weights(self, uids, weights, version_key):
            message = "set_weights: version_key 1 is below 2; upgrade"
            return ChainResult.failure(ChainErrorKind.STALE_VERSION_KEY, message)

    attempt = WeightSetter(Refusing(0), ME, version_key=1).attempt(_graph(), HP, {1: 1.0}, 20)
    assert attempt.status == "failed" and attempt.error is ChainErrorKind.STALE_VERSION_KEY
    assert "upgrade" in attempt.message


def test_normalised_weights_skip_departed_and_zero_scores():
    uids, weights = normalised_weights({0: 5.0, 1: 1.0, 2: 0.0, 9: 3.0}, _graph(), {0})
    assert uids == [1] and weights == [1.0]
    assert normalised_weights({1: 0.0}, _graph(), set()) == ([], [])


def test_weights_are_padded_to_the_subnets_min_allowed_weights():
    uids, weights = normalised_weights({1: 2.0}, _graph(), {0}, min_allowed=2)
    assert uids == [1, 2]
    assert weights[0] > 0.999 and 0 < weights[1] < 1e-4
    assert round(weights[1] / weights[0] * 65535) >= 1, "the pad must survive u16 quantisation"
    # never more than the subnet holds, never ourselves
    uids, _ = normalised_weights({1: 2.0}, _graph(), {0}, min_allowed=10)
    assert uids == [1, 2]


def test_one_failing_mirror_does_not_stop_the_local_record(tmp_path):
    class Broken:
        async def record_rewards(self, epoch, rewards):
            raise ConnectionError("near rpc down")

    chain = MirrorChain([Broken(), LocalRewardLog(tmp_path / "r.jsonl")])
    outcomes = asyncio.run(chain.record_rewards(7, {"5MinerA": 0.5}))
    assert isinstance(outcomes[0], ConnectionError) and outcomes[1] == "recorded"
    line = json.loads((tmp_path / "r.jsonl").read_text())
    assert line["epoch"] == 7 and line["rewards"] == {"5MinerA": 0.5}


@pytest.mark.parametrize("mode", ["disabled"])
def test_wandb_disabled_never_imports_wandb(tmp_path, mode):
    import sys

    from mycel_subnet.validator.wandb_log import WandbLogger

    before = "wandb" in sys.modules
    logger = WandbLogger(mode, "p", None, tmp_path, {})
    logger.log({"x": 1}, step=1)
    logger.finish()
    assert not logger.active
    assert ("wandb" in sys.modules) == before
