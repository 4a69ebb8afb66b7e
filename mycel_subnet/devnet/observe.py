"""Watch a running devnet: the chain (blocks, epochs, incentive, weights) and the validator's state.

The devnet owns its chain file, so the observer reads the sim's store directly for the epoch
counter and the validator's weight row; everything a miner or validator would see comes through
the SDK (`ChainPort.metagraph`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from mycel_subnet.chain.port import ChainPort
from mycel_subnet.chain.sim.chain import SimChain
from mycel_subnet.devnet import validator_state
from mycel_subnet.devnet.chain_setup import DevnetChain
from mycel_subnet.devnet.plan import DevnetPlan
from mycel_subnet.devnet.report import DevnetReport, EpochSnapshot, MinerRow, StepRow

log = logging.getLogger(__name__)


@dataclass
class LiveState:
    block: int = 0
    epochs_seen: int = 0
    queries: int = 0
    weight_sets: int = 0
    latest: list[MinerRow] = field(default_factory=list)


class Observer:
    def __init__(self, plan: DevnetPlan, chain: DevnetChain) -> None:
        self.plan = plan
        self.chain = chain
        self.sim = SimChain(chain.path)
        self.port = ChainPort(chain.network, chain.netuid)
        self.state = LiveState()
        self.report = DevnetReport(chain_path=str(chain.path), netuid=chain.netuid)
        self._last_epoch_block: int | None = None
        self._engines = {
            m.uid: engine for m, engine in zip(chain.miners, plan.miner_engines, strict=True)
        }
        self._state_dir = plan.out_dir / "validator"

    @property
    def begun(self) -> bool:
        return self._last_epoch_block is not None

    def begin(self) -> None:
        """Epochs are counted from here on (the ones during set-up do not count)."""
        self._last_epoch_block = self._last_epoch()

    def validator_permit(self) -> bool:
        """Whether the devnet's validator holds a permit yet (granted at an epoch)."""
        return self.permit_block() is not None

    def permit_block(self) -> int | None:
        """The block at which the validator's permit is seen on chain, None before it is."""
        graph = self.port.metagraph()
        me = graph.by_uid(self.chain.validator.uid)
        return graph.block if me and me.validator_permit else None

    def _last_epoch(self) -> int:
        self.sim.sync()
        with self.sim.store.read() as conn:
            row = conn.execute(
                "SELECT last_epoch FROM subnets WHERE netuid=?", (self.chain.netuid,)
            ).fetchone()
        return int(row["last_epoch"])

    def _validator_weights(self) -> dict[int, float]:
        with self.sim.store.read() as conn:
            row = conn.execute(
                "SELECT row FROM weights WHERE netuid=? AND uid=?",
                (self.chain.netuid, self.chain.validator.uid),
            ).fetchone()
        if row is None:
            return {}
        pairs = [(int(uid), float(value)) for uid, value in json.loads(row["row"])]
        total = sum(value for _, value in pairs) or 1.0
        return {uid: value / total for uid, value in pairs}

    def poll(self) -> None:
        self.state.block = self.sim.head()
        activity = validator_state.activity(self._state_dir)
        self.state.queries = activity.queries
        self.state.weight_sets = activity.weight_sets
        last_epoch = self._last_epoch()
        if self._last_epoch_block is not None and last_epoch != self._last_epoch_block:
            self._last_epoch_block = last_epoch
            self.state.epochs_seen += 1
            self._snapshot(last_epoch)
        elif not self.state.latest:
            self.state.latest = self._rows()

    def _rows(self) -> list[MinerRow]:
        metagraph = self.port.metagraph()
        scores = validator_state.scores(self._state_dir)
        weights = self._validator_weights()
        rewards = validator_state.near_rewards(self._state_dir)
        rows = []
        for miner in self.chain.miners:
            neuron = metagraph.by_uid(miner.uid)
            if neuron is None or neuron.hotkey != miner.hotkey:
                continue  # replaced on chain; not ours any more
            rows.append(
                MinerRow(
                    uid=miner.uid,
                    hotkey=miner.hotkey,
                    engine=self._engines[miner.uid],
                    score=scores.get(miner.uid, 0.0),
                    weight=weights.get(miner.uid, 0.0),
                    incentive=neuron.incentive,
                    emission=neuron.emission,
                    near_reward=rewards.get(miner.hotkey, 0.0),
                )
            )
        return rows

    def _snapshot(self, block: int) -> None:
        rows = self._rows()
        self.state.latest = rows
        self.report.epochs.append(
            EpochSnapshot(epoch=self.state.epochs_seen, block=block, miners=rows)
        )

    def finish(self, report: DevnetReport) -> None:
        """Fill the report from the validator's steps: per-step points, per-miner accuracy and
        reasons, and a note for every failure (failed queries, weights not set, no steps)."""
        report.queries = self.state.queries
        report.weight_sets = self.state.weight_sets
        report.steps = [
            StepRow(p.step, p.block, p.rewards, p.scores, p.accuracy)
            for p in validator_state.step_points(self._state_dir)
        ]
        summaries = validator_state.miner_summaries(self._state_dir)
        for row in report.final():
            summary = summaries.get(row.uid)
            if summary is not None:
                row.accuracy, row.steps = summary.accuracy, summary.steps
                row.duplicate_steps, row.reasons = summary.duplicate_steps, summary.reasons
        report.notes.extend(validator_state.failure_notes(self._state_dir))
        for miner in self.chain.miners:
            if miner.uid not in summaries:
                report.notes.append(
                    f"uid {miner.uid} ({self._engines[miner.uid]}) was never queried: see "
                    f"its log in {self.plan.out_dir / 'logs'}"
                )
        if not report.epochs:
            report.notes.append("no epoch ended after the validator's first weights")
        self.port.close()
