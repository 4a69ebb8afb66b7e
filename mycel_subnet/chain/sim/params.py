"""Genesis settings and subnet hyperparameter defaults of the sim chain.

Names follow subtensor's own (``get_subnet_hyperparams_v3`` names), values are raw on-chain
integers (u16 fractions over 65535, ``bonds_moving_avg`` over 1e6, amounts in rao), so what the
SDK reads from the sim looks exactly like what it reads from a node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RAO_PER_TAO = 10**9
U16_MAX = 65535

# Devnet-friendly defaults: localnet's values, commit-reveal off, a small burn and 256 uids.
DEFAULT_HPARAMS: dict[str, Any] = {
    "rho": 10,
    "kappa": 32767,
    "immunity_period": 4096,
    "min_allowed_weights": 0,
    "max_weights_limit": U16_MAX,
    "tempo": 100,
    "weights_version": 0,
    "weights_rate_limit": 100,
    "activity_cutoff": 5000,
    "registration_allowed": True,
    "burn": RAO_PER_TAO // 10,
    "min_burn": 500_000,
    "max_burn": 100 * RAO_PER_TAO,
    "bonds_moving_avg": 900_000,
    "serving_rate_limit": 50,
    "max_validators": 64,
    "max_allowed_uids": 256,
    "commit_reveal_weights_enabled": False,
    "commit_reveal_period": 1,
    "alpha_high": 58982,
    "alpha_low": 45875,
    "alpha_sigmoid_steepness": 1000,  # subtensor's default; the epoch divides it by 100
    "liquid_alpha_enabled": False,
    "yuma3_enabled": False,
    "bonds_penalty": 0,
    "min_stake_for_permit": 0,  # rao; subtensor's StakeThreshold
    "epoch_consensus": "Yuma",
}

# v3 runtime value tags per hyperparameter (the SDK flattens ``{tag: value}``).
_BOOL = {
    "registration_allowed",
    "commit_reveal_weights_enabled",
    "liquid_alpha_enabled",
    "yuma3_enabled",
}


def tagged(name: str, value: Any) -> dict[str, Any]:
    """The ``{type_tag: value}`` shape ``get_subnet_hyperparams_v3`` entries carry."""
    if name in _BOOL:
        return {"Bool": bool(value)}
    if isinstance(value, str):
        return {"Str": value}
    if name == "alpha_sigmoid_steepness":  # the runtime API returns it as I32F32
        return {"I32F32": {"bits": int(value) * 2**32}}
    return {"U64": int(value)}


# AdminUtils owner setter -> (hyperparameter name, call parameter holding the value).
ADMIN_SETTERS: dict[str, str] = {
    "sudo_set_tempo": "tempo",
    "sudo_set_immunity_period": "immunity_period",
    "sudo_set_min_allowed_weights": "min_allowed_weights",
    "sudo_set_weights_version_key": "weights_version",
    "sudo_set_min_burn": "min_burn",
    "sudo_set_max_burn": "max_burn",
    "sudo_set_bonds_moving_average": "bonds_moving_avg",
    "sudo_set_bonds_penalty": "bonds_penalty",
    "sudo_set_serving_rate_limit": "serving_rate_limit",
    "sudo_set_max_allowed_uids": "max_allowed_uids",
    "sudo_set_commit_reveal_weights_enabled": "commit_reveal_weights_enabled",
    "sudo_set_commit_reveal_weights_interval": "commit_reveal_period",
    "sudo_set_liquid_alpha_enabled": "liquid_alpha_enabled",
    "sudo_set_network_registration_allowed": "registration_allowed",
    "sudo_set_yuma3_enabled": "yuma3_enabled",
    "sudo_set_rho": "rho",
    "sudo_set_alpha_sigmoid_steepness": "alpha_sigmoid_steepness",
}


@dataclass
class GenesisConfig:
    """How a new sim chain behaves. Stored in the chain file at genesis."""

    block_time_s: float = 1.0  # clock mode: one block per this many wall-clock seconds
    manual: bool = False  # manual mode: blocks advance only through admin.advance_blocks
    emission_per_block_rao: int = RAO_PER_TAO  # alpha emitted into each started subnet per block
    network_lock_cost_rao: int = 100 * RAO_PER_TAO  # RegisterSubnet cost
    start_call_delay: int = 0  # blocks between subnet registration and StartCall
    existential_deposit_rao: int = 500
    max_catchup_epochs: int = 4  # epochs replayed after the chain was idle; older ones skipped
    hparams: dict[str, Any] = field(default_factory=dict)  # overrides of DEFAULT_HPARAMS

    def subnet_hparams(self) -> dict[str, Any]:
        unknown = set(self.hparams) - set(DEFAULT_HPARAMS)
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) in genesis config: {sorted(unknown)}")
        return {**DEFAULT_HPARAMS, **self.hparams}
