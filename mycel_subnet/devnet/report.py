"""The devnet's results: a table per miner, a PNG chart over epochs and a JSON report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

TASKS = ("evaluate_pattern", "generate_pattern", "inference")


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
    accuracy: dict[str, float] = field(default_factory=dict)  # mean accuracy per task type
    duplicate_steps: int = 0  # steps in which it shared one reward with duplicates
    steps: int = 0
    reasons: list[str] = field(default_factory=list)  # why its low scores were low


@dataclass
class EpochSnapshot:
    epoch: int
    block: int
    miners: list[MinerRow]


@dataclass
class DevnetReport:
    chain_path: str
    netuid: int
    epochs: list[EpochSnapshot] = field(default_factory=list)
    queries: int = 0
    weight_sets: int = 0
    notes: list[str] = field(default_factory=list)

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
        }


def render_table(report: DevnetReport) -> Table:
    table = Table(title=f"Mycel devnet: netuid {report.netuid}, {len(report.epochs)} epoch(s)")
    for column in (
        "uid",
        "engine",
        "eval acc",
        "gen acc",
        "infer acc",
        "shared",
        "mean score",
        "weight",
        "incentive",
        "emission τ",
        "NEAR reward Σ",
    ):
        table.add_column(column, justify="right" if column != "engine" else "left")
    for m in sorted(report.final(), key=lambda m: -m.incentive):
        table.add_row(
            str(m.uid),
            m.engine,
            *(f"{m.accuracy.get(task, 0.0):.2f}" for task in TASKS),
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
    return "\n".join(lines)


def write_chart(report: DevnetReport, path: Path) -> None:
    """Scores and incentive per miner over epochs, as a PNG (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_score, ax_incentive) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    uids = sorted({m.uid for e in report.epochs for m in e.miners})
    for uid in uids:
        rows = [(e.epoch, m) for e in report.epochs for m in e.miners if m.uid == uid]
        if not rows:
            continue
        label = f"uid {uid} ({rows[-1][1].engine})"
        epochs = [epoch for epoch, _ in rows]
        ax_score.plot(epochs, [m.score for _, m in rows], marker="o", label=label)
        ax_incentive.plot(epochs, [m.incentive for _, m in rows], marker="o", label=label)
    ax_score.set(title="validator score (moving average)", xlabel="epoch", ylim=(0, 1.05))
    ax_incentive.set(title="incentive on chain (Yuma)", xlabel="epoch", ylim=(0, 1.05))
    from matplotlib.ticker import MaxNLocator

    for axis in (ax_score, ax_incentive):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_score.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(report: DevnetReport, out_dir: Path, console: Console | None = None) -> dict:
    """Write report.json and scores.png into out_dir and print the table; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(report.to_json(), indent=2))
    chart_path = out_dir / "scores.png"
    write_chart(report, chart_path)
    console = console or Console()
    wide = Console(width=max(console.width, 140), file=console.file, highlight=False)
    wide.print(render_table(report))
    console.print(render_reasons(report), highlight=False, markup=False)
    console.print(
        "accuracy per task from the validator's steps; shared: steps in which the miner split "
        "one reward with miners giving the same answers (one engine); NEAR reward Σ: "
        "cumulative reward mirrored to the registry",
        highlight=False,
    )
    return {"json": json_path, "chart": chart_path}
