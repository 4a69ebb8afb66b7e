"""Yuma on the sim chain end to end: weights set through the real bittensor SDK, epochs run by
the chain (in this process or another one), results read back through the SDK's metagraph.

Only the subtensor node is replaced (by the sim, our Substrate implementation), since none can
run here. Figures come back as u16 fractions, hence the 1e-3 tolerances.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim import admin

REPO = Path(__file__).resolve().parents[2]
U16_STEP = 2 / 65535


def _staked(path, netuid, make_wallet, name: str, stake: float) -> ChainPort:
    port = ChainPort(f"sim:{path}", netuid, make_wallet(name, tao=stake + 1))
    assert port.register().ok
    assert port.add_stake(stake).ok
    return port


def test_outlier_validator_is_clipped_on_chain(devnet):
    """Validators staked 3:2:1. The two larger put 0.5/0.5 on miners m3, m4; the small one puts
    everything on m4. Consensus is 0.5 on both (see test_yuma.test_kappa_clips_outlier_validator),
    so the outlier's validator trust is 0.5, the incentive splits 5/11 : 6/11 and the outlier
    earns 12/77 of the dividends, less than its 1/6 share of stake."""
    path, netuid, make_wallet = devnet
    vals = [_staked(path, netuid, make_wallet, n, s) for n, s in (("a", 3), ("b", 2), ("c", 1))]
    miners = [ChainPort(f"sim:{path}", netuid, make_wallet(f"m{i}")) for i in range(2)]
    for miner in miners:
        assert miner.register().ok
    admin.advance_blocks(path, 10)  # permits by stake
    m3, m4 = (m.my_uid() for m in miners)
    for val in vals[:2]:
        assert val.set_weights([m3, m4], [0.5, 0.5], version_key=0).ok
    assert vals[2].set_weights([m4], [1.0], version_key=0).ok
    admin.advance_blocks(path, 10)

    graph = vals[0].metagraph()
    a, b, c = (graph.by_uid(v.my_uid()) for v in vals)
    assert a.validator_permit and b.validator_permit and c.validator_permit
    assert a.validator_trust == pytest.approx(1.0, abs=U16_STEP)
    assert b.validator_trust == pytest.approx(1.0, abs=U16_STEP)
    assert c.validator_trust == pytest.approx(0.5, abs=U16_STEP)
    assert graph.by_uid(m3).incentive == pytest.approx(5 / 11, abs=1e-3)
    assert graph.by_uid(m4).incentive == pytest.approx(6 / 11, abs=1e-3)
    assert graph.by_uid(m4).consensus == pytest.approx(0.5, abs=U16_STEP)
    assert c.dividends == pytest.approx(12 / 77, abs=1e-3)
    assert a.dividends / 3 > c.dividends / 1


def test_epoch_run_by_another_process_is_visible(devnet):
    """A second OS process advances the chain file past an epoch (running Yuma there, bonds
    included); this process then reads the results and the next epoch builds on its bonds."""
    path, netuid, make_wallet = devnet
    val = _staked(path, netuid, make_wallet, "v", 2)
    miner = ChainPort(f"sim:{path}", netuid, make_wallet("m"))
    assert miner.register().ok
    admin.advance_blocks(path, 10)
    assert val.set_weights([miner.my_uid()], [1.0], version_key=0).ok
    script = (
        "import sys\n"
        "from mycel_subnet.chain.sim import admin\n"
        "print(admin.advance_blocks(sys.argv[1], 10))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    graph = val.metagraph()
    assert graph.block == int(done.stdout.strip())
    assert graph.by_uid(miner.my_uid()).incentive == pytest.approx(1.0, abs=U16_STEP)
    assert graph.by_uid(val.my_uid()).dividends == pytest.approx(1.0, abs=U16_STEP)
    admin.advance_blocks(path, 10)  # bonds written by the other process are read back here
    again = val.metagraph()
    assert again.by_uid(val.my_uid()).dividends == pytest.approx(1.0, abs=U16_STEP)
    emitted = graph.by_uid(miner.my_uid()).emission
    assert emitted > 0 and again.by_uid(miner.my_uid()).emission == pytest.approx(emitted, rel=1e-3)
