"""The finishing steps every line figure of nam shares (matplotlib object API: no pyplot state)."""


def label_axes(ax, *, xlabel: str, ylabel: str, title: str, loglog: bool = False) -> None:
    """Label the axes, add the legend and the title, optionally make both axes logarithmic (decade
    labels only on x: minor labels overlap)."""
    if loglog:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


def save_figure(
    fig, ax, path: str, *, xlabel: str, ylabel: str, title: str, loglog: bool = False, dpi: int = 100
) -> str:
    """`label_axes` on `ax`, then lay out `fig` and save it as PNG. Returns `path`."""
    label_axes(ax, xlabel=xlabel, ylabel=ylabel, title=title, loglog=loglog)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def moving_average(values, window: int):
    """Trailing moving average of a 1-d sequence, the same length as `values`: entry i is the mean of
    values[max(0, i - window + 1) : i + 1] (the first entries average what there is so far)."""
    import numpy as np

    from ._checks import check_int

    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"`values` must be 1-d, got shape {x.shape}")
    window = check_int("window", window)
    c = np.cumsum(np.insert(x, 0, 0.0))
    i = np.arange(1, x.size + 1)
    lo = np.maximum(0, i - window)
    return (c[i] - c[lo]) / (i - lo)


def plot_loss(ax, steps, losses, *, label: str, ylabel: str, color: str = "C0", log: bool = True):
    """A training-loss panel: the raw per-step loss faint, its moving average (window about 1/20 of the
    run, at least 5 steps) on top, both labelled."""
    import numpy as np

    losses = np.asarray(losses, dtype=np.float64)
    window = max(5, len(losses) // 20)
    ax.plot(steps, losses, lw=0.6, alpha=0.3, color=color, label=f"{label}, per step")
    ax.plot(steps, moving_average(losses, window), lw=1.6, color=color, label=f"{label}, mean of last {window} steps")
    ax.set_xlabel("training step (Adam updates)")
    ax.set_ylabel(ylabel)
    if log and np.all(losses > 0):
        ax.set_yscale("log")
    ax.legend(fontsize=7)
