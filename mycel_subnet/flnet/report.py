"""The report of a `mycel fl` run: fl_report.json, a PNG chart and a table.

The chart has the held-out loss of the global adapter per round (the validator's report split,
never scored against), each miner's contribution value per round (what its update removed
beyond DP noise, relative to the round's best), the epsilon each miner's accountant reported,
and what happened to every update (accepted, no gain, copy, rejected, no answer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

STATUS_MARK = {"accepted": "A", "no_gain": "-", "copy": "C", "rejected": "R", "no_answer": "?"}


def report_json(run: Any) -> dict[str, Any]:
    plan = run.plan
    rounds = [r.to_json() for r in run.rounds]
    credit: dict[int, float] = {}
    for report in run.rounds:
        for uid, row in report.rows.items():
            credit[uid] = credit.get(uid, 0.0) + row.value
    return {
        "plan": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(plan).items()},
        "chain": str(run.chain.path),
        "netuid": run.chain.netuid,
        "validator": run.chain.validator.hotkey,
        "miners": [
            {
                "uid": uid,
                "hotkey": run.hotkeys[uid],
                "behaviour": run.behaviour[uid],
                "credit": round(credit.get(uid, 0.0), 6),
            }
            for uid in sorted(run.behaviour)
        ],
        "initial_loss": run.initial_loss,
        "final_loss": run.rounds[-1].loss_after if run.rounds else run.initial_loss,
        "rounds": rounds,
        "near_records": run.near,
        "notes": run.notes,
        "seconds": round(run.seconds, 2),
    }


def render_table(run: Any) -> Table:
    table = Table(title=f"Mycel federated learning: {len(run.rounds)} round(s)")
    table.add_column("uid", justify="right")
    table.add_column("behaviour")
    for report in run.rounds:
        table.add_column(f"r{report.round} value", justify="right")
    table.add_column("epsilon", justify="right")
    table.add_column("why not credited (last round)")
    for uid in sorted(run.behaviour):
        cells, epsilon, why = [], "", ""
        for report in run.rounds:
            row = report.rows.get(uid)
            if row is None:
                cells.append("not sampled")
                continue
            cells.append(f"{row.value:.2f} {STATUS_MARK.get(row.status, '?')}")
            epsilon = f"{row.epsilon:.2f}" if row.epsilon is not None else epsilon
            why = row.detail[:70]
        table.add_row(str(uid), run.behaviour[uid], *cells, epsilon, why)
    return table


def write_chart(run: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), constrained_layout=True)
    (ax_loss, ax_value), (ax_eps, ax_status) = axes
    rounds = [r.round for r in run.rounds]
    ax_loss.plot([0, *rounds], [run.initial_loss, *(r.loss_after for r in run.rounds)],
                 marker="o", color="C0", label="global adapter after the round")  # fmt: skip
    ax_loss.set(title="held-out loss (validator's report split)", xlabel="round",
                ylabel="mean next-token loss")  # fmt: skip
    ax_loss.legend(fontsize=8)
    uids = sorted(run.behaviour)
    width = 0.8 / max(1, len(uids))
    for i, uid in enumerate(uids):
        label = f"uid {uid} ({run.behaviour[uid]})"
        values = [r.rows[uid].value if uid in r.rows else 0.0 for r in run.rounds]
        ax_value.bar([x - 0.4 + width * (i + 0.5) for x in rounds], values, width, label=label,
                     color=f"C{i % 10}")  # fmt: skip
        eps = [(r.round, r.rows[uid].epsilon) for r in run.rounds
               if uid in r.rows and r.rows[uid].epsilon is not None]  # fmt: skip
        if eps:
            ax_eps.plot(*zip(*eps, strict=True), marker="o", color=f"C{i % 10}", label=label)
    ax_value.set(title="contribution value per round (gain beyond DP noise / round's best)",
                 xlabel="round", ylim=(0, 1.05))  # fmt: skip
    ax_value.legend(fontsize=7)
    ax_eps.set(title="epsilon spent (each miner's accountant, all rounds so far)",
               xlabel="round")  # fmt: skip
    if uids:
        ax_eps.legend(fontsize=7)
    for axis in (ax_loss, ax_value, ax_eps):
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_status.axis("off")
    ax_status.set_title("update status per round: A accepted, - no gain, C copy, R rejected")
    lines = []
    for uid in uids:
        marks = " ".join(STATUS_MARK.get(r.rows[uid].status, "?") if uid in r.rows else "."
                         for r in run.rounds)  # fmt: skip
        lines.append(f"uid {uid:>3} {run.behaviour[uid]:<7} {marks}")
    ax_status.text(0, 1, "\n".join(lines[:40]), va="top", family="monospace", fontsize=9)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(run: Any, out_dir: Path, console: Console | None = None) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "fl_report.json"
    json_path.write_text(json.dumps(report_json(run), indent=2))
    chart_path = out_dir / "fl.png"
    write_chart(run, chart_path)
    console = console or Console()
    wide = Console(width=max(console.width, 140), file=console.file, highlight=False)
    wide.print(render_table(run))
    for note in run.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    console.print(
        "value: the held-out loss the miner's update removed beyond what DP noise alone removes, "
        "relative to the round's best (A accepted and aggregated, - no gain, C copy of an "
        "earlier update, R rejected, ? no answer); epsilon: the miner's own RDP accountant",
        highlight=False,
    )
    return {"json": json_path, "chart": chart_path}
