"""ChainPort: the small chain interface the neurons use, over bittensor 11's blocking client.

Reads return plain snapshots (``mycel_subnet.chain.types``); writes return a ``ChainResult``
whose error kind a neuron can act on, never a traceback. The permit, registration and
weights_version checks the SDK's SetWeights leaves to the caller are done here first, so a
validator learns which one failed before anything is signed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from mycel_subnet.chain.network import open_subtensor, parse_network
from mycel_subnet.chain.types import (
    ChainErrorKind,
    ChainResult,
    Hyperparameters,
    MetagraphSnapshot,
    NeuronInfo,
)

log = logging.getLogger(__name__)
U16_MAX = 65535

_NAME_TO_KIND = {
    "SettingWeightsTooFast": ChainErrorKind.RATE_LIMITED,
    "CommittingWeightsTooFast": ChainErrorKind.RATE_LIMITED,  # SetWeights' commit-reveal path
    "ServingRateLimitExceeded": ChainErrorKind.RATE_LIMITED,
    "HotKeyNotRegisteredInSubNet": ChainErrorKind.NOT_REGISTERED,
    "HotKeyNotRegisteredInNetwork": ChainErrorKind.NOT_REGISTERED,
    "NeuronNoValidatorPermit": ChainErrorKind.NO_VALIDATOR_PERMIT,
    "IncorrectWeightVersionKey": ChainErrorKind.STALE_VERSION_KEY,
    "NotEnoughBalanceToStake": ChainErrorKind.INSUFFICIENT_BALANCE,
    "InsufficientBalance": ChainErrorKind.INSUFFICIENT_BALANCE,
    "Expendability": ChainErrorKind.INSUFFICIENT_BALANCE,
    "WeightVecLengthIsLow": ChainErrorKind.INVALID_WEIGHTS,
    "MaxWeightExceeded": ChainErrorKind.INVALID_WEIGHTS,
    "DuplicateUids": ChainErrorKind.INVALID_WEIGHTS,
    "UidVecContainInvalidOne": ChainErrorKind.INVALID_WEIGHTS,
    "WeightVecNotEqualSize": ChainErrorKind.INVALID_WEIGHTS,
}
_CODE_TO_KIND = {
    "rate_limited": ChainErrorKind.RATE_LIMITED,
    "not_registered": ChainErrorKind.NOT_REGISTERED,
    "insufficient_balance": ChainErrorKind.INSUFFICIENT_BALANCE,
}


class ChainUnreachable(ConnectionError):
    """A read could not reach the chain (node down, sim file missing its genesis, ...)."""


class SubnetNotFound(LookupError):
    """The netuid names no subnet on this chain."""


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())[:300]


def error_kind(error: Any) -> ChainErrorKind:
    """Classify an SDK ``ChainError`` (or an ExtrinsicResult's error) for a neuron."""
    name = getattr(error, "name", None)
    if name in _NAME_TO_KIND:
        return _NAME_TO_KIND[name]
    code = getattr(getattr(error, "code", None), "value", None)
    return _CODE_TO_KIND.get(str(code), ChainErrorKind.OTHER)


def _is_unreachable(error: BaseException) -> bool:
    from bittensor.result import RpcConnectionError

    from mycel_subnet.chain.sim.chain import ChainNotInitialised

    return isinstance(
        error, RpcConnectionError | ConnectionError | OSError | TimeoutError | ChainNotInitialised
    )


class ChainPort:
    """Chain access for one neuron on one subnet. Safe to share with a background thread."""

    def __init__(self, network: str, netuid: int, wallet: Any | None = None) -> None:
        self.spec = parse_network(network)  # ValueError on a bad value, before any I/O
        if int(netuid) < 0:
            raise ValueError(f"netuid must be >= 0, got {netuid}")
        self.netuid = int(netuid)
        self.wallet = wallet
        self._lock = threading.RLock()
        self._client: Any = None

    # -- plumbing -----------------------------------------------------------------------

    def _sub(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = open_subtensor(self.spec.value)
            return self._client

    def _read(self, fn):
        try:
            with self._lock:
                return fn(self._sub())
        except (SubnetNotFound, ValueError):
            raise
        except Exception as error:
            if _is_unreachable(error):
                raise ChainUnreachable(f"{self.spec.value}: {_one_line(error)}") from error
            raise

    def _write(self, what: str, fn) -> ChainResult:
        from bittensor.result import BittensorError, ChainError

        try:
            with self._lock:
                result = fn(self._sub())
        except ChainError as error:  # the SDK's own preflight (e.g. rate limit) refused it
            return ChainResult.failure(error_kind(error), f"{what}: {_one_line(error.message)}")
        except NotImplementedError as error:
            return ChainResult.failure(ChainErrorKind.OTHER, f"{what}: {_one_line(error)}")
        except BittensorError as error:
            kind = ChainErrorKind.INVALID_WEIGHTS if what == "set_weights" else ChainErrorKind.OTHER
            return ChainResult.failure(kind, f"{what}: {_one_line(error)}")
        except Exception as error:
            if _is_unreachable(error):
                return ChainResult.failure(
                    ChainErrorKind.UNREACHABLE, f"{what}: {self.spec.value}: {_one_line(error)}"
                )
            log.exception("unexpected error during %s", what)
            return ChainResult.failure(ChainErrorKind.OTHER, f"{what}: {_one_line(error)}")
        if result.success:
            block = None
            if result.extrinsic_id:
                head = str(result.extrinsic_id).partition("-")[0]
                block = int(head) if head.isdigit() else None
            return ChainResult.success(f"{what}: included", block=block)
        return ChainResult.failure(error_kind(result.error), f"{what}: {_one_line(result.message)}")

    def _hotkey(self) -> str:
        if self.wallet is None:
            raise ValueError("this ChainPort has no wallet; pass one to sign or to find my_uid")
        return self.wallet.hotkey.ss58_address

    # -- reads ----------------------------------------------------------------------------

    def current_block(self) -> int:
        return int(self._read(lambda sub: sub.block))

    def metagraph(self) -> MetagraphSnapshot:
        def fetch(sub):
            graph = sub.subnets.metagraph(self.netuid, commitments=False)
            if graph is None:
                raise SubnetNotFound(f"subnet {self.netuid} does not exist on {self.spec.value}")
            return graph

        graph = self._read(fetch)
        vtrust = list(graph.raw.get("validator_trust") or [])
        neurons = []
        for n in graph.neurons:
            ip, port = "0.0.0.0", 0
            if n.axon:
                host, _, port_text = n.axon.rpartition(":")
                ip, port = host.strip("[]"), int(port_text)
            vt = vtrust[n.uid] / U16_MAX if n.uid < len(vtrust) and vtrust[n.uid] else 0.0
            neurons.append(
                NeuronInfo(
                    uid=n.uid,
                    hotkey=n.hotkey,
                    coldkey=n.coldkey,
                    stake=n.total_stake.rao / 1e9,  # subnet alpha units
                    validator_permit=n.validator_permit,
                    axon_ip=ip,
                    axon_port=port,
                    active=n.active,
                    incentive=n.incentive,
                    trust=n.trust,
                    consensus=n.consensus,
                    validator_trust=vt,
                    dividends=n.dividends,
                    emission=n.emission.rao / 1e9,
                    rank=n.rank,
                    last_update=n.last_update,
                )
            )
        return MetagraphSnapshot(netuid=self.netuid, block=graph.block, neurons=tuple(neurons))

    def my_uid(self) -> int | None:
        if self.wallet is None:
            return None
        hotkey = self._hotkey()
        uid = self._read(lambda sub: sub.query(("SubtensorModule", "Uids"), [self.netuid, hotkey]))
        return None if uid is None else int(uid)

    def hyperparameters(self) -> Hyperparameters:
        def fetch(sub):
            hp = sub.read("subnet_hyperparameters", netuid=self.netuid)
            if hp is None:
                raise SubnetNotFound(f"subnet {self.netuid} does not exist on {self.spec.value}")
            return hp

        hp = self._read(fetch)
        max_uids = hp.get("max_allowed_uids")
        if max_uids is None:
            max_uids = self._read(
                lambda sub: sub.query(("SubtensorModule", "MaxAllowedUids"), [self.netuid])
            )
        return Hyperparameters(
            tempo=int(hp["tempo"]),
            weights_rate_limit=int(hp["weights_rate_limit"]),
            weights_version=int(hp["weights_version"]),
            max_weight_limit=int(hp["max_weights_limit"]) / U16_MAX,
            min_allowed_weights=int(hp["min_allowed_weights"]),
            max_allowed_uids=int(max_uids or 0),
            immunity_period=int(hp["immunity_period"]),
            commit_reveal_enabled=bool(hp.get("commit_reveal_weights_enabled", False)),
            serving_rate_limit=int(hp.get("serving_rate_limit", 0) or 0),
            min_stake_for_permit=int(hp.get("min_stake_for_permit", 0) or 0) / 1e9,
        )

    # -- writes ---------------------------------------------------------------------------

    def _preflight_registered(self, what: str) -> tuple[NeuronInfo | None, ChainResult | None]:
        try:
            graph = self.metagraph()
        except ChainUnreachable as error:
            return None, ChainResult.failure(ChainErrorKind.UNREACHABLE, f"{what}: {error}")
        except SubnetNotFound as error:
            return None, ChainResult.failure(ChainErrorKind.OTHER, f"{what}: {error}")
        me = graph.by_hotkey(self._hotkey())
        if me is None:
            return None, ChainResult.failure(
                ChainErrorKind.NOT_REGISTERED,
                f"{what}: hotkey {self._hotkey()} is not registered on netuid {self.netuid}",
            )
        return me, None

    def serve_axon(self, ip: str, port: int) -> ChainResult:
        import bittensor as bt

        if not 0 < int(port) < 65536:
            return ChainResult.failure(ChainErrorKind.OTHER, f"serve_axon: bad port {port}")
        me, failed = self._preflight_registered("serve_axon")
        if failed:
            return failed
        if me.axon_ip == ip and me.axon_port == int(port):
            return ChainResult.success("serve_axon: already published unchanged")
        intent = bt.ServeAxon(netuid=self.netuid, ip=ip, port=int(port))
        return self._write("serve_axon", lambda sub: sub.execute(intent, self.wallet))

    def reset_axon(self) -> ChainResult:
        """Withdraw the published endpoint (the SDK's ResetAxon: ip 0, which reads as unserved)."""
        import bittensor as bt

        me, failed = self._preflight_registered("reset_axon")
        if failed:
            return failed
        if me.axon_ip in ("0.0.0.0", ""):
            return ChainResult.success("reset_axon: no endpoint published")
        intent = bt.ResetAxon(netuid=self.netuid)
        return self._write("reset_axon", lambda sub: sub.execute(intent, self.wallet))

    def set_weights(self, uids: list[int], weights: list[float], version_key: int) -> ChainResult:
        import bittensor as bt

        if len(uids) != len(weights) or not uids:
            return ChainResult.failure(
                ChainErrorKind.INVALID_WEIGHTS,
                f"set_weights: need equal, non-empty uids/weights (got {len(uids)}/{len(weights)})",
            )
        me, failed = self._preflight_registered("set_weights")
        if failed:
            return failed
        if not me.validator_permit and list(uids) != [me.uid]:
            return ChainResult.failure(
                ChainErrorKind.NO_VALIDATOR_PERMIT,
                f"set_weights: uid {me.uid} has no validator permit on netuid {self.netuid}",
            )
        try:
            hp = self.hyperparameters()
        except ChainUnreachable as error:
            return ChainResult.failure(ChainErrorKind.UNREACHABLE, f"set_weights: {error}")
        if hp.weights_version > int(version_key):
            return ChainResult.failure(
                ChainErrorKind.STALE_VERSION_KEY,
                f"set_weights: version_key {version_key} is below the subnet's weights_version "
                f"{hp.weights_version}; upgrade the validator",
            )
        intent = bt.SetWeights(
            netuid=self.netuid,
            uids=[int(u) for u in uids],
            weights=[float(w) for w in weights],
            version_key=int(version_key),
        )
        return self._write("set_weights", lambda sub: sub.execute(intent, self.wallet))

    def register(self) -> ChainResult:
        import bittensor as bt

        try:
            uid = self.my_uid()
        except ChainUnreachable as error:
            return ChainResult.failure(ChainErrorKind.UNREACHABLE, f"register: {error}")
        if uid is not None:
            return ChainResult.success(f"register: already registered as uid {uid}")
        hotkey = self._hotkey()
        if self.spec.is_sim:
            call = bt.calls.SubtensorModule.burned_register(netuid=self.netuid, hotkey=hotkey)
            return self._write("register", lambda sub: sub.submit_call(call, self.wallet))
        intent = bt.BurnedRegister(netuid=self.netuid, hotkey_ss58=hotkey)
        return self._write("register", lambda sub: sub.execute(intent, self.wallet))

    def add_stake(self, amount_tao: float) -> ChainResult:
        import bittensor as bt

        if not amount_tao > 0:
            return ChainResult.failure(ChainErrorKind.OTHER, f"add_stake: amount {amount_tao} <= 0")
        intent = bt.AddStake(hotkey_ss58=self._hotkey(), netuid=self.netuid, amount_tao=amount_tao)
        return self._write("add_stake", lambda sub: sub.execute(intent, self.wallet))

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                try:
                    self._client.close()
                    # The SDK stops its private event loop but never closes it; closed here,
                    # its finaliser cannot print a traceback at interpreter exit.
                    loop = getattr(getattr(self._client, "_loop_thread", None), "_loop", None)
                    if loop is not None and not loop.is_running() and not loop.is_closed():
                        loop.close()
                finally:
                    self._client = None
