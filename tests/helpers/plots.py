"""Reading back what a figure drew: the row labels of a distribution plot, top row first."""

from emgcore.report import plots


def record_rows(monkeypatch):
    """Make plots._save_figure record each figure's y tick labels from the top row down."""
    drawn, save = [], plots._save_figure

    def recording_save(fig, out_path):
        ax = fig.axes[0]
        rows = sorted(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())))
        bottom, top = ax.get_ylim()
        drawn.append([label for _, label in (rows if top < bottom else rows[::-1])])
        return save(fig, out_path)

    monkeypatch.setattr(plots, "_save_figure", recording_save)
    return drawn
