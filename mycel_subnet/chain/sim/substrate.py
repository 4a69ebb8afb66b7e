"""``SimSubstrate``: the SDK's ``Substrate`` protocol over the sim chain.

Reads return decoded Python values; writes take the SDK's composed call and the signer's keypair
and return an ``ExtrinsicResult`` (a rejected call is a failed result, never an exception). The
sim keeps no history: reads pinned to a block hash answer from the latest state, and a hash more
than ``HISTORY_TOLERANCE`` blocks behind the head is refused rather than answered wrongly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import Any

from bittensor.balance import Balance
from bittensor.result import ChainError, ExtrinsicResult

from mycel_subnet.chain.sim import reads
from mycel_subnet.chain.sim.chain import SimChain

HISTORY_TOLERANCE = 64


@dataclass
class SimCall:
    """A composed call: what ``compose`` returns and ``submit`` consumes."""

    module: str
    function: str
    params: dict = field(default_factory=dict)

    def __iter__(self):
        return iter((self.module, self.function, self.params))

    @property
    def data(self) -> bytes:
        # Stand-in for SCALE call bytes (deterministic); the sim never decodes it.
        return repr((self.module, self.function, sorted(self.params.items()))).encode()

    @property
    def call_hash(self) -> bytes:
        return blake2b(self.data, digest_size=32).digest()


def block_hash_of(block: int) -> str:
    return f"0x{int(block):064x}"


def block_of_hash(block_hash: str) -> int:
    try:
        return int(str(block_hash), 16)
    except ValueError:
        raise ChainError(f"not a sim block hash: {block_hash!r}") from None


def _unsupported(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"the sim chain does not support {what}; use a real subtensor node (scripts/localnet.sh)"
    )


class SimSubstrate:
    """Satisfies ``bittensor.Substrate`` over one sim chain file."""

    def __init__(self, path: str | Path | None = None, *, chain: SimChain | None = None) -> None:
        if chain is None and path is None:
            raise ValueError("SimSubstrate needs a chain file path or a SimChain")
        self.chain = chain or SimChain(path)  # type: ignore[arg-type]
        self.token_symbols: dict[int, str] = {}

    # -- display / lifecycle ---------------------------------------------------------

    def balance(self, rao: int, netuid: int = 0) -> Balance:
        symbol = self.token_symbols.get(netuid) if netuid else None
        return Balance(int(rao), netuid, symbol)

    async def connect(self) -> None:
        self.chain.head()  # fails clearly when the file has no genesis

    async def close(self) -> None:
        return None

    # -- reads --------------------------------------------------------------------------

    def _check_hash(self, conn, block_hash: str | None) -> None:
        if block_hash is None:
            return
        block = block_of_hash(block_hash)
        head = self.chain.current_block(conn)
        if block > head:
            raise ChainError(f"block {block} is ahead of the sim chain head {head}")
        if head - block > HISTORY_TOLERANCE:
            raise ChainError(
                f"the sim chain keeps no history: cannot read state at block {block} (head {head})"
            )

    async def block_hash(self, block: int | None = None) -> str:
        return block_hash_of(self.chain.head() if block is None else block)

    async def block_number(self) -> int:
        return self.chain.head()

    async def finalized_block_number(self) -> int:
        return self.chain.head()  # instant finality

    async def block_time(self) -> float:
        return self.chain.block_time()

    async def spec_version(self) -> int:
        return reads.SPEC_VERSION

    async def get_block(
        self, block_number: int | None = None, block_hash: str | None = None
    ) -> dict | None:
        head = self.chain.head()
        number = head if block_number is None else int(block_number)
        if block_hash is not None:
            number = block_of_hash(block_hash)
        if number > head:
            return None
        with self.chain.store.read() as conn:
            ms = self.chain.timestamp_ms(conn, number)
        return {
            "header": {"number": number, "hash": block_hash_of(number)},
            "extrinsics": [{"call": {"call_module": "Timestamp", "call_args": [{"value": ms}]}}],
        }

    async def query(
        self,
        module: str,
        storage_function: str,
        params: list | None = None,
        block_hash: str | None = None,
    ) -> Any:
        self.chain.sync()
        with self.chain.store.read() as conn:
            self._check_hash(conn, block_hash)
            return reads.query(self.chain, conn, module, storage_function, params or [])

    async def map_has_entries(
        self, module: str, storage_function: str, params: list, block_hash: str | None = None
    ) -> bool:
        return bool(await self.query_map(module, storage_function, params, block_hash))

    async def query_map(
        self,
        module: str,
        storage_function: str,
        params: list | None = None,
        block_hash: str | None = None,
    ) -> list[tuple[Any, Any]]:
        self.chain.sync()
        with self.chain.store.read() as conn:
            self._check_hash(conn, block_hash)
            return reads.query_map(self.chain, conn, module, storage_function, params or [])

    async def query_batch(
        self,
        module: str,
        storage_function: str,
        param_sets: list[list],
        block_hash: str | None = None,
    ) -> list[Any]:
        self.chain.sync()
        with self.chain.store.read() as conn:
            self._check_hash(conn, block_hash)
            return [
                reads.query(self.chain, conn, module, storage_function, list(p)) for p in param_sets
            ]

    async def runtime_call(
        self, api: str, method: str, params: Any, block_hash: str | None = None
    ) -> Any:
        self.chain.sync()
        with self.chain.store.read() as conn:
            self._check_hash(conn, block_hash)
            return reads.runtime(self.chain, conn, api, method, params)

    async def constant(self, module: str, name: str) -> Any:
        with self.chain.store.read() as conn:
            return reads.constant(self.chain, conn, module, name)

    async def decode_scale(self, type_string: str, data: Any) -> Any:
        raise _unsupported("SCALE decoding (it stores decoded values only)")

    async def blocks(self, *, finalized: bool = False) -> AsyncIterator[dict]:
        """New heads as they come (polls the head once per block time)."""
        last = self.chain.head() - 1
        while True:
            head = self.chain.head()
            for number in range(last + 1, head + 1):
                yield {"header": {"number": number, "parentHash": block_hash_of(number - 1)}}
            last = max(last, head)
            await asyncio.sleep(min(self.chain.block_time(), 1.0))

    async def events(self, block_hash: str | None = None) -> list[dict]:
        block = self.chain.head() if block_hash is None else block_of_hash(block_hash)
        return self.chain.events_at(block)

    # -- calls and fees -----------------------------------------------------------------

    async def compose(self, call) -> SimCall:
        if isinstance(call, SimCall):
            return call
        module, function, params = call
        return SimCall(module, function, dict(params))

    async def estimate_fee(self, call, keypair) -> Balance:
        return Balance.from_rao(0)  # the sim charges no transaction fees

    async def estimate_weight(self, call, keypair) -> dict:
        return {"ref_time": 0, "proof_size": 0}

    async def account_next_index(self, address: str) -> int:
        with self.chain.store.read() as conn:
            row = conn.execute("SELECT nonce FROM accounts WHERE ss58=?", (address,)).fetchone()
        return int(row[0]) if row else 0

    # -- writes -------------------------------------------------------------------------

    async def mev_next_key(self) -> bytes | None:
        return None

    async def submit(
        self,
        call,
        keypair,
        *,
        nonce: int | None = None,
        period: int | None = None,
        wait_for_inclusion: bool = True,
        wait_for_finalization: bool = True,
    ) -> ExtrinsicResult:
        composed = await self.compose(call)
        applied = self.chain.apply(
            composed.module, composed.function, composed.params, keypair.ss58_address
        )
        common = {
            "block_hash": block_hash_of(applied.block),
            "extrinsic_id": f"{applied.block}-{applied.index:04d}",
            "fee": Balance.from_rao(0),
            "events": applied.events,
        }
        if applied.error is not None:
            error = ChainError(applied.error.docs, applied.error.name)
            return ExtrinsicResult(success=False, message=applied.error.docs, error=error, **common)
        return ExtrinsicResult(success=True, message="Success", **common)

    async def sign_extrinsic(self, call, keypair, *, nonce: int, period: int):
        raise _unsupported("MEV-shielded (encrypted) submission")

    async def find_extrinsic(self, extrinsic_hash: str, block_hash: str):
        raise _unsupported("MEV-shielded (encrypted) submission")

    async def submit_signed(self, extrinsic, keypair, **kwargs) -> ExtrinsicResult:
        raise _unsupported("pre-signed extrinsics")

    async def prepare(self, call, **kwargs):
        raise _unsupported("out-of-process signing (prepare/submit_signature)")

    async def submit_signature(self, unsigned, signature, **kwargs) -> ExtrinsicResult:
        raise _unsupported("out-of-process signing (prepare/submit_signature)")

    def multisig_account(self, signatories: list[str], threshold: int):
        raise _unsupported("multisig accounts")

    async def submit_multisig(self, call, keypair, multisig_account, **kwargs) -> ExtrinsicResult:
        raise _unsupported("multisig accounts")
