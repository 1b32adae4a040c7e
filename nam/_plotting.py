"""The finishing steps every line figure of nam shares (matplotlib object API: no pyplot state)."""


def save_figure(fig, ax, path: str, *, xlabel: str, ylabel: str, title: str, loglog: bool = False,
                dpi: int = 100) -> str:
    """Label the axes, add the legend and the title, optionally make both axes logarithmic (decade
    labels only on x: minor labels overlap), lay out and save as PNG. Returns `path`."""
    if loglog:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path
