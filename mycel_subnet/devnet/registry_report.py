"""What happened on the devnet's pattern registry: published, verified, quarantined, bought and
earned, read from the ledger after the run; what the instances and the validator did on the way
(extractions, verification verdicts, search steps); and how it is shown (a table and a chart
panel)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from mycel_subnet.near.ledger import ONE_NEAR

STATUSES = ("verified", "quarantined", "unverified")


@dataclass
class RegistryActivity:
    published: int = 0
    by_creator: dict[str, int] = field(default_factory=dict)
    verified: int = 0
    quarantined: int = 0
    unverified: int = 0
    attested_quality: dict[int, float] = field(default_factory=dict)  # id -> 0..1, attested ones
    quarantine_reasons: dict[int, str] = field(default_factory=dict)
    bought: int = 0  # paid uses, all patterns
    paid_yocto: int = 0  # what buyers paid for them
    fees_yocto: int = 0  # the protocol's share of that
    earned_yocto: int = 0  # the creators' share: paid - fees
    deposits_yocto: int = 0  # storage deposits held for the registered patterns
    extractions: list[dict[str, Any]] = field(default_factory=list)
    poisoned: int | None = None
    broken: int | None = None
    verdicts: dict[str, int] = field(default_factory=dict)  # the validator's, over all passes
    search_steps: int = 0
    steps: int = 0
    search_skip: str | None = None  # why the last step without a search task had none
    organic: dict[str, Any] = field(default_factory=dict)
    binding: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("paid_yocto", "fees_yocto", "earned_yocto", "deposits_yocto"):
            data[key] = str(data[key])  # u128 amounts: exact as text
        return data


def collect(ledger: Path, state_dir: Path, seed: Any, organic: Any) -> RegistryActivity:
    """The registry's state now, with the seed's and the organic phase's records."""
    from mycel_subnet.devnet import validator_state
    from mycel_subnet.devnet.registry_view import read_registry

    snap = read_registry(ledger)
    activity = RegistryActivity(published=len(snap.entries), fees_yocto=snap.fees_collected)
    for pattern_id, entry in sorted(snap.entries.items()):
        activity.by_creator[entry.creator] = activity.by_creator.get(entry.creator, 0) + 1
        setattr(activity, entry.status, getattr(activity, entry.status) + 1)
        if entry.attestations:
            activity.attested_quality[pattern_id] = entry.attested_quality_ppm / 1_000_000
        if entry.status == "quarantined":
            activity.quarantine_reasons[pattern_id] = entry.quarantine_reason
        activity.bought += entry.usage_count
        activity.paid_yocto += entry.total_earned  # the registry counts the gross
        activity.deposits_yocto += entry.deposit
    activity.earned_yocto = activity.paid_yocto - activity.fees_yocto
    activity.verdicts = validator_state.verification_outcomes(state_dir)
    search = validator_state.search_steps(state_dir)
    activity.search_steps, activity.steps = search.ran, search.steps
    activity.search_skip = search.last_skip
    if seed is not None:
        activity.extractions = [asdict(e) for e in seed.extractions]
        activity.poisoned, activity.broken = seed.poisoned, seed.broken
        activity.binding = dict(seed.binding)
    if organic is not None:
        activity.organic = asdict(organic)
        activity.problems = list(organic.problems)
    return activity


def near(yocto: int) -> str:
    return f"{yocto / ONE_NEAR:.4f}"


def render_registry(activity: RegistryActivity) -> Table:
    table = Table(title="Registry activity (NEAR local ledger)")
    for column in (
        "published",
        "verified",
        "quarantined",
        "unverified",
        "bought (uses)",
        "earned by creators NEAR",
        "protocol fees NEAR",
        "storage deposits NEAR",
        "steps with search",
    ):
        table.add_column(column, justify="right")  # fmt: skip
    table.add_row(
        str(activity.published), str(activity.verified), str(activity.quarantined),
        str(activity.unverified), str(activity.bought), near(activity.earned_yocto),
        near(activity.fees_yocto), near(activity.deposits_yocto),
        f"{activity.search_steps}/{activity.steps}",
    )  # fmt: skip
    return table


def registry_lines(activity: RegistryActivity) -> list[str]:
    """What the instances, the validator and the buyer did, one line each."""
    lines = ["the collective loop:"]
    for e in activity.extractions:
        if e["refused"]:
            lines.append(f"  {e['instance']}: extract {e['log']}: refused ({e['refused'][:110]})")
        else:
            removed = ", ".join(f"{k} x{n}" for k, n in e["removed"].items()) or "nothing"
            lines.append(f"  {e['instance']}: extract {e['log']}: {e['kind']}, published as "
                         f"#{e['near_id']} (private values removed: {removed})")  # fmt: skip
    others = ", ".join(f"{c.split('.')[0]} {n}" for c, n in activity.by_creator.items())
    lines.append(f"  published by creator: {others or 'none'}")
    if activity.poisoned is not None:
        reason = activity.quarantine_reasons.get(activity.poisoned)
        state = f"quarantined: {reason[:100]}" if reason else "NOT quarantined"
        lines.append(f"  mallory's unsafe #{activity.poisoned}: {state}")
    if activity.broken is not None:
        quality = activity.attested_quality.get(activity.broken)
        lines.append(f"  broken code #{activity.broken} (fails its own examples): attested "
                     f"quality {'-' if quality is None else f'{quality:.2f}'}")  # fmt: skip
    if activity.attested_quality:
        values = sorted(activity.attested_quality.values())
        lines.append(f"  attested quality of {len(values)} pattern(s): min {values[0]:.2f}, "
                     f"median {values[len(values) // 2]:.2f}, max {values[-1]:.2f}")  # fmt: skip
    if activity.verdicts:
        tally = ", ".join(f"{k} {n}" for k, n in activity.verdicts.items())
        lines.append(f"  validator verification verdicts over all passes: {tally}")
    if activity.search_steps == 0 and activity.search_skip:
        lines.append(f"  no search task ran: {activity.search_skip}")
    lines += _organic_lines(activity.organic)
    return lines


def _organic_lines(organic: dict[str, Any]) -> list[str]:
    if not organic:
        return []
    lines = []
    bought = organic.get("bought") or {}
    if organic.get("gateway"):
        lines.append(f"  bob asked the gateway {organic['query']!r}: "
                     f"{len(organic['gateway'])} pattern(s), ids "
                     f"{[g['near_id'] for g in organic['gateway']]}")  # fmt: skip
    if bought:
        lines.append(f"  bob bought #{bought['near_id']} (rank {bought['rank']}, source "
                     f"{bought['source']}) for {near(bought['paid'])} NEAR: "
                     f"{near(bought['creator_share'])} to {bought['creator']}, fee "
                     f"{near(bought['fee'])}; ran it: {bought['output']!r}"
                     f"{'' if bought['correct'] else ' (WRONG)'}")  # fmt: skip
    rated, earned = organic.get("rated") or {}, organic.get("earnings") or {}
    if rated:
        state = "recorded on NEAR" if rated["near_rated"] else f"not recorded: {rated['error']}"
        lines.append(f"  bob rated it 5: {state}")
    if earned:
        lines.append(f"  {earned['account']} earnings: {earned['uses']} use(s), net "
                     f"{near(earned['net'])} NEAR, reputation "
                     f"{earned['reputation']:.3f}")  # fmt: skip
    refusals = organic.get("refusals") or {}
    if refusals:
        lines.append(
            "  the gateway refused: "
            + "; ".join(f"{caller}: {why}" for caller, why in refusals.items())
        )
    quarantine = organic.get("quarantine") or {}
    if quarantine:
        shown = [
            w.removeprefix("in_").replace("_", " ")
            for w in ("in_find_patterns", "in_gateway_search", "in_instance_find")
            if quarantine[w]
        ]
        refused = quarantine["buy_refused"]
        lines.append(f"  quarantined #{quarantine['near_id']}: shown by "
                     f"{', '.join(shown) or 'nothing'}; buying it: "
                     f"{'refused (' + refused[:60] + ')' if refused else 'SOLD'}")  # fmt: skip
    bound = organic.get("bound") or {}
    if bound:
        lines.append(f"  uid {bound['uid']} bound its hotkey to {bound['account']}: NEAR "
                     f"reputation {bound['composite_ppm'] / 1e6:.3f} after "
                     f"{bound['reward_epochs']} reward epoch(s) (reward EMA "
                     f"{bound['reward_ema_ppm'] / 1e6:.3f})")  # fmt: skip
    return lines


def plot_registry(ax: Any, activity: RegistryActivity | None) -> None:
    """Bars: published, verified, quarantined, unverified, bought."""
    ax.set_title("registry activity")
    if activity is None:
        ax.axis("off")
        ax.text(0.5, 0.5, "collective loop off", ha="center", va="center")
        return
    labels = ["published", *STATUSES, "bought"]
    values = [activity.published, activity.verified, activity.quarantined, activity.unverified,
              activity.bought]  # fmt: skip
    bars = ax.bar(labels, values, color=["C0", "C2", "C3", "C7", "C1"])
    ax.bar_label(bars, fontsize=8)
    ax.tick_params(axis="x", labelsize=8, rotation=20)
