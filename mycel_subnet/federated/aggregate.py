"""Server-side handling of client updates: validation (keys, shapes, dtypes, finite values,
size), the norm bound that defuses a poisoned update, and (DP-)FedAvg. Pure tensor functions,
so the arithmetic can be checked by hand."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

from mycel_subnet.federated.adapter import AdapterState, l2_norm


class UpdateRejected(ValueError):
    """A client's update is malformed; names the client and, when relevant, the tensor."""

    def __init__(self, client_id: str, reason: str, tensor: str | None = None) -> None:
        where = f"tensor {tensor!r} " if tensor else ""
        super().__init__(f"update from client {client_id!r} refused: {where}{reason}")
        self.client_id = client_id
        self.tensor = tensor


def validate_update(
    client_id: str, update: object, reference: AdapterState, *, max_bytes: int | None = None
) -> AdapterState:
    """Check ``update`` against the global adapter: same keys, same shapes, floating dtype,
    finite values, total size within ``max_bytes`` (default: the reference's float32 size).
    Returns float32 copies; raises UpdateRejected otherwise."""
    if not isinstance(update, Mapping):
        raise UpdateRejected(
            client_id, f"must be a mapping of tensors, got {type(update).__name__}"
        )
    missing = sorted(set(reference) - set(update))
    if missing:
        raise UpdateRejected(client_id, "is missing", missing[0])
    extra = sorted(set(update) - set(reference))
    if extra:
        raise UpdateRejected(client_id, "is not part of the adapter", str(extra[0])[:200])
    limit = max_bytes if max_bytes is not None else sum(4 * t.numel() for t in reference.values())
    total = 0
    out: AdapterState = {}
    for key in sorted(reference):
        tensor = update[key]
        if not isinstance(tensor, torch.Tensor):
            raise UpdateRejected(client_id, f"is a {type(tensor).__name__}, not a tensor", key)
        if not tensor.is_floating_point():
            raise UpdateRejected(client_id, f"has dtype {tensor.dtype}, expected floating", key)
        if tuple(tensor.shape) != tuple(reference[key].shape):
            raise UpdateRejected(
                client_id,
                f"has shape {tuple(tensor.shape)}, expected {tuple(reference[key].shape)}",
                key,
            )
        total += 4 * tensor.numel()
        if total > limit:
            raise UpdateRejected(client_id, f"makes the update exceed {limit} bytes", key)
        if not bool(torch.isfinite(tensor).all()):
            raise UpdateRejected(client_id, "contains NaN or infinite values", key)
        out[key] = tensor.detach().to("cpu", torch.float32).clone()
    return out


def clip_update(update: AdapterState, bound: float) -> tuple[AdapterState, float]:
    """Scale ``update`` so its global L2 norm is at most ``bound``; returns (clipped, norm)."""
    if not bound > 0:
        raise ValueError(f"clip bound must be > 0, got {bound!r}")
    norm = l2_norm(update)
    scale = min(1.0, bound / norm) if norm > 0 else 1.0
    return {k: v * scale for k, v in update.items()}, norm


def weighted_mean(updates: Sequence[AdapterState], weights: Sequence[float]) -> AdapterState:
    """FedAvg: sum_i w_i * u_i / sum_i w_i, key by key."""
    if not updates or len(updates) != len(weights):
        raise ValueError("need one weight per update and at least one update")
    if any(not (isinstance(w, (int, float)) and math.isfinite(w) and w > 0) for w in weights):
        raise ValueError(f"weights must be positive finite numbers, got {list(weights)}")
    total = float(sum(weights))
    keys = sorted(updates[0])
    return {
        k: sum((float(w) / total) * u[k] for u, w in zip(updates, weights, strict=True))
        for k in keys
    }


def central_noise_std(
    noise_multiplier: float, clip_bound: float, weights: Sequence[float]
) -> float:
    """Std of the Gaussian added to the mean: z * S * max(w) / sum(w), which is z*S/K for equal
    weights (one client changes the clipped mean by at most S * max(w) / sum(w))."""
    return noise_multiplier * clip_bound * max(weights) / float(sum(weights))


def add_gaussian_noise(
    update: AdapterState, std: float, generator: torch.Generator
) -> AdapterState:
    """update + N(0, std^2) independently on every coordinate."""
    if std == 0:
        return {k: v.clone() for k, v in update.items()}
    return {
        k: v + torch.normal(0.0, std, size=v.shape, generator=generator)
        for k, v in sorted(update.items())
    }
