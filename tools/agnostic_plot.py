#!/usr/bin/python3
"""agnostic plot: draws the figures physicists expect from the records agnostic writes.

`agnostic plot PATH... [--output DIR] [--format png|pdf|svg]` runs this script with Debian's
/usr/bin/python3, python3-matplotlib and python3-numpy. PATH is a training output directory
(history.json, predictions.csv, summary.json), a JSON document printed by `agnostic fit`, a pyhf
workspace, or an example's results file (JSON or CSV). Every figure is drawn only when the records
hold its data, and every file written is printed. `agnostic plot --trade-off RUN...` draws one figure
from a set of decorrelation runs (1/JSD against R50, docs/decorrelation.md). The records' formats and the list of figures are in
docs/plot.md. Records are recognised by key names, so new runs (DANN, ADNN, systematics) need no
change here as long as they follow the naming rules written there.
"""
import argparse
import csv
import json
import math
import os
import re
import sys

np = None  # numpy and matplotlib are imported in main(), so that a missing package gives a message
plt = None

INSTALL_HINT = (f"agnostic plot needs matplotlib and numpy for {sys.executable or 'python3'}; on Debian or "
                "Ubuntu install them with\n  apt-get install python3-matplotlib python3-numpy")

# ---------------------------------------------------------------------------------------------
# Style: one place for every figure's look (readable on a slide, colour-blind safe colours).
# ---------------------------------------------------------------------------------------------
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
STYLE = {
    "figure.figsize": (7.0, 5.0), "figure.dpi": 100, "savefig.dpi": 150, "savefig.bbox": "tight",
    "font.size": 12, "axes.titlesize": 13, "axes.labelsize": 13, "legend.fontsize": 10,
    "legend.framealpha": 0.85, "axes.grid": True, "grid.alpha": 0.3, "lines.linewidth": 1.8,
    "xtick.labelsize": 11, "ytick.labelsize": 11,
}
BEST_COLOUR, ROLLBACK_COLOUR = "#009E73", "#D55E00"
ONE_SIGMA, TWO_SIGMA = "#00CC00", "#FFCC00"  # the usual green and yellow bands


def apply_style():
    import cycler
    plt.rcParams.update(STYLE)
    plt.rcParams["axes.prop_cycle"] = cycler.cycler(color=COLOURS)


class RecordError(Exception):
    """A record lacks a field or holds something unexpected: the message names file and key."""


def number(value, where):
    """A float from a JSON number or the strings "nan", "inf", "-inf" that agnostic writes."""
    if isinstance(value, bool) or value is None:
        raise RecordError(f"{where}: expected a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{where}: expected a number, got {value!r}") from None


def is_number(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and value in ("nan", "inf", "-inf")


def numbers(values, where):
    return np.array([number(v, f"{where}[{i}]") for i, v in enumerate(values)], dtype=float)


def slug(text):
    return re.sub(r"[^A-Za-z0-9]+", "_", str(text)).strip("_").lower() or "record"


def pretty(key):
    """A key as an axis label: train_label_loss -> train label loss, lambda -> λ."""
    special = {"lambda": "λ", "alpha": "α", "ks": "K-S", "auc": "AUC", "ams": "AMS", "mu": "μ",
               "nll": "NLL", "lr": "learning rate"}
    return " ".join(special.get(w, w) for w in str(key).split("_"))


class Figures:
    """Saves figures into one directory and remembers (and prints) every file written."""

    def __init__(self, directory, fmt):
        self.directory, self.format, self.written = directory, fmt, []

    def save(self, fig, name):
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"{name}.{self.format}")
        fig.savefig(path)
        plt.close(fig)
        self.written.append(path)
        print(path, flush=True)


def note(ax, text, loc="upper left"):
    """Small text in a corner of the axes (sample sizes, fit results)."""
    x, ha = (0.03, "left") if "left" in loc else (0.97, "right")
    y, va = (0.97, "top") if "upper" in loc else (0.03, "bottom")
    ax.text(x, y, text, transform=ax.transAxes, ha=ha, va=va, fontsize=10,
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.8, edgecolor="0.8"))


# ---------------------------------------------------------------------------------------------
# Training history (history.json)
# ---------------------------------------------------------------------------------------------
def history_series(history, where):
    epochs = history.get("epochs")
    if not isinstance(epochs, list):
        raise RecordError(f"{where}: key 'epochs' is missing or not a list")
    if not epochs:
        raise RecordError(f"{where}: 'epochs' is empty (no epoch finished)")
    keys = []
    for i, e in enumerate(epochs):
        if not isinstance(e, dict) or "epoch" not in e:
            raise RecordError(f"{where}: epochs[{i}] has no key 'epoch'")
        keys += [k for k, v in e.items() if k not in keys and k not in ("epoch", "seconds") and is_number(v)]
    x = numbers([e["epoch"] for e in epochs], f"{where}: epochs[].epoch")
    series = {k: np.array([number(e[k], f"{where}: epochs[{i}].{k}") if k in e else math.nan
                           for i, e in enumerate(epochs)]) for k in keys}
    return x, series


def mark_best_and_rollbacks(ax, history):
    best = history.get("best_epoch")
    if is_number(best) and best > 0:
        label = f"best epoch {best:g}"
        if "best_figure" in history:
            label += f" ({pretty(history['best_figure'])})"
        ax.axvline(best, color=BEST_COLOUR, linestyle="--", linewidth=1.2, label=label)
    for i, r in enumerate(history.get("rollbacks") or []):
        if isinstance(r, dict) and is_number(r.get("at_epoch")):
            text = f"rollback at epoch {r['at_epoch']:g}"
            if is_number(r.get("to_epoch")):
                text += f" to {r['to_epoch']:g}"
            ax.axvline(r["at_epoch"], color=ROLLBACK_COLOUR, linestyle=":", linewidth=1.5,
                       label=text if i < 3 else None)


def history_axes(title, history, rows=1):
    fig, axes = plt.subplots(rows, 1, sharex=True, figsize=(7.0, 3.2 + 2.3 * rows), squeeze=False)
    axes = list(axes[:, 0])
    axes[0].set_title(title)
    axes[-1].set_xlabel("epoch")
    for ax in axes:
        mark_best_and_rollbacks(ax, history)
    return fig, axes


def part_of(key):
    return re.sub(r"^(train|training|validation|val)_", "", key)


def plot_losses(out, history, x, series, n_epochs_note):
    keys = [k for k in series if "loss" in k and not is_monitor(k) and not is_penalty(k)]
    if not keys:
        return
    fig, (ax,) = history_axes("Loss per epoch", history)
    parts = []
    for k in keys:
        if part_of(k) not in parts:
            parts.append(part_of(k))
    for k in keys:
        colour = COLOURS[parts.index(part_of(k)) % len(COLOURS)]
        dashed = k.startswith(("validation", "val_"))
        ax.plot(x, series[k], color=colour, linestyle="--" if dashed else "-", marker="." if len(x) < 40 else None,
                label=pretty(k))
    discarded = [e for r in history.get("rollbacks") or [] if isinstance(r, dict)
                 for e in r.get("discarded_epochs") or [] if isinstance(e, dict)]
    points = [(e["epoch"], e["train_loss"]) for e in discarded
              if is_number(e.get("epoch")) and is_number(e.get("train_loss"))]
    if points:
        xs, ys = zip(*points)
        ax.plot(xs, [float(y) for y in ys], "x", color=ROLLBACK_COLOUR, label="discarded epochs (train loss)")
    ax.set_ylabel("loss")
    note(ax, n_epochs_note, "upper right")
    ax.legend(loc="center right")
    out.save(fig, "losses")


def is_schedule(key):
    return re.fullmatch(r"(lambda|alpha)(_.*)?|.*_(lambda|alpha)", key) is not None


def is_monitor(key):
    return ("domain" in key or "adversary" in key) and "accuracy" in key or \
        re.search(r"(^|_)ks(_|$)", key) is not None


def is_penalty(key):
    return "penalty" in key or "shape_difference" in key


def plot_schedule(out, history, x, series):
    schedules = [k for k in series if is_schedule(k)]
    rate = "learning_rate" in series and np.isfinite(series["learning_rate"]).any()
    panels = [p for p in (schedules and "schedule", rate and "rate") if p]
    if not panels:
        return
    fig, axes = history_axes("Schedules per epoch", history, rows=len(panels))
    for ax, panel in zip(axes, panels):
        if panel == "schedule":
            for k in schedules:
                ax.plot(x, series[k], label=pretty(k))
            ax.set_ylabel(" / ".join(pretty(k) for k in schedules[:3]))
        else:
            lr = series["learning_rate"]
            ax.plot(x, lr, color=COLOURS[1], label="learning rate")
            if np.nanmin(lr) > 0 and np.nanmax(lr) / np.nanmin(lr) > 3:
                ax.set_yscale("log")
            ax.set_ylabel("learning rate")
        ax.legend(loc="best")
    out.save(fig, "schedule")


def plot_monitors(out, history, x, series):
    accuracies = [k for k in series if is_monitor(k) and "accuracy" in k]
    ks = [k for k in series if is_monitor(k) and "accuracy" not in k]
    panels = [p for p in (accuracies, ks) if p]
    if not panels:
        return
    fig, axes = history_axes("Adversarial monitors per epoch", history, rows=len(panels))
    for ax, keys in zip(axes, panels):
        for k in keys:
            ax.plot(x, series[k], label=pretty(k))
        if keys is accuracies:
            ax.axhline(0.5, color="0.4", linewidth=1, label="chance for two balanced domains")
            ax.set_ylabel("accuracy")
        else:
            ax.set_ylabel("K-S distance")
            ax.set_ylim(bottom=0)
        ax.legend(loc="best")
    out.save(fig, "adversarial_monitors")


def plot_penalties(out, history, x, series):
    keys = [k for k in series if is_penalty(k)]
    if not keys:
        return
    fig, (ax,) = history_axes("Systematic penalty terms per epoch", history)
    for k in keys:
        ax.plot(x, series[k], label=pretty(k))
    values = np.concatenate([series[k] for k in keys])
    values = values[np.isfinite(values)]
    if values.size and values.min() > 0 and values.max() / values.min() > 100:
        ax.set_yscale("log")
    ax.set_ylabel("penalty")
    ax.legend(loc="best")
    out.save(fig, "penalties")


def plot_metrics(out, history, x, series):
    used = lambda k: "loss" in k or is_schedule(k) or is_monitor(k) or is_penalty(k) or k == "learning_rate"
    keys = [k for k in series if not used(k)]
    if not keys:
        return
    fig, (ax,) = history_axes("Validation figures per epoch", history)
    for k in keys:
        ax.plot(x, series[k], label=pretty(k), marker="." if len(x) < 40 else None)
    ax.set_ylabel("value")
    ax.legend(loc="best")
    out.save(fig, "metrics")


def draw_history(out, history, where):
    x, series = history_series(history, where)
    text = f"{len(x)} epochs"
    if history.get("rollbacks"):
        text += f", {len(history['rollbacks'])} rollback(s)"
    plot_losses(out, history, x, series, text)
    plot_schedule(out, history, x, series)
    plot_monitors(out, history, x, series)
    plot_penalties(out, history, x, series)
    plot_metrics(out, history, x, series)


# ---------------------------------------------------------------------------------------------
# Classifier output (predictions.csv: label, weight, score or score_<class>, optional domain)
# ---------------------------------------------------------------------------------------------
def read_csv_columns(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise RecordError(f"{path}: the file is empty")
    header, body = rows[0], rows[1:]
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise RecordError(f"{path}: line {i + 2} has {len(r)} fields, the header has {len(header)}")
    return {name: [r[j] for r in body] for j, name in enumerate(header)}


def numeric_column(columns, name, path):
    try:
        return np.array([float(v) for v in columns[name]], dtype=float)
    except ValueError as e:
        raise RecordError(f"{path}: column '{name}' is not numeric ({e})") from None


def systematic_columns(columns):
    """Pairs <score>_<systematic>_up / _down whose nominal column <score> exists."""
    found = {}
    for name in columns:
        m = re.fullmatch(r"(score(?:_[^_]+)?)_(.+)_(up|down)", name)
        if m and m.group(1) in columns:
            found.setdefault((m.group(1), m.group(2)), {})[m.group(3)] = name
    return found


class Predictions:
    def __init__(self, path):
        columns = read_csv_columns(path)
        for needed in ("label", "weight"):
            if needed not in columns:
                raise RecordError(f"{path}: column '{needed}' is missing (columns: {', '.join(columns)})")
        self.systematics = systematic_columns(columns)
        varied = {c for s in self.systematics.values() for c in s.values()}
        self.score_names = [c for c in columns if (c == "score" or c.startswith("score_")) and c not in varied]
        if not self.score_names:
            raise RecordError(f"{path}: no 'score' or 'score_<class>' column")
        self.label = numeric_column(columns, "label", path).astype(int)
        self.weight = numeric_column(columns, "weight", path)
        self.scores = {c: numeric_column(columns, c, path) for c in self.score_names}
        self.varied = {c: numeric_column(columns, c, path) for c in varied}
        self.domain = np.array(columns["domain"]) if "domain" in columns else None
        labels = sorted(set(self.label.tolist()))
        if len(self.score_names) == 1:
            names = {0: "background", 1: "signal"} if set(labels) <= {0, 1} else {}
        else:
            names = {i: c[len("score_"):] for i, c in enumerate(self.score_names)}
        self.classes = [(v, names.get(v, f"class {v}")) for v in labels]

    def binary_score(self):
        """The signal score of a two-class run (score, or the second of two score_<class>)."""
        if [v for v, _ in self.classes] != [0, 1]:
            return None
        return self.scores[self.score_names[0] if len(self.score_names) == 1 else self.score_names[1]]


def score_bins(values):
    lo, hi = float(np.min(values)), float(np.max(values))
    if lo >= 0.0 and hi <= 1.0:
        lo, hi = 0.0, 1.0
    return np.linspace(lo, hi if hi > lo else lo + 1.0, 41)


def weighted_hist(ax, values, weights, bins, label, **style):
    if values.size == 0:
        return
    total = weights.sum()
    counts, _ = np.histogram(values, bins=bins, weights=weights)
    density = counts / (total * np.diff(bins)) if total != 0 else counts
    ax.stairs(density, bins, label=label, linewidth=1.8, **style)


def ks_distance(a, wa, b, wb):
    """Weighted two-sample Kolmogorov-Smirnov distance."""
    grid = np.sort(np.concatenate([a, b]))
    cdf = lambda v, w: np.cumsum(w[np.argsort(v)])[np.searchsorted(np.sort(v), grid, side="right") - 1] \
        / w.sum() if v.size else np.zeros_like(grid)
    fa = np.where(grid < a.min(), 0.0, cdf(a, wa)) if a.size else np.zeros_like(grid)
    fb = np.where(grid < b.min(), 0.0, cdf(b, wb)) if b.size else np.zeros_like(grid)
    return float(np.max(np.abs(fa - fb)))


def score_label(p, score):
    return "classifier output" if score == "score" else f"classifier output ({score})"


def plot_score_distributions(out, p):
    n = len(p.score_names)
    fig, axes = plt.subplots(1, n, figsize=(7.0 * min(n, 3) if n > 1 else 7.0, 5.0), squeeze=False)
    for ax, score in zip(axes[0], p.score_names):
        values = p.scores[score]
        bins = score_bins(values)
        for k, (v, name) in enumerate(p.classes):
            sel = p.label == v
            weighted_hist(ax, values[sel], p.weight[sel], bins,
                          f"{name}: N = {sel.sum()}, Σw = {p.weight[sel].sum():.4g}", color=COLOURS[k % 8])
        ax.set_xlabel(score_label(p, score))
        ax.set_ylabel("normalised to unit area")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
        ax.legend(loc="upper center")
    fig.suptitle("Classifier output per class (held-out events, weighted)")
    out.save(fig, "score_distributions")


def plot_score_by_domain(out, p):
    if p.domain is None:
        return
    domains = sorted(set(p.domain.tolist()), key=lambda d: (len(d), d))
    score = p.score_names[0] if len(p.score_names) == 1 else p.score_names[-1]
    values = p.binary_score() if p.binary_score() is not None else p.scores[score]
    bins = score_bins(values)
    fig, axes = plt.subplots(1, len(p.classes), figsize=(6.0 * len(p.classes), 5.0), squeeze=False)
    for ax, (v, name) in zip(axes[0], p.classes):
        sel_class = p.label == v
        parts = []
        for k, d in enumerate(domains):
            sel = sel_class & (p.domain == d)
            parts.append((values[sel], p.weight[sel]))
            weighted_hist(ax, values[sel], p.weight[sel], bins, f"domain {d}: N = {sel.sum()}",
                          color=COLOURS[k % 8], linestyle="-" if k == 0 else "--")
        ax.set_title(name)
        ax.set_xlabel("classifier output")
        ax.set_ylabel("normalised to unit area")
        if len(parts) >= 2 and parts[0][0].size and parts[1][0].size:
            note(ax, f"K-S distance domain {domains[0]} vs {domains[1]}: "
                     f"{ks_distance(parts[0][0], parts[0][1], parts[1][0], parts[1][1]):.3f}", "lower right")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
        ax.legend(loc="upper center")
    fig.suptitle("Classifier output per domain (held-out events, weighted)")
    out.save(fig, "score_by_domain")


def roc_curve(score, is_signal, weight):
    order = np.argsort(-score, kind="stable")
    s = np.cumsum(np.where(is_signal[order], weight[order], 0.0))
    b = np.cumsum(np.where(is_signal[order], 0.0, weight[order]))
    tpr = np.concatenate([[0.0], s / s[-1]]) if s[-1] else None
    fpr = np.concatenate([[0.0], b / b[-1]]) if b[-1] else None
    if tpr is None or fpr is None:
        return None
    trapezoid = getattr(np, "trapezoid", None) or np.trapz
    return fpr, tpr, float(trapezoid(tpr, fpr))


def plot_roc(out, p):
    fig, ax = plt.subplots()
    curves = []
    binary = p.binary_score()
    if binary is not None:
        curves.append(("signal vs background", binary, p.label == 1, np.ones(p.label.size, bool)))
        if p.domain is not None:
            for d in sorted(set(p.domain.tolist())):
                curves.append((f"domain {d}", binary, p.label == 1, p.domain == d))
    else:
        for i, (v, name) in enumerate(p.classes):
            if i < len(p.score_names):
                curves.append((f"{name} vs rest", p.scores[p.score_names[i]], p.label == v,
                               np.ones(p.label.size, bool)))
    drawn = 0
    for k, (name, score, signal, sel) in enumerate(curves):
        result = roc_curve(score[sel], signal[sel], p.weight[sel])
        if result is None:
            continue
        fpr, tpr, auc = result
        ax.plot(fpr, tpr, color=COLOURS[k % 8], linestyle="-" if k == 0 else "--",
                label=f"{name}: AUC {auc:.4f} (N = {sel.sum()})")
        drawn += 1
    if not drawn:
        plt.close(fig)
        return
    ax.plot([0, 1], [0, 1], color="0.6", linewidth=1, linestyle=":", label="random guess")
    ax.set_xlabel("background efficiency (false positive rate)")
    ax.set_ylabel("signal efficiency (true positive rate)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title("ROC curve (held-out events, weighted)")
    ax.legend(loc="lower right")
    out.save(fig, "roc")


def plot_ams(out, p, summary):
    score = p.binary_score()
    if score is None:
        return
    scale = 1.0
    ams = summary.get("ams") if isinstance(summary, dict) else None
    if isinstance(ams, dict) and is_number(ams.get("weight_scale")):
        scale = float(ams["weight_scale"])
    order = np.argsort(-score, kind="stable")
    w = p.weight[order] * scale
    signal = p.label[order] == 1
    s = np.cumsum(np.where(signal, w, 0.0))
    b = np.cumsum(np.where(signal, 0.0, w))
    b_reg = 10.0
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.sqrt(np.maximum(0.0, 2.0 * ((s + b + b_reg) * np.log1p(s / (b + b_reg)) - s)))
    z[(s < 0) | (b < 0)] = np.nan
    thresholds = score[order]
    fig, ax = plt.subplots()
    ax.plot(thresholds, z, label="AMS of the events with score ≥ cut")
    if np.isfinite(z).any():
        k = int(np.nanargmax(z))
        ax.plot([thresholds[k]], [z[k]], "o", color=ROLLBACK_COLOUR,
                label=f"best: AMS {z[k]:.3f} at cut {thresholds[k]:.3f}\n(s = {s[k]:.4g}, b = {b[k]:.4g})")
    ax.set_xlabel("cut on the classifier output")
    ax.set_ylabel("AMS (HiggsML, b_reg = 10)")
    ax.set_title("Significance against the cut")
    note(ax, f"N = {p.label.size} held-out events\nweights × {scale:.4g}", "upper left")
    ax.legend(loc="lower center")
    out.save(fig, "ams_vs_cut")


def plot_systematic_band(ax, bins, nominal, up, down, title, n_note=None):
    """Nominal histogram with its up/down variations and the ratio to nominal below."""
    ax.stairs(nominal, bins, color="black", label="nominal", linewidth=2)
    if up is not None:
        ax.stairs(up, bins, color=COLOURS[1], label="up (+1σ)", linestyle="--")
    if down is not None:
        ax.stairs(down, bins, color=COLOURS[0], label="down (−1σ)", linestyle=":")
    if up is not None and down is not None:
        ax.stairs(np.maximum(up, down), bins, baseline=np.minimum(up, down), fill=True, color="0.6",
                  alpha=0.35, label="up/down band")
    ax.set_title(title)
    ax.set_ylabel("events")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.legend(loc="upper right")
    if n_note:
        note(ax, n_note, "upper left")


def add_ratio(fig, ax, bins, nominal, up, down):
    rax = ax.inset_axes([0.0, -0.38, 1.0, 0.3], sharex=ax)
    ratios = [np.array([1.0])]
    with np.errstate(invalid="ignore", divide="ignore"):
        for values, colour, style in ((up, COLOURS[1], "--"), (down, COLOURS[0], ":")):
            if values is not None:
                ratio = np.where(nominal != 0, values / nominal, np.nan)
                rax.stairs(ratio, bins, color=colour, linestyle=style)
                ratios.append(ratio[np.isfinite(ratio)])
    rax.axhline(1.0, color="black", linewidth=1)
    spread = np.concatenate(ratios)  # room for the variations, clipped to [0, 2.5] (empty bins explode)
    rax.set_ylim(max(0.0, min(0.9, spread.min() - 0.05)), min(2.5, max(1.1, spread.max() + 0.05)))
    rax.set_ylabel("variation / nominal", fontsize=10)
    return rax


def plot_prediction_systematics(out, p):
    for (score, name), pair in sorted(p.systematics.items()):
        nominal = p.scores[score]
        bins = score_bins(nominal)
        fig, axes = plt.subplots(1, len(p.classes), figsize=(6.5 * len(p.classes), 5.0), squeeze=False)
        for ax, (v, cname) in zip(axes[0], p.classes):
            sel = p.label == v
            hist = lambda col: np.histogram(col[sel], bins=bins, weights=p.weight[sel])[0]
            up = hist(p.varied[pair["up"]]) if "up" in pair else None
            down = hist(p.varied[pair["down"]]) if "down" in pair else None
            nom = hist(nominal)
            plot_systematic_band(ax, bins, nom, up, down, cname, f"N = {sel.sum()}")
            add_ratio(fig, ax, bins, nom, up, down).set_xlabel(score_label(p, score))
        fig.suptitle(f"Systematic '{name}': classifier output nominal, up and down")
        out.save(fig, f"systematic_{slug(name)}")


def draw_predictions(out, path, summary):
    p = Predictions(path)
    plot_score_distributions(out, p)
    plot_score_by_domain(out, p)
    plot_roc(out, p)
    plot_ams(out, p, summary)
    plot_prediction_systematics(out, p)


# ---------------------------------------------------------------------------------------------
# Fits (the JSON document `agnostic fit` prints) and pyhf workspaces
# ---------------------------------------------------------------------------------------------
def plot_pulls(out, doc, where):
    poi = doc.get("poi")
    if isinstance(doc.get("impacts"), list) and doc["impacts"]:
        rows = [(str(r.get("name")), number(r.get("pull"), f"{where}: impacts[{i}].pull"),
                 number(r.get("constraint", 1.0), f"{where}: impacts[{i}].constraint"))
                for i, r in enumerate(doc["impacts"]) if isinstance(r, dict)]
        source = "impacts"
    elif isinstance(doc.get("bestfit"), dict) and isinstance(doc.get("errors"), dict):
        # Without impacts only parameters with a unit Gaussian constraint around 0 (normsys, histosys)
        # have a pull equal to their value; per-bin γ and lumi are left out (their priors are not here).
        rows = [(k, number(v, f"{where}: bestfit.{k}"), number(doc["errors"].get(k, math.nan), f"{where}: errors.{k}"))
                for k, v in doc["bestfit"].items() if k != poi and "[" not in k and k != "lumi"]
        source = "best fit ± Hessian error (normsys/histosys parameters)"
    else:
        return
    if not rows:
        return
    names, pulls, widths = zip(*rows)
    y = np.arange(len(rows))[::-1]
    fig, ax = plt.subplots(figsize=(7.0, 1.6 + 0.35 * len(rows)))
    ax.axvspan(-2, 2, color=TWO_SIGMA, alpha=0.5, label="±2σ")
    ax.axvspan(-1, 1, color=ONE_SIGMA, alpha=0.5, label="±1σ")
    ax.errorbar(pulls, y, xerr=widths, fmt="o", color="black", capsize=3, label="pull ± constraint")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_xlabel("(θ̂ − θ₀) / Δθ")
    ax.set_xlim(min(-2.5, min(np.array(pulls) - np.array(widths)) - 0.3),
                max(2.5, max(np.array(pulls) + np.array(widths)) + 0.3))
    ax.set_title(f"Nuisance parameter pulls ({len(rows)} parameters)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), title=f"from {source}" if len(source) < 10 else None)
    out.save(fig, "pulls")


def plot_impacts(out, doc, where):
    impacts = doc.get("impacts")
    if not isinstance(impacts, list) or not impacts:
        return
    rows = []
    for i, r in enumerate(impacts):
        if not isinstance(r, dict) or "name" not in r:
            raise RecordError(f"{where}: impacts[{i}] has no key 'name'")
        get = lambda k: number(r.get(k, 0.0), f"{where}: impacts[{i}].{k}")
        rows.append((r["name"], get("pull"), number(r.get("constraint", 1.0), f"{where}: impacts[{i}].constraint"),
                     get("prefit_up"), get("prefit_down"), get("postfit_up"), get("postfit_down")))
    rows.sort(key=lambda r: max(abs(r[5]), abs(r[6]), abs(r[3]), abs(r[4])), reverse=True)
    shown = rows[:20]
    y = np.arange(len(shown))[::-1]
    fig, ax = plt.subplots(figsize=(8.0, 2.2 + 0.4 * len(shown)))
    names = [r[0] for r in shown]
    poi = doc.get("poi", "μ")
    ax.barh(y, [r[3] for r in shown], height=0.7, fill=False, edgecolor=COLOURS[0], label="pre-fit impact, θ = +Δθ")
    ax.barh(y, [r[4] for r in shown], height=0.7, fill=False, edgecolor=COLOURS[5], label="pre-fit impact, θ = −Δθ")
    ax.barh(y, [r[5] for r in shown], height=0.5, color=COLOURS[0], alpha=0.8, label="post-fit impact, θ = +σ̂")
    ax.barh(y, [r[6] for r in shown], height=0.5, color=COLOURS[5], alpha=0.8, label="post-fit impact, θ = −σ̂")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_xlabel(f"Δ{pretty(poi)}")
    limit = max(1e-12, max(max(abs(r[3]), abs(r[4]), abs(r[5]), abs(r[6])) for r in shown)) * 1.15
    ax.set_xlim(-limit, limit)
    pull_ax = ax.twiny()
    pull_ax.errorbar([r[1] for r in shown], y, xerr=[r[2] for r in shown], fmt="o", color="black", capsize=3,
                     label="pull (θ̂ − θ₀)/Δθ")
    pull_ax.set_xlim(-2.5, 2.5)
    pull_ax.set_xlabel("(θ̂ − θ₀) / Δθ")
    pull_ax.grid(False)
    handles = ax.get_legend_handles_labels()[0] + pull_ax.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + pull_ax.get_legend_handles_labels()[1]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    ax.set_title(f"Impacts on {poi}: {len(shown)} of {len(rows)} parameters, largest first", pad=40)
    out.save(fig, "impacts")


def plot_correlation(out, doc, where):
    names, matrix = None, None
    for key in ("correlation", "covariance"):
        c = doc.get(key)
        if isinstance(c, dict) and "matrix" in c:
            names, matrix = c.get("names"), c["matrix"]
        elif isinstance(c, list):
            matrix = c
        if matrix is not None:
            try:
                m = np.array([[number(v, f"{where}: {key}") for v in row] for row in matrix])
            except TypeError:
                raise RecordError(f"{where}: '{key}' must be a list of rows of numbers") from None
            if m.ndim != 2 or m.shape[0] != m.shape[1]:
                raise RecordError(f"{where}: '{key}' is not a square matrix")
            if key == "covariance":
                d = np.sqrt(np.abs(np.diag(m)))
                with np.errstate(invalid="ignore", divide="ignore"):
                    m = m / np.outer(d, d)
            break
    if matrix is None:
        return
    if names is None and isinstance(doc.get("bestfit"), dict) and len(doc["bestfit"]) == m.shape[0]:
        names = list(doc["bestfit"])
    names = names or [str(i) for i in range(m.shape[0])]
    n = m.shape[0]
    size = min(14.0, 3.0 + 0.45 * n)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1)
    fig.colorbar(image, ax=ax, label="correlation", fraction=0.046, pad=0.04)
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(names, rotation=90)
    ax.set_yticklabels(names)
    ax.grid(False)
    if n <= 15:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(m[i, j]) > 0.6 else "black")
    ax.set_title(f"Correlation of the fitted parameters ({n})")
    out.save(fig, "correlation")


def crossings(x, y, level):
    """Where the curve y(x) crosses `level`, by linear interpolation."""
    found = []
    for i in range(len(x) - 1):
        if (y[i] - level) * (y[i + 1] - level) < 0:
            found.append(x[i] + (level - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i]))
    return found


def scan_points(scan, where):
    """(name, values, -2 Δ ln L) from {"param", "points": [[v, t]]} or [{"mu", "nll", "delta_nll"}]."""
    name = "μ"
    points = scan
    if isinstance(scan, dict):
        name, points = scan.get("param", name), scan.get("points")
    if not isinstance(points, list) or not points:
        raise RecordError(f"{where}: 'scan' holds no points")
    values, t = [], []
    for i, p in enumerate(points):
        if isinstance(p, list) and len(p) == 2:
            values.append(number(p[0], f"{where}: scan[{i}][0]"))
            t.append(number(p[1], f"{where}: scan[{i}][1]"))
        elif isinstance(p, dict) and "mu" in p and ("delta_nll" in p or "nll" in p):
            values.append(number(p["mu"], f"{where}: scan[{i}].mu"))
            t.append(number(p["delta_nll"], f"{where}: scan[{i}].delta_nll") * 2.0 if "delta_nll" in p
                     else number(p["nll"], f"{where}: scan[{i}].nll"))
        else:
            raise RecordError(f"{where}: scan point {i} is neither [value, 2Δ(−ln L)] nor {{mu, nll, delta_nll}}")
    values, t = np.array(values), np.array(t)
    if not any(isinstance(p, dict) and "delta_nll" in p for p in points) and isinstance(points[0], dict):
        t = 2.0 * (t - t.min())
    order = np.argsort(values)
    return name, values[order], t[order]


def plot_scan(out, doc, where):
    if "scan" not in doc:
        return
    name, x, t = scan_points(doc["scan"], where)
    fig, ax = plt.subplots()
    best = x[int(np.argmin(t))]
    ax.plot(x, t, marker="." if len(x) <= 40 else None, color=COLOURS[0],
            label=f"profile likelihood, lowest at {pretty(name)} = {best:.4g}")
    for level, label, colour in ((1.0, "68 %", ONE_SIGMA), (3.84, "95 %", TWO_SIGMA)):
        c = crossings(x, t, level)
        lo = [v for v in c if v < best]
        hi = [v for v in c if v > best]
        interval = (f"[{lo[-1]:.4g}" if lo else "[below scan") + (f", {hi[0]:.4g}]" if hi else ", above scan]")
        ax.axhline(level, color=colour, linewidth=1.5, linestyle="--",
                   label=f"−2Δln L = {level:g}: {label} {interval}")
        for v in c:
            ax.axvline(v, color=colour, linewidth=1, linestyle=":")
    ax.set_xlabel(pretty(name))
    ax.set_ylabel("−2 Δ ln L")
    ax.set_ylim(0, max(5.0, min(float(np.nanmax(t)), 12.0)))
    ax.set_title(f"Profile likelihood scan of {pretty(name)} ({len(x)} points)")
    ax.legend(loc="upper center")
    out.save(fig, "likelihood_scan")


def plot_cls_scan(out, doc, where):
    scan = doc.get("cls_scan")
    if not isinstance(scan, list) or not scan:
        return
    mu, obs, exp = [], [], []
    for i, p in enumerate(scan):
        if not isinstance(p, dict) or "mu" not in p or "exp" not in p:
            raise RecordError(f"{where}: cls_scan[{i}] needs keys 'mu' and 'exp' (5 numbers), and 'obs'")
        if not isinstance(p["exp"], list) or len(p["exp"]) != 5:
            raise RecordError(f"{where}: cls_scan[{i}].exp must hold 5 numbers (−2σ, −1σ, median, +1σ, +2σ)")
        mu.append(number(p["mu"], f"{where}: cls_scan[{i}].mu"))
        obs.append(number(p.get("obs", math.nan), f"{where}: cls_scan[{i}].obs"))
        exp.append(numbers(p["exp"], f"{where}: cls_scan[{i}].exp"))
    order = np.argsort(mu)
    mu, obs, exp = np.array(mu)[order], np.array(obs)[order], np.array(exp)[order]
    limit = doc.get("upper_limit") if isinstance(doc.get("upper_limit"), dict) else {}
    cl = number(limit.get("cl", 0.95), f"{where}: upper_limit.cl")
    alpha = 1.0 - cl if cl > 0.5 else cl
    fig, ax = plt.subplots()
    ax.fill_between(mu, exp[:, 0], exp[:, 4], color=TWO_SIGMA, label="expected ±2σ")
    ax.fill_between(mu, exp[:, 1], exp[:, 3], color=ONE_SIGMA, label="expected ±1σ")
    ax.plot(mu, exp[:, 2], "k--", label="expected CLs (median)")
    if np.isfinite(obs).any():
        ax.plot(mu, obs, "k-", marker="o" if len(mu) <= 30 else None, markersize=4, label="observed CLs")
    ax.axhline(alpha, color="red", linewidth=1.5, label=f"CLs = {alpha:g} ({(1 - alpha) * 100:g} % CL)")
    text = []
    if is_number(limit.get("obs")):
        ax.axvline(float(limit["obs"]), color="black", linewidth=1, linestyle=":")
        text.append(f"observed limit {float(limit['obs']):.4g}")
    if isinstance(limit.get("exp"), list) and len(limit["exp"]) == 5:
        e = numbers(limit["exp"], f"{where}: upper_limit.exp")
        text.append(f"expected limit {e[2]:.4g} (+{e[3] - e[2]:.2g} −{e[2] - e[1]:.2g})")
    poi = pretty(doc.get("poi", "mu"))
    ax.set_xlabel(poi)
    ax.set_ylabel("CLs")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"CLs against {poi} ({len(mu)} points)")
    ax.legend(loc="upper right")
    if text:
        note(ax, "\n".join(text), "lower left")
    out.save(fig, "cls_scan")


def plot_scan2d(out, doc, where):
    """`--scan2d`: Δ(−2 ln L) over the grid, with the document's own 68 % and 95 % contours drawn on it."""
    scan = doc.get("scan2d")
    if not isinstance(scan, dict):
        return
    for key in ("parameters", "a_values", "b_values", "delta_2nll"):
        if key not in scan:
            raise RecordError(f"{where}: scan2d lacks '{key}'")
    names = scan["parameters"]
    if not isinstance(names, list) or len(names) != 2:
        raise RecordError(f"{where}: scan2d.parameters must name 2 parameters")
    a = numbers(scan["a_values"], f"{where}: scan2d.a_values")
    b = numbers(scan["b_values"], f"{where}: scan2d.b_values")
    rows = scan["delta_2nll"]
    if not isinstance(rows, list) or len(rows) != len(a):
        raise RecordError(f"{where}: scan2d.delta_2nll must hold one row per value of {names[0]} ({len(a)})")
    grid = np.full((len(a), len(b)), np.nan)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(b):
            raise RecordError(f"{where}: scan2d.delta_2nll[{i}] must hold {len(b)} values (null: a failed fit)")
        for j, v in enumerate(row):
            if v is not None:
                grid[i, j] = number(v, f"{where}: scan2d.delta_2nll[{i}][{j}]")
    fig, ax = plt.subplots()
    shown = np.ma.masked_invalid(np.minimum(grid, 12.0)).T  # rows of the image: values of B
    ax.grid(False)
    mesh = ax.pcolormesh(a, b, shown, shading="nearest", cmap="viridis_r")
    fig.colorbar(mesh, ax=ax, label="−2 Δ ln L (profiled; shown up to 12)")
    styles = {0: ("white", "-"), 1: ("white", "--")}
    for k, contour in enumerate(scan.get("contours") or []):
        if not isinstance(contour, dict) or not isinstance(contour.get("lines"), list):
            raise RecordError(f"{where}: scan2d.contours[{k}] needs 'lines' (polylines of [a, b] points)")
        colour, style = styles.get(k, ("white", ":"))
        cl = number(contour.get("cl", math.nan), f"{where}: scan2d.contours[{k}].cl")
        level = number(contour.get("level", math.nan), f"{where}: scan2d.contours[{k}].level")
        for n, line in enumerate(contour["lines"]):
            pts = np.array([numbers(p, f"{where}: scan2d.contours[{k}].lines[{n}]") for p in line]).reshape(-1, 2)
            ax.plot(pts[:, 0], pts[:, 1], color=colour, linestyle=style, linewidth=1.8,
                    label=f"{cl * 100:.4g} % CL (−2Δln L = {level:.4g})" if n == 0 else None)
    best = doc.get("bestfit") if isinstance(doc.get("bestfit"), dict) else {}
    if is_number(best.get(names[0])) and is_number(best.get(names[1])):
        ax.plot([float(best[names[0]])], [float(best[names[1]])], marker="+", color="red", markersize=12,
                linestyle="none", label="best fit")
    failed = int(np.isnan(grid).sum())
    ax.set_xlabel(pretty(names[0]))
    ax.set_ylabel(pretty(names[1]))
    ax.set_title(f"Profile likelihood in ({pretty(names[0])}, {pretty(names[1])}), {len(a)} × {len(b)} points"
                 + (f", {failed} failed" if failed else ""))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", facecolor="#777777", labelcolor="white")
    out.save(fig, "likelihood_scan2d")


def z_of_p(p):
    """The one-sided significance of a p-value, Φ⁻¹(1 − p) (None for p = 0: more toys are needed)."""
    from statistics import NormalDist
    if p is None or not is_number(p) or not 0.0 < float(p) < 1.0:
        return None
    return NormalDist().inv_cdf(1.0 - float(p))


def plot_significance(out, doc, where):
    """`--significance`: observed Z0 against the expected one's median and ±1σ/±2σ band, per method."""
    result = doc.get("discovery")
    if not isinstance(result, dict):
        return
    rows = [(result.get("method", "asymptotic"), result)]
    if isinstance(result.get("asymptotic"), dict):  # toys: the asymptotic numbers beside them
        rows.append(("asymptotic", result["asymptotic"]))
    fig, ax = plt.subplots(figsize=(6.4, 1.6 + 1.1 * len(rows)))
    for y, (method, r) in enumerate(rows):
        here = f"{where}: discovery" + ("" if y == 0 else ".asymptotic")
        p0_exp = r.get("p0_exp")
        if isinstance(p0_exp, list) and len(p0_exp) == 5:
            p0 = [number(p, f"{here}.p0_exp") for p in p0_exp]
            if method == "toys" and is_number(result.get("toys")):  # 0 and 1 only bound a toy p-value
                n = float(result["toys"])
                p0 = [min(max(p, 0.5 / n), 1.0 - 0.5 / n) for p in p0]
            z = [z_of_p(p) for p in p0]
            if all(v is not None for v in z):  # the band's edges: the −2σ … +2σ quantiles
                ax.fill_betweenx([y - 0.3, y + 0.3], z[0], z[4], color=TWO_SIGMA,
                                 label="expected ±2σ" if y == 0 else None)
                ax.fill_betweenx([y - 0.3, y + 0.3], z[1], z[3], color=ONE_SIGMA,
                                 label="expected ±1σ" if y == 0 else None)
        if is_number(r.get("z_exp")):
            ax.plot([float(r["z_exp"])] * 2, [y - 0.3, y + 0.3], "k--",
                    label="expected Z0 (median)" if y == 0 else None)
        z_obs = r.get("z_obs")
        if is_number(z_obs):
            ax.plot([float(z_obs)], [y], "ko", label="observed Z0" if y == 0 else None)
            ax.annotate(f"{float(z_obs):.3g}σ", (float(z_obs), y), textcoords="offset points", xytext=(6, 6))
        elif z_obs is None and "p0_obs" in r:
            note(ax, f"{method}: p0 = {r['p0_obs']}: no toy as extreme, more toys are needed", "lower right")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([m + (f" ({result.get('toys')} toys)" if m == "toys" else "") for m, _ in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(left=0)
    ax.set_xlabel("discovery significance Z0 (σ)")
    ax.set_title(f"Test of {pretty(doc.get('poi', 'mu'))} = 0")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(rows) == 1 else -0.25), ncol=4,
              fontsize="small")
    out.save(fig, "significance")


def gaussian_pulls(out, values, title, name):
    """Histogram of pulls with the maximum-likelihood Gaussian and N(0, 1) for reference."""
    values = values[np.isfinite(values)]
    if values.size < 5:
        return
    n = values.size
    mean, width = float(values.mean()), float(values.std())
    fig, ax = plt.subplots()
    edge = max(4.0, float(np.max(np.abs(values))) + 0.5)
    bins = np.linspace(-edge, edge, int(min(60, max(10, 2 * math.sqrt(n)))) + 1)
    ax.hist(values, bins=bins, histtype="stepfilled", alpha=0.4, color=COLOURS[0], label=f"pulls (N = {n})")
    grid = np.linspace(-edge, edge, 400)
    scale = n * (bins[1] - bins[0])
    gauss = lambda m, s: scale * np.exp(-0.5 * ((grid - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    if width > 0:
        ax.plot(grid, gauss(mean, width), color=COLOURS[1],
                label=f"Gaussian fit: mean {mean:.3f} ± {width / math.sqrt(n):.3f}\n"
                      f"width {width:.3f} ± {width / math.sqrt(2 * n):.3f}")
    ax.plot(grid, gauss(0.0, 1.0), color="0.3", linestyle="--", label="N(0, 1)")
    ax.set_xlabel("pull")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.35)
    ax.set_ylabel(f"entries / {bins[1] - bins[0]:.2g}")
    ax.set_title(title)
    ax.legend(loc="upper right")
    out.save(fig, name)


def draw_templates(out, channels, title, name):
    """Stacked templates per channel with data (and a band when the record gives one)."""
    for ch in channels:
        samples = ch["samples"]
        n_bins = len(samples[0][1])
        edges = np.arange(n_bins + 1)
        fig, ax = plt.subplots()
        bottom = np.zeros(n_bins)
        for k, (sname, yields) in enumerate(samples):
            ax.stairs(bottom + yields, edges, baseline=bottom, fill=True, color=COLOURS[k % 8], alpha=0.75,
                      label=f"{sname} ({yields.sum():.4g})")
            bottom = bottom + yields
        band = ch.get("uncertainty")
        if band is not None:
            ax.stairs(bottom + band, edges, baseline=bottom - band, fill=False, hatch="////", color="0.3",
                      linewidth=0, label="uncertainty")
        data = ch.get("data")
        if data is not None:
            ax.errorbar(edges[:-1] + 0.5, data, yerr=np.sqrt(np.maximum(data, 0)), fmt="ko", markersize=4,
                        label=f"data ({data.sum():.4g})")
        ax.set_xlabel("bin")
        ax.set_ylabel("events")
        ax.set_title(f"{title}: channel {ch['name']}")
        ax.legend(loc="best")
        out.save(fig, f"{name}_{slug(ch['name'])}")


def templates_from_record(record, where):
    """Channels from {"channels": [{"name", "samples": [{"name", "yields"}], "data", "uncertainty"}]}."""
    channels = []
    for i, ch in enumerate(record.get("channels") or []):
        try:
            samples = [(s["name"], numbers(s["yields"], f"{where}: channels[{i}].samples.yields"))
                       for s in ch["samples"]]
            entry = {"name": ch.get("name", str(i)), "samples": samples}
            for key in ("data", "uncertainty"):
                if key in ch:
                    entry[key] = numbers(ch[key], f"{where}: channels[{i}].{key}")
        except (KeyError, TypeError) as e:
            raise RecordError(f"{where}: channels[{i}] lacks {e} (needs name, samples[{{name, yields}}])") from None
        channels.append(entry)
    return channels


def draw_workspace(out, ws, where):
    observed = {o.get("name"): o.get("data") for o in ws.get("observations") or []}
    channels = []
    for i, ch in enumerate(ws.get("channels") or []):
        samples, stat = [], None
        for s in ch.get("samples") or []:
            if "data" not in s:
                raise RecordError(f"{where}: channels[{i}] sample '{s.get('name')}' has no 'data'")
            samples.append((s.get("name", "?"), numbers(s["data"], f"{where}: {s.get('name')}.data")))
            for m in s.get("modifiers") or []:
                if m.get("type") == "staterror" and isinstance(m.get("data"), list):
                    sq = numbers(m["data"], f"{where}: staterror") ** 2
                    stat = sq if stat is None else stat + sq
        entry = {"name": ch.get("name", str(i)), "samples": samples}
        if stat is not None:
            entry["uncertainty"] = np.sqrt(stat)
        if observed.get(entry["name"]) is not None:
            entry["data"] = numbers(observed[entry["name"]], f"{where}: observations")
        if samples:
            channels.append(entry)
    draw_templates(out, channels, "Pre-fit templates (workspace)", "prefit")


def draw_fit(out, doc, where):
    plot_pulls(out, doc, where)
    plot_impacts(out, doc, where)
    plot_correlation(out, doc, where)
    plot_scan(out, doc, where)
    plot_scan2d(out, doc, where)
    plot_cls_scan(out, doc, where)
    plot_significance(out, doc, where)
    toys = doc.get("toys")
    if isinstance(toys, dict) and isinstance(toys.get("pulls"), list):
        gaussian_pulls(out, numbers([v for v in toys["pulls"] if v is not None], f"{where}: toys.pulls"),
                       f"Toys: pull of {pretty(doc.get('poi', 'mu'))}", "toy_pulls")
    for stage in ("prefit", "postfit"):
        if isinstance(doc.get(stage), dict):
            draw_templates(out, templates_from_record(doc[stage], f"{where}: {stage}"),
                           f"{stage[:-3].capitalize()}-fit templates", stage)


def is_fit_document(doc):
    keys = ("bestfit", "upper_limit", "cls_scan", "impacts", "scan", "scan2d", "discovery", "correlation",
            "prefit", "postfit")
    return isinstance(doc, dict) and any(k in doc for k in keys)


# ---------------------------------------------------------------------------------------------
# Examples' results: λ scans, bias tables, pull lists (found anywhere in a JSON or CSV record)
# ---------------------------------------------------------------------------------------------
SCAN_KEYS = ("lambda", "lam", "λ", "alpha", "alpha_adv", "ratio")
BOOKKEEPING_KEYS = ("epochs", "seconds", "failed_fits", "datasets", "seed")  # not drawn against λ
ERROR_SUFFIXES = ("_err", "_error", "_uncertainty", "_unc", "_sigma")


def panel_of(key):
    for word, panel in (("relative_uncertainty", "relative uncertainty"), ("auc", "AUC"), ("ks", "K-S distance"), ("purity", "purity"),
                        ("significance", "significance"), ("ams", "significance"),
                        ("delta_mu", "Δμ/μ"), ("dmu", "Δμ/μ"), ("sigma_mu", "Δμ/μ"), ("bias", "bias"),
                        ("width", "pull width"), ("mean", "pull mean")):
        if re.search(rf"(^|_){word}(_|$)", key):
            return panel
    return pretty(key)


def is_error_of_another(key, row):
    """purity_err is the error bar of purity; purity_relative_uncertainty alone is a quantity."""
    return any(key.endswith(s) and key[: -len(s)] in row for s in ERROR_SUFFIXES)


def series_column(rows, scan_key):
    """A text or true/false column that splits the rows into a few series (DANN's domain weights,
    with/without replacement): 2 to len(rows) / 2 distinct values, each seen at several scan points."""
    for k in rows[0]:
        values = [r.get(k) for r in rows]
        if k == scan_key or not all(isinstance(v, (str, bool)) for v in values):
            continue
        distinct = set(values)
        if 2 <= len(distinct) <= len(rows) // 2:
            return k
    return None


def series_label(key, value):
    if isinstance(value, bool):
        return f"{pretty(key)}" if value else f"no {pretty(key)}"
    return f"{pretty(key)} {value}"


def plot_parameter_scan(out, rows, scan_key, title, name):
    keys = [k for k in rows[0] if k != scan_key and not is_error_of_another(k, rows[0])
            and k not in BOOKKEEPING_KEYS and all(is_number(r.get(k)) for r in rows)]
    if not keys or len(rows) < 2:
        return
    group = series_column(rows, scan_key)
    groups = list(dict.fromkeys(r[group] for r in rows)) if group else [None]
    panels = []
    for k in keys:
        if panel_of(k) not in panels:
            panels.append(panel_of(k))
    cols = 2 if len(panels) > 1 else 1
    rows_n = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(6.0 * cols, 3.8 * rows_n), squeeze=False, sharex=True)
    x_all = np.array([float(r[scan_key]) for r in rows])
    markers = ("o", "s", "^", "D", "v", "P")
    for ax, panel in zip(axes.flat, panels):
        for g, value in enumerate(groups):
            subset = [r for r in rows if group is None or r[group] == value]
            x = np.array([float(r[scan_key]) for r in subset])
            order = np.argsort(x, kind="stable")
            for k in [k for k in keys if panel_of(k) == panel]:
                y = np.array([number(r[k], f"{title}: {k}") for r in subset])[order]
                err = next((e for e in (k + s for s in ERROR_SUFFIXES) if e in rows[0]), None)
                yerr = np.array([float(r.get(err, 0)) for r in subset])[order] if err else None
                label = pretty(k) if group is None else f"{pretty(k)} ({series_label(group, value)})"
                ax.errorbar(x[order], y, yerr=yerr, marker=markers[g % len(markers)], markersize=4,
                            capsize=3, linestyle="-" if g == 0 else "--", label=label)
        ax.set_ylabel(panel)
        ax.legend(loc="best", fontsize="small")
        x = x_all
        if x.min() >= 0 and x.max() > 0 and x[x > 0].size and x.max() / x[x > 0].min() > 100:
            ax.set_xscale("symlog", linthresh=x[x > 0].min())
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(pretty(scan_key))
    fig.suptitle(f"{title} ({len(rows)} points)")
    out.save(fig, name)


def bias_rows_by_model(rows, where):
    """Rows with `bias` an object {model: value} (examples/adnn's results.json): one row per model,
    grouped by the row's method and settings, e.g. "ADNN α 10 k 5"."""
    flat = []
    for i, r in enumerate(rows):
        label = str(r.get("method", f"row {i}"))
        if label.upper() != "DNN":  # the plain classifier has no adversary settings
            for k, short in (("alpha", "α"), ("lambda", "λ"), ("adversary_steps", "k")):
                if is_number(r.get(k)):
                    label += f" {short} {float(r[k]):g}"
        for model, value in r["bias"].items():
            flat.append({"model": model, "method": label, "bias": number(value, f"{where}[{i}].bias.{model}")})
    return flat


def plot_bias_table(out, rows, title, name):
    category = next((k for k in ("model", "signal_model", "name", "sample") if k in rows[0]), None)
    group = next((k for k in ("method", "classifier", "network") if k in rows[0]), None)
    values = [k for k in rows[0] if "bias" in k and not is_error_of_another(k, rows[0]) and is_number(rows[0][k])]
    if category is None or not values:
        return
    models = list(dict.fromkeys(str(r[category]) for r in rows))
    series = {}  # series name -> (model -> (value, error))
    for r in rows:
        for k in values:
            label = f"{r[group]}" if group else pretty(k)
            if group and len(values) > 1:
                label += f" {pretty(k)}"
            err = next((r[e] for e in (k + s for s in ERROR_SUFFIXES) if is_number(r.get(e))), 0.0)
            series.setdefault(label, {})[str(r[category])] = (float(r[k]), float(err))
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.0 + 0.9 * len(models) * len(series) ** 0.5), 5.0))
    for k, (label, by_model) in enumerate(series.items()):
        xs = np.arange(len(models)) + (k - (len(series) - 1) / 2) * width
        ys = [by_model.get(m, (math.nan, 0))[0] for m in models]
        es = [by_model.get(m, (math.nan, 0))[1] for m in models]
        ax.bar(xs, ys, width=width, yerr=es, capsize=3, color=COLOURS[k % 8], label=label)
    ax.axhline(0, color="black", linewidth=1)
    ax.set_xticks(np.arange(len(models)))
    ax.set_xticklabels(models, rotation=30 if len(models) > 5 else 0, ha="right" if len(models) > 5 else "center")
    ax.set_xlabel(category.replace("_", " "))
    ax.set_ylabel("bias (μ̂ − μ̃) / μ̃")
    ax.set_title(title)
    ax.legend(loc="best")
    out.save(fig, name)


def without_repeats(name):
    """pulls_pulls_with_replacement -> pulls_with_replacement: a key that repeats its parent's word."""
    words = name.split("_")
    return "_".join(w for k, w in enumerate(words) if k == 0 or w != words[k - 1])


def draw_results(out, record, path_name, found):
    """Walks a results record and draws every λ scan, bias table and pull list it holds."""
    def visit(node, trail):
        label = " / ".join(trail) or path_name
        stem = slug("_".join(trail)) if trail else ""
        suffix = f"_{stem}" if stem else ""
        if isinstance(node, list) and node and all(isinstance(r, dict) for r in node):
            scan_key = next((k for k in SCAN_KEYS if all(is_number(r.get(k)) for r in node)), None)
            if all(isinstance(r.get("bias"), dict) for r in node):
                found.append(label)
                plot_bias_table(out, bias_rows_by_model(node, label), f"Bias per model: {label}", f"bias{suffix}")
            elif scan_key:
                found.append(label)
                plot_parameter_scan(out, node, scan_key, f"Scan of {pretty(scan_key)}: {label}",
                                    f"{slug(scan_key)}_scan{suffix}")
                for r in node:  # records inside each point (004: a run's nominal/up/down histograms)
                    for k, v in r.items():
                        if isinstance(v, dict):
                            visit(v, trail + [f"{scan_key}_{float(r[scan_key]):g}", str(k)])
            elif any("bias" in k for k in node[0]):
                found.append(label)
                plot_bias_table(out, node, f"Bias per model: {label}", f"bias{suffix}")
            elif all(is_number(r.get("pull")) and "name" not in r for r in node):
                found.append(label)
                gaussian_pulls(out, np.array([float(r["pull"]) for r in node]), f"Pulls: {label}", f"pulls{suffix}")
        elif isinstance(node, list) and trail and re.search(r"pull", trail[-1]) and any(is_number(v) for v in node) \
                and not any(isinstance(v, (dict, list)) for v in node):
            found.append(label)  # null entries (failed fits) are left out; any other non-number is an error
            gaussian_pulls(out, np.array([number(v, f"{label}[{i}]") for i, v in enumerate(node) if v is not None]),
                           f"Pull distribution: {label}", without_repeats(f"pulls{suffix}"))
        elif isinstance(node, dict):
            if isinstance(node.get("nominal"), list) and (isinstance(node.get("up"), list)
                                                          or isinstance(node.get("down"), list)):
                found.append(label)
                draw_histogram_systematic(out, node, label, f"systematic{suffix}")
                return
            for k, v in node.items():
                visit(v, trail + [str(k)])
    visit(record, [])


def draw_histogram_systematic(out, node, label, name):
    where = label
    nominal = numbers(node["nominal"], f"{where}.nominal")
    up = numbers(node["up"], f"{where}.up") if "up" in node else None
    down = numbers(node["down"], f"{where}.down") if "down" in node else None
    edges = node.get("edges") or node.get("bins")
    bins = numbers(edges, f"{where}.edges") if isinstance(edges, list) else np.arange(nominal.size + 1, dtype=float)
    for v, key in ((up, "up"), (down, "down")):
        if v is not None and v.size != nominal.size:
            raise RecordError(f"{where}: '{key}' has {v.size} bins, 'nominal' has {nominal.size}")
    if bins.size != nominal.size + 1:
        raise RecordError(f"{where}: 'edges' needs {nominal.size + 1} values, got {bins.size}")
    fig, ax = plt.subplots()
    plot_systematic_band(ax, bins, nominal, up, down, f"{node.get('name', label)}: nominal, up and down")
    add_ratio(fig, ax, bins, nominal, up, down).set_xlabel(node.get("xlabel", "classifier output"))
    out.save(fig, name)


# ---------------------------------------------------------------------------------------------
# Decorrelation against a variable (docs/decorrelation.md): the sculpting figure of one run and the
# trade-off 1/JSD against R50 of a set of runs
# ---------------------------------------------------------------------------------------------
def decorrelation_field(section, key, where):
    if key not in section:
        raise RecordError(f"{where}: decorrelation has no key '{key}' (docs/decorrelation.md, Outputs)")
    return section[key]


def variable_column(section, columns):
    """predictions.csv's column of the decorrelation variable (docs/decorrelation.md, Outputs)."""
    name = section.get("variable")
    if not isinstance(name, str):
        return None
    if name in ("label", "weight") or name.startswith("score"):
        name = "decorrelation_variable"
    return name


def plot_sculpting(out, predictions_path, summary, summary_path):
    """The background's variable before and after the cuts at 30, 50, 70 % signal efficiency."""
    section = summary.get("decorrelation") if isinstance(summary, dict) else None
    if not isinstance(section, dict):
        return
    where = f"{summary_path}: decorrelation"
    cuts = decorrelation_field(section, "cuts", summary_path)
    variable = decorrelation_field(section, "variable", summary_path)
    columns = read_csv_columns(predictions_path)
    column = variable_column(section, columns)
    if column not in columns:
        raise RecordError(f"{predictions_path}: column '{column}' is missing (the decorrelation variable "
                          f"'{variable}' of {summary_path}; columns: {', '.join(columns)})")
    p = Predictions(predictions_path)
    values = numeric_column(columns, column, predictions_path)
    score = p.binary_score()
    if score is None:  # softmax: the score class is the last class (docs/decorrelation.md)
        score = p.scores[p.score_names[-1]]
        signal_class = len(p.score_names) - 1
    else:
        signal_class = 1
    classes = section.get("classes", [0])
    background = np.isin(p.label, [c for c in classes if c != signal_class])
    if background.sum() < 2:
        raise RecordError(f"{predictions_path}: fewer than 2 background events (classes {classes})")
    m, w, s = values[background], p.weight[background], score[background]
    lo, hi = float(np.min(m)), float(np.max(m))
    bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 41)
    fig, ax = plt.subplots()
    weighted_hist(ax, m, w, bins, f"all background: N = {m.size}, Σw = {w.sum():.4g}", color="black")
    for k, cut in enumerate(cuts):
        at = f"{where}.cuts[{k}]"
        if not isinstance(cut, dict):
            raise RecordError(f"{at}: expected an object with 'signal_efficiency' and 'threshold'")
        for key in ("signal_efficiency", "threshold"):
            if key not in cut:
                raise RecordError(f"{at} has no key '{key}'")
        efficiency = number(cut["signal_efficiency"], f"{at}.signal_efficiency")
        threshold = number(cut["threshold"], f"{at}.threshold")
        # predictions.csv holds the scores to 8 digits, the threshold is in double: a relative margin
        passing = s >= threshold - 1e-6 * abs(threshold)
        expected = cut.get("background_efficiency")
        if is_number(expected) and w.sum() > 0:  # predictions.csv and summary.json of the same run agree
            found = float(w[passing].sum() / w.sum())
            if abs(found - number(expected, at + ".background_efficiency")) > float(np.max(np.abs(w)) / w.sum()):
                print(f"agnostic plot: warning: {predictions_path}: the background efficiency at "
                      f"{100 * efficiency:.0f} % signal efficiency is {found:.6g}, {summary_path} says "
                      f"{number(expected, at + '.background_efficiency'):.6g} (files of different runs?)",
                      file=sys.stderr)
        rejection = cut.get("background_rejection")
        jsd = cut.get("jsd")
        text = f"pass at ε_S = {100 * efficiency:.0f} %: N = {passing.sum()}"
        if is_number(rejection):
            text += f", R = {number(rejection, at + '.background_rejection'):.3g}"
        if is_number(jsd):
            text += f", 1/JSD = {1.0 / number(jsd, at + '.jsd'):.3g}" if number(jsd, at + '.jsd') > 0 else ""
        colour = COLOURS[k % 8]
        weighted_hist(ax, m[passing], w[passing], bins, text, color=colour)
        if abs(efficiency - 0.5) < 1e-9:
            weighted_hist(ax, m[~passing], w[~passing], bins, f"fail at ε_S = 50 %: N = {(~passing).sum()}",
                          color=colour, linestyle="--")
    ax.set_xlabel(variable)
    ax.set_ylabel("normalised to unit area")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.legend(loc="upper right")
    label = method_label(section)
    if not label.startswith("plain"):
        label += f", λ = {number(section.get('strength', 'nan'), where + '.strength'):g}"
    ax.set_title(f"Background {variable} before and after the cut ({label})")
    out.save(fig, "sculpting")


def method_label(section):
    """DisCo, MoDe (order n, mean), flatness; a strength of 0 is the plain classifier."""
    strength = section.get("strength")
    if is_number(strength) and float(strength) == 0.0:
        return "plain (λ = 0)"
    method = str(section.get("method", "?"))
    label = {"disco": "DisCo", "mode": "MoDe", "flatness": "flatness"}.get(method, method)
    if method == "mode":
        if section.get("order", 0) not in (0, None):
            label += f" order {section['order']}"
        if section.get("moment") == "mean":
            label += " (mean)"
    return label


def trade_off_point(path):
    """(method label, strength, R50, 1/JSD) of a run directory or its summary.json."""
    summary_path = os.path.join(path, "summary.json") if os.path.isdir(path) else path
    if not os.path.isfile(summary_path):
        raise RecordError(f"{summary_path}: no such file (the trade-off reads each run's summary.json)")
    summary = read_json(summary_path)
    section = summary.get("decorrelation") if isinstance(summary, dict) else None
    if not isinstance(section, dict):
        raise RecordError(f"{summary_path}: no key 'decorrelation' (the run was trained without a "
                          "\"decorrelation\" section; docs/decorrelation.md)")
    where = f"{summary_path}: decorrelation"
    r50 = number(decorrelation_field(section, "background_rejection_at_50", summary_path),
                 f"{where}.background_rejection_at_50")
    inverse_jsd = number(decorrelation_field(section, "inverse_jsd_at_50", summary_path),
                         f"{where}.inverse_jsd_at_50")
    strength = number(decorrelation_field(section, "strength", summary_path), f"{where}.strength")
    return method_label(section), strength, r50, inverse_jsd


def plot_trade_off(out, paths):
    """1/JSD against R50, one point per run, a line through the medians over runs of each method.
    A directory without summary.json (such as a plots/ directory caught by a wildcard) is skipped."""
    runs = []
    for p in paths:
        if os.path.isdir(p) and not os.path.isfile(os.path.join(p, "summary.json")):
            print(f"agnostic plot: {p}: not a run (no summary.json), skipped", file=sys.stderr)
        else:
            runs.append(p)
    if not runs:
        raise RecordError(f"{paths[0]}: no summary.json in any PATH (--trade-off reads each run's summary.json)")
    points = [trade_off_point(p) for p in runs]
    finite = [q for q in points if math.isfinite(q[2]) and math.isfinite(q[3]) and q[2] > 0 and q[3] > 0]
    if not finite:
        raise RecordError(f"{paths[0]}: no run with a finite R50 and 1/JSD to draw")
    methods = sorted({q[0] for q in finite}, key=lambda m: (not m.startswith("plain"), m))
    markers = ["*", "o", "s", "^", "D", "v", "P", "X"]
    fig, ax = plt.subplots()
    for k, method in enumerate(methods):
        colour, marker = COLOURS[k % 8], markers[k % len(markers)]
        mine = [q for q in finite if q[0] == method]
        ax.scatter([q[2] for q in mine], [q[3] for q in mine], color=colour, marker=marker, alpha=0.45,
                   s=70 if marker == "*" else 30, edgecolors="none")
        medians = []
        for strength in sorted({q[1] for q in mine}):
            at = [q for q in mine if q[1] == strength]
            medians.append((strength, float(np.median([q[2] for q in at])), float(np.median([q[3] for q in at])),
                            len(at)))
        counts = sorted({c for *_, c in medians})
        runs = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        ax.plot([m[1] for m in medians], [m[2] for m in medians], color=colour, marker=marker,
                markersize=11 if marker == "*" else 7, label=f"{method} ({runs} runs per λ)")
        for strength, r50, inverse_jsd, _ in medians:
            if not method.startswith("plain"):
                ax.annotate(f"λ={strength:g}", (r50, inverse_jsd), textcoords="offset points", xytext=(5, 4),
                            fontsize=8, color=colour)
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_numbers = plt.FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain_numbers)
        axis.set_minor_formatter(plain_numbers)
    ax.set_xlabel("background rejection at 50 % signal efficiency, R50")
    ax.set_ylabel("1 / JSD at 50 % signal efficiency")
    ax.set_title("Decorrelation trade-off (held-out events)")
    skipped = len(points) - len(finite)
    note(ax, f"{len(finite)} runs (faint), medians per λ (lines)"
         + (f"; {skipped} with an infinite R50 or 1/JSD not drawn" if skipped else ""), "lower left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    out.save(fig, "trade_off")


# ---------------------------------------------------------------------------------------------
# Dispatch: what a PATH is, and where its figures go
# ---------------------------------------------------------------------------------------------
def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise RecordError(f"{path}: not valid JSON ({e})") from None


SKIPPED_IN_RUN_DIRS = {"model.json", "config.json", "checkpoint.json", "summary.json"}


def draw_path(path, out):
    """Draws every figure a PATH allows; returns the number of figures written."""
    before = len(out.written)
    if os.path.isdir(path):
        summary = read_json(os.path.join(path, "summary.json")) if os.path.isfile(
            os.path.join(path, "summary.json")) else {}
        history = os.path.join(path, "history.json")
        if os.path.isfile(history):
            draw_history(out, read_json(history), history)
        predictions = os.path.join(path, "predictions.csv")
        if os.path.isfile(predictions):
            draw_predictions(out, predictions, summary)
            plot_sculpting(out, predictions, summary, os.path.join(path, "summary.json"))
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if name.endswith(".json") and name not in SKIPPED_IN_RUN_DIRS and name != "history.json" \
                    and ".tmp." not in name and os.path.isfile(full):
                draw_file(full, out)
    else:
        draw_file(path, out)
    return len(out.written) - before


def draw_file(path, out):
    name = os.path.basename(path)
    if path.endswith(".csv"):
        columns = read_csv_columns(path)
        if "label" in columns and any(c == "score" or c.startswith("score_") for c in columns):
            summary_path = os.path.join(os.path.dirname(path), "summary.json")
            summary = read_json(summary_path) if os.path.isfile(summary_path) else {}
            draw_predictions(out, path, summary)
            plot_sculpting(out, path, summary, summary_path)
            return
        rows = [dict(zip(columns, values)) for values in zip(*columns.values())]
        for r in rows:
            for k, v in r.items():
                try:
                    r[k] = float(v)
                except ValueError:
                    pass
        draw_results(out, rows, name, [])
        return
    doc = read_json(path)
    if isinstance(doc, dict) and isinstance(doc.get("epochs"), list):
        draw_history(out, doc, path)
    elif isinstance(doc, dict) and "channels" in doc and "observations" in doc:
        draw_workspace(out, doc, path)
    elif is_fit_document(doc):
        draw_fit(out, doc, path)
        rest = {k: v for k, v in doc.items() if k not in ("scan", "cls_scan", "impacts", "toys", "prefit", "postfit")}
        draw_results(out, rest, name, [])
    else:
        draw_results(out, doc, name, [])


def default_output(path):
    path = os.path.normpath(path)
    if os.path.isdir(path):
        return os.path.join(path, "plots")
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.join(os.path.dirname(path) or ".", f"{stem}-plots")


def draw_trade_off(args):
    """`--trade-off`: one figure from all the PATHs; exit code 1 when a PATH cannot be read."""
    missing = [p for p in args.paths if not os.path.exists(p)]
    for p in missing:
        print(f"agnostic plot: {p}: no such file or directory", file=sys.stderr)
    if missing:
        return 1
    parents = [os.path.dirname(os.path.normpath(p)) or "." for p in args.paths]
    out = Figures(args.output or os.path.join(os.path.commonpath([os.path.abspath(p) for p in parents]), "plots"),
                  args.format)
    try:
        plot_trade_off(out, args.paths)
    except RecordError as e:
        print(f"agnostic plot: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv):
    parser = argparse.ArgumentParser(
        prog="agnostic plot",
        description="Draws every figure the records allow and prints the files written (docs/plot.md). "
                    "PATH: a training output directory, a JSON document from `agnostic fit`, a pyhf "
                    "workspace, or an example's results file (JSON or CSV).")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--output", metavar="DIR",
                        help="directory for the figures (default: PATH/plots for a directory, "
                             "NAME-plots next to a file; with several PATHs, one subdirectory each)")
    parser.add_argument("--format", choices=("png", "pdf", "svg"), default="png")
    parser.add_argument("--trade-off", action="store_true",
                        help="the PATHs are decorrelation runs (directories or their summary.json): draw only "
                             "their trade-off 1/JSD against R50, trade_off, into DIR (default: plots/ in the "
                             "PATHs' common parent directory)")
    args = parser.parse_args(argv)

    global np, plt
    try:
        import numpy
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot
    except ImportError as e:
        print(f"agnostic plot: {e}\n{INSTALL_HINT}", file=sys.stderr)
        return 3
    np, plt = numpy, matplotlib.pyplot
    apply_style()

    if args.trade_off:
        return draw_trade_off(args)
    failed = 0
    for path in args.paths:
        if not os.path.exists(path):
            print(f"agnostic plot: {path}: no such file or directory", file=sys.stderr)
            failed += 1
            continue
        directory = args.output or default_output(path)
        if args.output and len(args.paths) > 1:
            directory = os.path.join(args.output, slug(os.path.splitext(os.path.basename(os.path.normpath(path)))[0]))
        out = Figures(directory, args.format)
        try:
            count = draw_path(path, out)
        except RecordError as e:
            message = str(e)  # every message names the file: records found deep inside one do not
            if path not in message and os.path.basename(path) not in message:
                message = f"{path}: {message}"
            print(f"agnostic plot: {message}", file=sys.stderr)
            failed += 1
            continue
        except (OSError, KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            if os.environ.get("AGNOSTIC_PLOT_DEBUG"):
                raise
            print(f"agnostic plot: {path}: cannot read the record ({type(e).__name__}: {e}); "
                  "see docs/plot.md for the formats (AGNOSTIC_PLOT_DEBUG=1 shows where it failed)",
                  file=sys.stderr)
            failed += 1
            continue
        if count == 0:
            print(f"agnostic plot: {path}: nothing to draw (no record this script knows; see docs/plot.md)",
                  file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
