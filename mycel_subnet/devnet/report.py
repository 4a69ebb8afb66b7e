"""The devnet's results: a table per miner, the registry's activity, a PNG chart over epochs and
a JSON report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mycel_subnet.devnet.registry_report import (
    RegistryActivity,
    plot_registry,
    registry_lines,
    render_registry,
)

TASKS = ("evaluate_pattern", "generate_pattern", "inference", "search_patterns")


@dataclass
class MinerRow:
    """One miner at one epoch boundary, as the chain and the validator see it."""

    uid: int
    hotkey: str
    engine: str
    score: float = 0.0  # the validator's moving average
    weight: float = 0.0  # the weight the validator last set for this uid
    incentive: float = 0.0
    emission: float = 0.0  # TAO credited in the last epoch
    near_reward: float = 0.0  # reward mirrored to the NEAR registry (cumulative)
    accuracy: dict[str, float] = field(default_factory=dict)  # mean accuracy per task it got
    duplicate_steps: int = 0  # steps in which it shared one reward with duplicates
    steps: int = 0
    reasons: list[str] = field(default_factory=list)  # why its low scores were low


@dataclass
class EpochSnapshot:
    epoch: int
    block: int
    miners: list[MinerRow]


@dataclass
class StepRow:
    """One validator step: raw rewards, moving averages and accuracy per task, per uid."""

    step: int
    block: int
    rewards: dict[int, float] = field(default_factory=dict)
    scores: dict[int, float] = field(default_factory=dict)
    accuracy: dict[int, dict[str, float]] = field(default_factory=dict)


@dataclass
class DevnetReport:
    chain_path: str
    netuid: int
    epochs: list[EpochSnapshot] = field(default_factory=list)
    steps: list[StepRow] = field(default_factory=list)
    queries: int = 0
    weight_sets: int = 0
    notes: list[str] = field(default_factory=list)
    registry: RegistryActivity | None = None  # None: the collective loop was off

    def final(self) -> list[MinerRow]:
        return self.epochs[-1].miners if self.epochs else []

    def mean_score(self, uid: int) -> float:
        values = [m.score for e in self.epochs for m in e.miners if m.uid == uid]
        return sum(values) / len(values) if values else 0.0

    def to_json(self) -> dict:
        final = self.final()
        return {
            "chain_path": self.chain_path,
            "netuid": self.netuid,
            "queries": self.queries,
            "weight_sets": self.weight_sets,
            "notes": self.notes,
            "miners": [
                {**asdict(m), "mean_score": round(self.mean_score(m.uid), 6)} for m in final
            ],
            "epochs": [asdict(e) for e in self.epochs],
            "steps": [asdict(s) for s in self.steps],
            "registry": self.registry.to_json() if self.registry is not None else None,
        }


def render_table(report: DevnetReport) -> Table:
    table = Table(title=f"Mycel devnet: netuid {report.netuid}, {len(report.epochs)} epoch(s)")
    for column in (
        "uid",
        "engine",
        "eval acc",
        "gen acc",
        "infer acc",
        "search acc",
        "dup steps",
        "avg score",
        "last weight",
        "incentive",
        "last emission τ",
        "NEAR reward total",
    ):
        table.add_column(column, justify="right" if column != "engine" else "left")
    for m in sorted(report.final(), key=lambda m: -m.incentive):
        table.add_row(
            str(m.uid),
            m.engine,
            *(f"{m.accuracy[task]:.2f}" if task in m.accuracy else "-" for task in TASKS),
            f"{m.duplicate_steps}/{m.steps}",
            f"{report.mean_score(m.uid):.3f}",
            f"{m.weight:.3f}",
            f"{m.incentive:.3f}",
            f"{m.emission:.4f}",
            f"{m.near_reward:.4f}",
        )
    return table


def render_reasons(report: DevnetReport) -> str:
    """One line per miner: the most frequent reasons for its low-accuracy answers."""
    lines = ["why low scores were low (most frequent first):"]
    for m in sorted(report.final(), key=lambda m: -m.incentive):
        lines.append(f"  uid {m.uid} {m.engine}: {'; '.join(m.reasons) or 'none'}")
    lines.append("notes:" if report.notes else "notes: none (no failed query, no failed weights)")
    lines.extend(f"  - {note}" for note in report.notes)
    return "\n".join(lines)


def write_chart(report: DevnetReport, path: Path) -> None:
    """A PNG (matplotlib, no display needed) with, per miner: the raw reward of every validator
    step (points) and its moving average (line), incentive on chain per epoch, accuracy per
    task per step (one panel each), and the most frequent reasons for low scores."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 4, figsize=(20, 8.5), constrained_layout=True)
    (ax_reward, ax_incentive, ax_registry, ax_why), task_axes = axes[0], axes[1]
    final = {m.uid: m for m in report.final()}
    uids = sorted({m.uid for e in report.epochs for m in e.miners} | set(final))
    engines = {m.uid: m.engine for e in report.epochs for m in e.miners}
    colours = {uid: f"C{i % 10}" for i, uid in enumerate(uids)}
    steps = report.steps
    for uid in uids:
        label, colour = f"uid {uid} ({engines.get(uid, '?')})", colours[uid]
        points = [(s.step, s.rewards[uid]) for s in steps if uid in s.rewards]
        if points:
            ax_reward.scatter(*zip(*points, strict=True), s=14, color=colour, alpha=0.7)
        averages = [(s.step, s.scores[uid]) for s in steps if uid in s.scores]
        if averages:
            ax_reward.plot(*zip(*averages, strict=True), color=colour, label=label)
        rows = [(e.epoch, m.incentive) for e in report.epochs for m in e.miners if m.uid == uid]
        if rows:
            ax_incentive.plot(*zip(*rows, strict=True), marker="o", color=colour, label=label)
        for ax, task in zip(task_axes, TASKS, strict=True):
            acc = [(s.step, s.accuracy[uid][task]) for s in steps
                   if task in s.accuracy.get(uid, {})]  # fmt: skip
            if acc:
                ax.plot(*zip(*acc, strict=True), marker=".", color=colour, label=label)
    ax_reward.set(title="reward per step (points) and moving average (line)", xlabel="step",
                  ylim=(-0.02, 1.05))  # fmt: skip
    ax_incentive.set(title="incentive on chain (Yuma)", xlabel="epoch", ylim=(-0.02, 1.05))
    for ax, task in zip(task_axes, TASKS, strict=True):
        ax.set(title=f"{task} accuracy per step", xlabel="step", ylim=(-0.02, 1.05))
    for axis in (ax_reward, ax_incentive, *task_axes):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    if uids:
        ax_reward.legend(fontsize=7)
    plot_registry(ax_registry, report.registry)
    ax_why.axis("off")
    ax_why.set_title("why low scores were low")
    lines = []
    for uid in uids:
        reasons = final[uid].reasons if uid in final else []
        lines.append(f"uid {uid} ({engines.get(uid, '?')}):")
        lines.extend([f"  {r[:60]}" for r in reasons[:3]] or ["  none"])
    ax_why.text(0, 1, "\n".join(lines[:40]), va="top", family="monospace", fontsize=7)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(report: DevnetReport, out_dir: Path, console: Console | None = None) -> dict:
    """Write report.json and scores.png into out_dir and print the table; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(report.to_json(), indent=2))
    chart_path = out_dir / "scores.png"
    write_chart(report, chart_path)
    console = console or Console()
    wide = Console(width=max(console.width, 150), file=console.file, highlight=False)
    wide.print(render_table(report))
    if report.registry is not None:
        wide.print(render_registry(report.registry))
        console.print("\n".join(registry_lines(report.registry)), highlight=False, markup=False,
                      soft_wrap=True)  # fmt: skip
    console.print(render_reasons(report), highlight=False, markup=False, soft_wrap=True)
    console.print(
        "acc: mean accuracy per task over the validator's steps (-: never asked; search only "
        "runs once the registry holds validator.search_min_patterns); dup steps: steps in "
        "which the miner split one reward with miners giving the same answers (one engine); "
        "avg score: the validator's moving average, averaged over the epoch ends; last "
        "weight: the weight last set; last emission τ: TAO of the last epoch; NEAR reward "
        "total: the cumulative sum mirrored to the reputation contract",
        highlight=False,
    )
    return {"json": json_path, "chart": chart_path}
