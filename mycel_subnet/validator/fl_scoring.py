"""Federated contributions scored by measured improvement, copies found by direction.

Templar's rule, adapted to private data: an update is worth the held-out loss it removes when
applied alone to the global adapter (s = L_before - L_after) on data only the validator holds.
Nothing a miner says about itself is scored. Two cheap ways to earn without work are closed here:

* sending noise (or anything without signal): it removes no loss, so it earns 0;
* copying: an update whose direction matches an earlier one (cosine >= threshold, whatever its
  scale) is a copy; the earliest commit keeps the credit. "Earlier" covers this round's updates
  that arrived first and everything already public: last round's accepted updates and the
  global adapter's last step.

Honest DP updates are nearly orthogonal to each other (each carries its own Gaussian noise;
cosine about 0.0-0.05 on the toy model), so a threshold of 0.9 leaves a wide margin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from mycel_subnet.federated.adapter import AdapterState

COPY_THRESHOLD = 0.9


@dataclass(frozen=True)
class Candidate:
    """One miner's decoded update of this round and when its answer arrived (seconds since
    the round's requests went out)."""

    uid: int
    arrived_s: float
    delta: AdapterState


def flatten(state: AdapterState) -> torch.Tensor:
    return torch.cat([state[k].reshape(-1).double() for k in sorted(state)])


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    na, nb = float(a.norm()), float(b.norm())
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(torch.dot(a, b)) / (na * nb)


def find_copies(
    candidates: Sequence[Candidate],
    public: Mapping[str, AdapterState] | None = None,
    threshold: float = COPY_THRESHOLD,
) -> dict[int, str]:
    """uid -> why it is a copy, for every candidate whose direction matches an earlier
    candidate's (arrival order, uid breaks ties) or a public update's (named by its key)."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"copy threshold must be in (0, 1], got {threshold}")
    earlier: list[tuple[str, torch.Tensor]] = [
        (label, flatten(state)) for label, state in sorted((public or {}).items())
    ]
    copies: dict[int, str] = {}
    for cand in sorted(candidates, key=lambda c: (c.arrived_s, c.uid)):
        vector = flatten(cand.delta)
        for label, other in earlier:
            similarity = cosine(vector, other)
            if similarity >= threshold:
                copies[cand.uid] = f"copy of {label} (cosine {similarity:.3f})"
                break
        if cand.uid not in copies:
            # only originals are references: a copy of a copy names the first original
            earlier.append((f"uid {cand.uid}", vector))
    return copies


def contribution_values(improvements: Mapping[int, float]) -> dict[int, float]:
    """Round value in [0, 1]: improvement over the round's best; no gain (or a loss) is 0."""
    best = max((v for v in improvements.values() if v > 0), default=0.0)
    if best <= 0:
        return dict.fromkeys(improvements, 0.0)
    return {uid: max(0.0, v) / best for uid, v in improvements.items()}
