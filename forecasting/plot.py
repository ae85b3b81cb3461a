"""A PNG of one series: its history, the forecast mean and the outermost interval."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from turnwise.errors import InvalidArgument

__all__ = ["plot_series"]


def plot_series(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    unique_id: str,
    output: Path,
    last_points: int = 156,
) -> Path:
    """Draw ``unique_id`` from a long history frame (unique_id, ds, y) and a forecast frame
    (unique_id, ds, mean, q<level>...) into ``output`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = history[history["unique_id"].astype(str) == unique_id].tail(last_points)
    fc = forecast[forecast["unique_id"].astype(str) == unique_id]
    if hist.empty and fc.empty:
        raise InvalidArgument("series", f"no series {unique_id!r} in the history or forecast")
    levels = sorted(
        (float(c[1:]), c)
        for c in fc.columns
        if c.startswith("q") and c[1:].replace(".", "").isdigit()
    )
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    ax.plot(pd.to_datetime(hist["ds"]), hist["y"], color="black", lw=1.2, label="history")
    ds = pd.to_datetime(fc["ds"])
    if len(levels) >= 2:
        (lo, lo_col), (hi, hi_col) = levels[0], levels[-1]
        ax.fill_between(
            ds,
            fc[lo_col],
            fc[hi_col],
            color="tab:blue",
            alpha=0.25,
            label=f"{lo:g}-{hi:g} quantiles",
        )
    ax.plot(ds, fc["mean"], color="tab:blue", lw=1.8, label="forecast mean")
    ax.set_title(f"{unique_id}: history and forecast")
    ax.set_ylabel("units")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, format="png")
    plt.close(fig)
    return output
