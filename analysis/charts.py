"""Charts of round results: matplotlib Figures built with the object API, never ``pyplot``.

Each ``*_chart`` function takes plain data (lists of mappings, nested lists or a tidy
DataFrame) plus the text to print, already in the reader's language, and returns a
:class:`matplotlib.figure.Figure`. Nothing here knows about HTTP, caching or translation
catalogues: ``app/charts.py`` turns a Figure into SVG, and the caller passes the words (axis
titles, legend entries, alt-text templates) in ``labels``, a mapping whose English defaults
are :data:`DEFAULT_LABELS`. :func:`chart_alt_text` describes a chart in the same words, and
the ``*_chart_inputs`` helpers turn sections of ``analysis.results.RoundResults.to_dict()``
into a chart's keyword arguments in one language.

Design rules (statistics.md A12): colour-blind-safe colours (Okabe-Ito for categories,
ColorBrewer ``RdBu`` for low..high, red = low), neutral greys for "don't know" and for
suppressed cells, suppressed figures never drawn (not even when a number is passed by
mistake), figures 7.5 in wide (540 pt, i.e. 720 CSS px in an SVG) with text of 9 pt or more,
no chart junk (no frames, light grids only on the value axis). Every chart function takes
``screen=`` (:data:`SCREENS`): ``"page"`` draws the 7.5 in figure above, ``"slide"`` a 16:9
figure for a projector and ``"phone"`` a narrow, tall one, each with text sizes that read at
least 14 CSS px where the figure is shown. Every number is formatted here
with ``labels["decimal"]`` so Indonesian readers get ``3,8``, rounded half up by the one rule
of :func:`analysis.language.round_half_up` (3.25 reads 3.3 here as in the sentences and the
tables). Text on a coloured cell is black, dark grey or white, whichever has the highest WCAG
contrast ratio against that cell (:func:`text_colour_on`), at least 4.5:1 on every colour.
Style settings are applied through a local ``matplotlib.rc_context`` while a figure is built;
global ``rcParams`` are never touched.
"""

from __future__ import annotations

import math
import textwrap
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from types import MappingProxyType
from typing import Any, Literal, cast

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory, offset_copy

from analysis.language import round_half_up

__all__ = [
    "ALT_TEXT_KINDS",
    "DEFAULT_LABELS",
    "OKABE_ITO",
    "SCREENS",
    "Screen",
    "chart_alt_text",
    "contrast_ratio",
    "diverging_likert_chart",
    "heatmap_chart",
    "heatmap_chart_inputs",
    "likert_chart_inputs",
    "matplotlib_lock",
    "over_time_chart",
    "over_time_chart_inputs",
    "partner_scores_chart",
    "rating_matrix_chart",
    "rating_matrix_chart_inputs",
    "relative_luminance",
    "score_chart_inputs",
    "screen_of",
    "text_colour_on",
]

#: Okabe & Ito (2008) colour-blind-safe qualitative palette, ordered for lines on white
#: (yellow last: it is too light for thin lines).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "h")  # redundant with colour for CVD readers

FIG_WIDTH = 7.5  # inches: 540 pt, 720 CSS px in an SVG, still legible at half size
_DIVERGING = "RdBu"  # ColorBrewer, colour-blind safe; low = red, high = blue
_INK = "#1A1A1A"
_GREY_TEXT = "#595959"  # 7:1 contrast on white
_GREY_RULE = "#BDBDBD"
_GREY_GRID = "#E6E6E6"
_SUPPRESSED_FILL = "#EFEFEF"
_EMPTY_FILL = "#FFFFFF"  # no answers at all: blank, not hatched (nothing is hidden)
_SUPPRESSED_HATCH = "#A8A8A8"
_NEUTRAL = "#D0D0D0"  # middle category of a Likert scale
_DONT_KNOW = "#8C8C8C"  # "don't know": a darker grey, always in its own panel
_OVERALL = "#000000"

_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Liberation Sans", "sans-serif"],
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.labelcolor": _GREY_TEXT,
    "axes.edgecolor": _GREY_RULE,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10.5,
    "xtick.color": _GREY_TEXT,
    "ytick.color": _INK,
    "legend.fontsize": 9.5,
    "legend.frameon": False,
    "text.color": _INK,
    "text.parse_math": False,  # partner names may contain "$"; never read them as TeX
    "hatch.linewidth": 0.7,
    "hatch.color": _SUPPRESSED_HATCH,
    "figure.facecolor": "white",
    "svg.fonttype": "none",
}
_SMALL = 9.0  # the smallest text on any chart, in points
_BOLD_EM = 0.75  # width of a bold digit or mark in DejaVu Sans Bold, em, rounded up
NBSP = "\u00a0"
_VALUE_GAP = 6.0  # points between the axes and a printed value, and between value and n


@dataclass(frozen=True)
class Screen:
    """Where a chart is shown, and so how big it is drawn.

    A figure is written as SVG at its natural size (1 in = 96 CSS px) and every text size is
    scaled by ``font_scale`` from the page's (9 pt = 12 px smallest). A chart shown at about
    its natural width then prints its smallest text at ``9 * font_scale * 4 / 3`` CSS px.
    ``aspect`` fixes the height (height / width) for a screen of fixed shape; without it the
    height follows the content, scaled with the text.
    """

    name: str
    width: float  # inches
    font_scale: float
    aspect: float | None = None

    def chars(self, page_chars: float) -> int:
        """How many characters fit where ``page_chars`` fit on the page figure."""
        return max(4, int(page_chars * self.width / FIG_WIDTH / self.font_scale))


#: The screens a chart is drawn for. ``page``: the results pages and the printed report (7.5
#: in). ``slide``: a 1280x720 projector, 16:9 at 960x540 CSS px with the smallest text 15 px.
#: ``phone``: about 330 CSS px wide in the hand, narrow and tall; the 4 in figure is shown
#: at about 0.85 of its natural size, so its smallest text (13 pt, 17.4 px) reads >= 14 px.
SCREENS: Mapping[str, Screen] = MappingProxyType({
    "page": Screen("page", FIG_WIDTH, 1.0),
    "slide": Screen("slide", 10.0, 1.25, aspect=9 / 16),
    "phone": Screen("phone", 4.0, 1.45),
})
_SCREEN: ContextVar[Screen] = ContextVar("chart_screen", default=SCREENS["page"])
_FONT_KEYS = ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
              "ytick.labelsize", "legend.fontsize")


def _screen() -> Screen:
    return _SCREEN.get()


def _pt(size: float) -> float:
    """Scale a page text size (points) for the screen being drawn for."""
    return size * _SCREEN.get().font_scale


def _chars(page_chars: float) -> int:
    return _SCREEN.get().chars(page_chars)


def screen_of(name: Any) -> Screen:
    """Return the :class:`Screen` called ``name``; ValueError for any other value."""
    if not isinstance(name, str) or name not in SCREENS:
        raise ValueError(f"screen must be one of {sorted(SCREENS)}, got {name!r}")
    return SCREENS[name]


def _for_screen(chart: Callable[..., Figure]) -> Callable[..., Figure]:
    """Let a chart function take ``screen=``: it draws under that screen's sizes."""

    @wraps(chart)
    def drawn(*args: Any, screen: str = "page", **kwargs: Any) -> Figure:
        token = _SCREEN.set(screen_of(screen))
        try:
            return chart(*args, **kwargs)
        finally:
            _SCREEN.reset(token)

    return drawn

#: English defaults for every word a chart or its text alternative prints. Pass a mapping
#: with some or all of these keys (translated) as ``labels``; ``{...}`` placeholders are
#: filled in by the chart.
DEFAULT_LABELS: Mapping[str, str] = MappingProxyType({
    "score": "Mean score",
    "mean": "Mean",
    "ci": "95% confidence interval",
    "overall": "Partnership as a whole",
    "suppressed": "hidden to protect anonymity",
    "no_data": "no responses",
    "n": "n = {n}",
    "percent": "{value}%",
    "percent_valid": "% of valid answers",
    "percent_all": "% of all answers",
    "round": "Round",
    "rater": "Rated by",
    "ratee": "Partner rated",
    "gap_note": "A gap in a line: that round's figure is hidden to protect anonymity.",
    "decimal": ".",
    "alt_scores": "Mean scores on a {min} to {max} scale with 95% confidence intervals: {items}.",
    "alt_heatmap": "Mean scores on a {min} to {max} scale. {items}.",
    "alt_rating": "How each partner rated the others, on a {min} to {max} scale. {items}.",
    "alt_likert": "Answers as a share of valid answers. {items}.",
    "alt_over_time": "Mean score per round on a {min} to {max} scale. {items}.",
})


# --------------------------------------------------------------------------- validation


def _words(labels: Mapping[str, str] | None) -> dict[str, str]:
    """Merge the caller's words over the defaults, refusing unknown keys (likely typos)."""
    words = dict(DEFAULT_LABELS)
    if labels is None:
        return words
    if not isinstance(labels, Mapping):
        raise TypeError(f"labels must be a mapping of str to str, got {type(labels).__name__}")
    unknown = sorted(str(key) for key in labels if key not in DEFAULT_LABELS)
    if unknown:
        raise ValueError(f"labels has unknown keys {unknown}; known: {sorted(DEFAULT_LABELS)}")
    for key, value in labels.items():
        if not isinstance(value, str):
            raise TypeError(f"labels[{key!r}] must be a str, got {type(value).__name__}")
        words[key] = value
    return words


def _fill(template: str, key: str, **values: Any) -> str:
    """Fill a template's ``{placeholders}``, naming the label when a translation is broken."""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(
            f"labels[{key!r}] = {template!r} cannot be filled with {sorted(values)}: {error}"
        ) from None


def _check_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def _check_texts(values: Any, name: str, length: int | None = None) -> list[str]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | pd.Index):
        raise TypeError(f"{name} must be a sequence of str, got {type(values).__name__}")
    out = [_check_text(v, f"{name}[{i}]") for i, v in enumerate(values)]
    if length is not None and len(out) != length:
        raise ValueError(f"{name} has {len(out)} entries, expected {length}")
    return out


def _check_scale(scale_min: Any, scale_max: Any) -> tuple[float, float]:
    for name, value in (("scale_min", scale_min), ("scale_max", scale_max)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise TypeError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
    if not scale_min < scale_max:
        raise ValueError(f"scale_min ({scale_min}) must be below scale_max ({scale_max})")
    return float(scale_min), float(scale_max)


def _optional_number(value: Any, name: str) -> float | None:
    """None, NaN and pandas' NA all mean "no number"; anything else must be a finite number."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a number or None, got {value!r}")
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _optional_count(value: Any, name: str) -> int | None:
    number = _optional_number(value, name)
    if number is None:
        return None
    if number < 0 or number != int(number):
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(number)


def _flag(value: Any, name: str) -> bool:
    """Read a yes/no field; missing (None, NaN from a DataFrame column with gaps) means no."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return False
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def _in_scale(value: float | None, lo: float, hi: float, name: str) -> None:
    if value is not None and not lo - 1e-9 <= value <= hi + 1e-9:
        raise ValueError(f"{name} = {value} lies outside the scale [{lo:g}, {hi:g}]")


def _records(data: Any, name: str) -> list[Mapping[str, Any]]:
    if isinstance(data, pd.DataFrame):
        return cast("list[Mapping[str, Any]]", data.to_dict("records"))
    if isinstance(data, str | bytes | Mapping) or not isinstance(data, Sequence):
        raise TypeError(f"{name} must be a list of mappings or a DataFrame, got {type(data)}")
    for i, row in enumerate(data):
        if not isinstance(row, Mapping):
            raise TypeError(f"{name}[{i}] must be a mapping, got {type(row).__name__}")
    return list(data)


def _matrix(data: Any, name: str, shape: tuple[int, int]) -> list[list[float | None]]:
    """Read a rows x columns grid of numbers, None/NaN for an empty or suppressed cell."""
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy(dtype=object).tolist()
    elif isinstance(data, np.ndarray):
        data = data.tolist()
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        raise TypeError(f"{name} must be a list of rows, got {type(data).__name__}")
    if len(data) != shape[0]:
        raise ValueError(f"{name} has {len(data)} rows, expected {shape[0]}")
    grid = []
    for i, row in enumerate(data):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence | np.ndarray):
            raise TypeError(f"{name}[{i}] must be a list of numbers")
        if len(row) != shape[1]:
            raise ValueError(f"{name}[{i}] has {len(row)} cells, expected {shape[1]}")
        grid.append([_optional_number(v, f"{name}[{i}][{j}]") for j, v in enumerate(row)])
    return grid


# --------------------------------------------------------------------------- formatting


def _number(value: float, words: Mapping[str, str], decimals: int = 1) -> str:
    text = format(round_half_up(value, decimals), "f")
    return text.replace(".", words["decimal"]) if words["decimal"] != "." else text


def _scale_number(value: float, words: Mapping[str, str]) -> str:
    return _number(value, words, 0 if float(value).is_integer() else 1)


def _percent(value: float, words: Mapping[str, str]) -> str:
    return _fill(words["percent"], "percent", value=_number(value, words, 0))


def _count(n: int, words: Mapping[str, str]) -> str:
    return _fill(words["n"], "n", n=n)


def _wrap(text: str, width: int) -> str:
    """Wrap long labels onto several lines (textwrap keeps existing line breaks' words)."""
    lines = [textwrap.fill(part, max(width, 8)) or part for part in text.split("\n")]
    return "\n".join(lines)


def _line_count(text: str) -> int:
    return text.count("\n") + 1


def relative_luminance(colour: Any) -> float:
    """Return the WCAG 2 relative luminance of a colour (0 for black, 1 for white).

    Parameters
    ----------
    colour : str or sequence of float
        Anything matplotlib reads as a colour (``"#2166AC"``, an RGB(A) tuple in 0..1).

    Returns
    -------
    float
        ``0.2126 R + 0.7152 G + 0.0722 B`` of the linearised sRGB channels.
    """
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                for c in to_rgb(colour)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast_ratio(foreground: Any, background: Any) -> float:
    """Return the WCAG 2 contrast ratio of two colours, from 1 (none) to 21 (black on white).

    Parameters
    ----------
    foreground, background : str or sequence of float
        Colours as matplotlib reads them.

    Returns
    -------
    float
        ``(L1 + 0.05) / (L2 + 0.05)`` with L1 the lighter relative luminance.
    """
    low, high = sorted((relative_luminance(foreground), relative_luminance(background)))
    return (high + 0.05) / (low + 0.05)


#: Text colours for labels on coloured cells, in order of preference: the house ink, then
#: pure black and white. On mid-tone cells (a mid blue) the ink alone falls below 4.5:1.
_TEXT_ON_FILL = (_INK, "#000000", "#FFFFFF")


def text_colour_on(fill: Any) -> str:
    """Choose the text colour for a label on a coloured cell by WCAG contrast ratio.

    The house ink when it reaches 4.5:1 (WCAG AA for normal text) against the cell, else
    black or white, whichever contrasts more. Black or white reaches at least 4.58:1 on any
    colour, so every label passes.

    Parameters
    ----------
    fill : str or sequence of float
        The cell's colour.

    Returns
    -------
    str
        A hex colour.
    """
    if contrast_ratio(_INK, fill) >= 4.5:
        return _INK
    return max(_TEXT_ON_FILL[1:], key=lambda text: contrast_ratio(text, fill))


def _tint(colour: Any, amount: float) -> tuple[float, float, float]:
    """Mix a colour with white; ``amount`` 0 keeps it, 1 gives white."""
    r, g, b = to_rgb(colour)
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


def _scale_ticks(lo: float, hi: float) -> list[float]:
    """Every scale point on short scales, about six round steps on long ones."""
    span = hi - lo
    if span <= 10 and float(lo).is_integer() and float(hi).is_integer():
        return [float(v) for v in range(int(lo), int(hi) + 1)]
    step = 10 ** math.floor(math.log10(span / 5))
    for multiple in (1, 2, 2.5, 5, 10):
        if span / (step * multiple) <= 6:
            step *= multiple
            break
    start = math.ceil(lo / step) * step
    return [float(v) for v in np.arange(start, hi + step / 2, step)]


# --------------------------------------------------------------------------- figure helpers


#: Held while rcParams are temporarily changed. ``rc_context`` swaps the *global* rcParams
#: and restores them on exit, so two threads inside it at once (a gthread worker) could leave
#: one thread's settings behind for good; anyone else using an ``rc_context`` around chart
#: work (app/charts.py when it writes SVG) takes this lock too. Re-entrant, so a chart built
#: inside a locked block does not deadlock.
matplotlib_lock = threading.RLock()


@contextmanager
def _style() -> Iterator[None]:
    """Apply the house style only while a figure is being built."""
    rc = {**_RC, **{key: _pt(_RC[key]) for key in _FONT_KEYS}}
    with matplotlib_lock, matplotlib.rc_context(cast("dict[Any, Any]", rc)):
        yield


def _new_figure(height: float, title: str | None) -> Figure:
    """Make a figure as wide as the screen; ``height`` in page inches (scaled like text)."""
    screen = _screen()
    if screen.aspect is not None:
        height = screen.width * screen.aspect
    else:
        height *= screen.font_scale
    fig = Figure(figsize=(screen.width, height), layout="constrained")
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):  # always: layout="constrained"
        engine.set(h_pad=0.06, w_pad=0.06)
    if title:
        fig.suptitle(_wrap(title, _chars(80)), x=0.01, ha="left", fontsize=_pt(12),
                     fontweight="bold")
    return fig


def _plain_axes(ax: Axes, *, value_axis: Literal["x", "y"]) -> None:
    """Remove frames and ticks that carry no information; keep a faint value-axis grid."""
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(_GREY_RULE)
    ax.tick_params(axis="y", length=0, pad=6)
    ax.tick_params(axis="x", length=3, color=_GREY_RULE)
    ax.grid(axis=value_axis, color=_GREY_GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _number_ticks(ax: Axes, axis: str, ticks: Sequence[float], words: Mapping[str, str]) -> None:
    labels = [_scale_number(t, words) for t in ticks]
    if axis == "x":
        ax.set_xticks(list(ticks), labels=labels)
    else:
        ax.set_yticks(list(ticks), labels=labels)


@dataclass(frozen=True)
class _Band:
    label: str
    lo: float
    hi: float


def _bands(bands: Any, lo: float, hi: float) -> list[_Band]:
    """Bands as declared in the questionnaire: ``{"label", "min", "max"}``, clipped to the scale."""
    if bands is None:
        return []
    if isinstance(bands, str | bytes | Mapping) or not isinstance(bands, Sequence):
        raise TypeError("bands must be a list of {'label', 'min', 'max'} mappings")
    out = []
    for i, band in enumerate(bands):
        if not isinstance(band, Mapping) or not {"label", "min", "max"} <= set(band):
            raise ValueError(f"bands[{i}] needs 'label', 'min' and 'max', got {band!r}")
        label = _check_text(band["label"], f"bands[{i}]['label']")
        b_lo = _optional_number(band["min"], f"bands[{i}]['min']")
        b_hi = _optional_number(band["max"], f"bands[{i}]['max']")
        if b_lo is None or b_hi is None or b_lo > b_hi:
            raise ValueError(f"bands[{i}] needs numbers min <= max, got {band!r}")
        out.append(_Band(label, max(b_lo, lo), min(b_hi, hi)))
    return sorted(out, key=lambda b: b.lo)


def _band_colours(count: int) -> list[tuple[float, float, float]]:
    """Pale tints by rank: the lowest band warm, the highest cool, any between them grey."""
    cmap = colormaps[_DIVERGING]
    low, high, middle = _tint(cmap(0.2), 0.8), _tint(cmap(0.8), 0.8), to_rgb("#F1F1F1")
    if count <= 1:
        return [middle] * count
    return [low, *([middle] * (count - 2)), high]


def _shade_bands(ax: Axes, bands: list[_Band], *, vertical: bool) -> None:
    for band, colour in zip(bands, _band_colours(len(bands)), strict=True):
        mid = (band.lo + band.hi) / 2
        if vertical:  # value on x: bands are vertical strips
            ax.axvspan(band.lo, band.hi, color=colour, linewidth=0, zorder=0)
            where = blended_transform_factory(ax.transData, ax.transAxes)
            ax.text(mid, 1.0, band.label, transform=where, ha="center", va="bottom",
                    fontsize=_pt(_SMALL), color=_GREY_TEXT)
        else:
            ax.axhspan(band.lo, band.hi, color=colour, linewidth=0, zorder=0)
            where = blended_transform_factory(ax.transAxes, ax.transData)
            ax.text(0.005, mid, band.label, transform=where, ha="left", va="center",
                    fontsize=_pt(_SMALL), color=_GREY_TEXT, zorder=1)


# --------------------------------------------------------------------------- partner scores


@dataclass(frozen=True)
class _ScoreRow:
    label: str
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    suppressed: bool
    overall: bool


def _score_rows(rows: Any, lo: float, hi: float) -> list[_ScoreRow]:
    out = []
    for i, row in enumerate(_records(rows, "rows")):
        if "label" not in row:
            raise ValueError(f"rows[{i}] needs a 'label'")
        label = _check_text(row["label"], f"rows[{i}]['label']")
        suppressed = _flag(row.get("suppressed"), f"rows[{i}]['suppressed']")
        overall = _flag(row.get("overall"), f"rows[{i}]['overall']")
        mean = _optional_number(row.get("mean"), f"rows[{i}]['mean']")
        ci_low = _optional_number(row.get("ci_low"), f"rows[{i}]['ci_low']")
        ci_high = _optional_number(row.get("ci_high"), f"rows[{i}]['ci_high']")
        n = _optional_count(row.get("n"), f"rows[{i}]['n']")
        if suppressed:  # never carry a suppressed figure any further, whatever was passed
            out.append(_ScoreRow(label, None, None, None, None, True, overall))
            continue
        for name, value in (("mean", mean), ("ci_low", ci_low), ("ci_high", ci_high)):
            _in_scale(value, lo, hi, f"rows[{i}]['{name}'] ({label})")
        if (ci_low is None) != (ci_high is None):
            raise ValueError(f"rows[{i}] ({label}) has only one end of its interval")
        if ci_low is not None and ci_high is not None and ci_low > ci_high:
            raise ValueError(f"rows[{i}] ({label}) has ci_low > ci_high")
        out.append(_ScoreRow(label, mean, ci_low, ci_high, n, False, overall))
    if not out:
        raise ValueError("rows is empty: nothing to chart")
    return out


@_for_screen
def partner_scores_chart(
    rows: Any,
    *,
    scale_min: float,
    scale_max: float,
    bands: Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Plot each group's mean score as a dot with its 95% interval, on the scale's full range.

    A dot plot on a common axis is read more accurately than bars or a radar chart, and the
    whisker shows how sure the mean is (Cleveland & McGill 1984). Partners come first in the
    order given; rows flagged ``overall`` (the partnership as a whole) follow below a rule,
    drawn as black diamonds.

    Parameters
    ----------
    rows : list of mapping or pandas.DataFrame
        One entry per group, with keys:

        - ``label`` (str): the group's name, as the reader should see it.
        - ``mean`` (float or None): the mean score; None or NaN shows ``labels["no_data"]``.
        - ``ci_low``, ``ci_high`` (float or None, optional): the interval; both or neither.
        - ``n`` (int, optional): valid answers, printed beside the value.
        - ``suppressed`` (bool, default False): fewer than k responses. The row shows
          ``labels["suppressed"]`` and no dot, value or n, even if numbers were passed.
        - ``overall`` (bool, default False): the partnership-level row.
    scale_min, scale_max : float
        Ends of the response scale; the axis always spans them so charts stay comparable.
    bands : list of mapping, optional
        Score bands ``{"label", "min", "max"}`` (as in the questionnaire file), shaded lightly
        behind the dots and named above the plot.
    screen : {"page", "slide", "phone"}, default "page"
        Where the chart is shown: sets its size and text sizes (:data:`SCREENS`).
    title : str, optional
        Printed above the chart; leave it out when the page already has a heading.
    labels : mapping, optional
        Words to print (keys of :data:`DEFAULT_LABELS`: ``score``, ``mean``, ``ci``,
        ``overall``, ``suppressed``, ``no_data``, ``n``, ``decimal``).

    Returns
    -------
    matplotlib.figure.Figure
        7.5 in wide, about 0.42 in per row.

    References
    ----------
    Cleveland WS, McGill R (1984) Graphical perception. *J Am Stat Assoc* 79:531-554.

    Examples
    --------
    >>> rows = [{"label": "Dinas Kesehatan", "mean": 3.9, "ci_low": 3.5, "ci_high": 4.2, "n": 14},
    ...         {"label": "Puskesmas", "suppressed": True},
    ...         {"label": "Kemitraan", "mean": 3.6, "ci_low": 3.3, "ci_high": 3.9, "n": 31,
    ...          "overall": True}]
    >>> fig = partner_scores_chart(rows, scale_min=1, scale_max=5)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['Dinas Kesehatan', 'Puskesmas', 'Kemitraan']
    """
    lo, hi = _check_scale(scale_min, scale_max)
    words = _words(labels)
    parsed = _score_rows(rows, lo, hi)
    band_list = _bands(bands, lo, hi)
    ordered = [r for r in parsed if not r.overall] + [r for r in parsed if r.overall]
    n_partners = sum(not r.overall for r in parsed)
    gap = 0.4 if 0 < n_partners < len(ordered) else 0.0
    ys = [i + (gap if i >= n_partners else 0.0) for i in range(len(ordered))]
    narrow = _screen().width < 5  # a phone: each name (and n) on its own line above its dot
    names: list[str] = []
    if narrow:
        names = [_wrap(r.label if r.n is None or r.suppressed or r.mean is None
                       else f"{r.label} ({_count(r.n, words).replace(' ', NBSP)})", _chars(70))
                 for r in ordered]
        ys, y = [], 0.0
        for i, name in enumerate(names):
            y += (gap if i == n_partners and gap else 0.0) + 0.45 * _line_count(name) + 0.35
            ys.append(y)
            y += 0.45
    units = ys[-1] + 1.0 if narrow else len(ordered) + gap
    height = 1.25 + 0.42 * units + (0.3 if band_list else 0) + (0.35 if title else 0) + (
        0.45 if narrow else 0)
    with _style():
        fig = _new_figure(height, title)
        ax = fig.subplots()
        _plain_axes(ax, value_axis="x")
        pad = (hi - lo) * 0.04
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(ys[-1] + 0.6, -0.6 if not narrow else 0.0)
        _shade_bands(ax, band_list, vertical=True)
        _number_ticks(ax, "x", _scale_ticks(lo, hi), words)
        ax.set_xlabel(words["score"])
        if narrow:
            ax.set_yticks([])
            left = blended_transform_factory(ax.transAxes, ax.transData)
            for y, name, row in zip(ys, names, ordered, strict=True):
                ax.text(0.0, y - 0.3, name, transform=left, ha="left", va="bottom",
                        fontweight="bold" if row.overall else "normal", in_layout=False)
        else:
            ax.set_yticks(ys, labels=[r.label for r in ordered])
            for tick, row in zip(ax.get_yticklabels(), ordered, strict=True):
                if row.overall:
                    tick.set_fontweight("bold")
        if gap:
            ax.axhline((ys[n_partners - 1] + ys[n_partners]) / 2, color=_GREY_RULE, lw=0.8)
        value_width = max((_text_inches(_number(r.mean, words), _pt(_RC["font.size"]), _BOLD_EM)
                           for r in ordered if r.mean is not None and not r.suppressed),
                          default=0.0) * 72
        for y, row in zip(ys, ordered, strict=True):
            _draw_score_row(ax, y, row, lo, words, value_width, with_n=not narrow)
        _score_legend(fig, any(r.overall for r in ordered), words, ncols=1 if narrow else None)
    return fig


def _draw_score_row(ax: Axes, y: float, row: _ScoreRow, lo: float, words: dict[str, str],
                    value_width: float, *, with_n: bool = True) -> None:
    """Draw one row: interval, dot, and right of the axes its value and then its n.

    The value and the n are placed in points from the axes' right edge, the n after the
    widest value of the chart (``value_width``, points, bold), so a bold value never runs
    into "n = ..." however narrow the axes get beside long partner names.
    """
    colour = _OVERALL if row.overall else OKABE_ITO[0]
    right = blended_transform_factory(ax.transAxes, ax.transData)
    if row.suppressed or row.mean is None:
        text = words["suppressed"] if row.suppressed else words["no_data"]
        ax.text(lo, y, text, ha="left", va="center", fontsize=_pt(_SMALL), style="italic",
                color=_GREY_TEXT, in_layout=False)
        return
    if row.ci_low is not None and row.ci_high is not None:
        ax.hlines(y, row.ci_low, row.ci_high, color=_tint(colour, 0.35), lw=2.4,
                  capstyle="round", zorder=2)
    ax.plot([row.mean], [y], marker="D" if row.overall else "o", ms=8.5 if row.overall else 8,
            color=colour, mec="white", mew=1.0, zorder=3, linestyle="none")
    value = _number(row.mean, words)
    figure = ax.figure
    if not isinstance(figure, Figure):  # pragma: no cover - charts never use subfigures
        raise TypeError("a score chart is drawn on a Figure's own axes")
    ax.text(1.0, y, value, ha="left", va="center",
            transform=offset_copy(right, fig=figure, x=_VALUE_GAP, units="points"),
            fontweight="bold" if row.overall else "normal")
    if row.n is not None and with_n:
        ax.text(1.0, y, _count(row.n, words), ha="left", va="center", fontsize=_pt(_SMALL),
                color=_GREY_TEXT, transform=offset_copy(
                    right, fig=figure, x=2 * _VALUE_GAP + value_width, units="points"))


def _score_legend(fig: Figure, with_overall: bool, words: dict[str, str],
                  ncols: int | None = None) -> None:
    handles = [
        Line2D([], [], marker="o", ms=7, color=OKABE_ITO[0], mec="white", linestyle="none",
               label=words["mean"]),
        Line2D([], [], color=_tint(OKABE_ITO[0], 0.35), lw=2.4, label=words["ci"]),
    ]
    if with_overall:
        handles.append(Line2D([], [], marker="D", ms=7, color=_OVERALL, mec="white",
                              linestyle="none", label=words["overall"]))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols or len(handles),
               handlelength=1.6, columnspacing=1.6)


# --------------------------------------------------------------------------- matrices


def _draw_matrix(
    fig: Figure,
    values: list[list[float | None]],
    counts: list[list[int | None]] | None,
    row_labels: list[str],
    col_labels: list[str],
    lo: float,
    hi: float,
    suppressed_label: str,
    words: dict[str, str],
    *,
    blank_diagonal: bool,
    row_title: str | None = None,
    col_title: str | None = None,
) -> Axes:
    """Cells as vector polygons (not an image), so the SVG stays sharp and searchable.

    Cells are two collections (coloured, hatched) and the cell texts stay out of the layout
    computation: both keep a 10 x 10 matrix well under the 0.3 s budget.
    """
    n_rows, n_cols = len(row_labels), len(col_labels)
    # A phone: cells too narrow for "n = 12" show the value only (the page's table has n),
    # and column names stand upright instead of breaking inside words.
    narrow = _screen().width < 5
    ax = fig.subplots()
    cmap = colormaps[_DIVERGING]
    norm = Normalize(vmin=lo, vmax=hi)  # fixed to the scale: colours comparable across rounds
    cell_chars = _chars(min(5.3 / n_cols, 1.6) * 12)  # characters of 9 pt text a cell can hold
    inside: dict[str, Any] = {"ha": "center", "in_layout": False}
    coloured: list[tuple[int, int]] = []
    fills: list[Any] = []
    hidden: list[tuple[int, int]] = []
    empty: list[tuple[int, int]] = []
    for i in range(n_rows):
        for j in range(n_cols):
            if blank_diagonal and i == j:
                ax.text(j + 0.5, i + 0.5, "\u2014", va="center", color=_GREY_TEXT, **inside)
                continue
            value = values[i][j]
            if value is None and counts is not None and counts[i][j] == 0:
                empty.append((i, j))  # nobody answered: nothing hidden, nothing to show
                ax.text(j + 0.5, i + 0.5, _wrap(words["no_data"], cell_chars), va="center",
                        fontsize=_pt(_SMALL), color=_GREY_TEXT, style="italic", **inside)
                continue
            if value is None:
                hidden.append((i, j))
                ax.text(j + 0.5, i + 0.5, _wrap(suppressed_label, cell_chars), va="center",
                        fontsize=_pt(_SMALL), color=_INK, style="italic", **inside,
                        bbox={"facecolor": _SUPPRESSED_FILL, "edgecolor": "none", "pad": 1.5})
                continue
            fill = cmap(norm(value))
            coloured.append((i, j))
            fills.append(fill)
            text = _number(value, words)
            n = counts[i][j] if counts is not None and not narrow else None
            ink = text_colour_on(fill)
            if n is None:
                ax.text(j + 0.5, i + 0.5, text, va="center", color=ink, fontsize=_pt(11.5),
                        fontweight="bold", **inside)
            else:
                ax.text(j + 0.5, i + 0.46, text, va="bottom", color=ink, fontsize=_pt(11.5),
                        fontweight="bold", **inside)
                ax.text(j + 0.5, i + 0.56, _count(n, words), va="top", color=ink,
                        fontsize=_pt(_SMALL), **inside)
    if coloured:
        ax.add_collection(PolyCollection(_squares(coloured), facecolors=fills, linewidths=0),
                          autolim=False)
    if empty:
        ax.add_collection(PolyCollection(_squares(empty), facecolors=_EMPTY_FILL, linewidths=0),
                          autolim=False)
    if hidden:  # hatch lines take the edge colour; a zero-width edge draws no outline
        ax.add_collection(PolyCollection(_squares(hidden), facecolors=_SUPPRESSED_FILL,
                                         edgecolors=_SUPPRESSED_HATCH, linewidths=0,
                                         hatch="///"), autolim=False)
    for k in range(n_cols + 1):  # white gutters between cells, drawn over the fills
        ax.axvline(k, color="white", lw=2.5)
    for k in range(n_rows + 1):
        ax.axhline(k, color="white", lw=2.5)
    ax.set_xlim(0, n_cols)
    ax.set_ylim(n_rows, 0)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    col_chars = max(_chars(6.0 / n_cols * 12), 8)
    ax.set_xticks([j + 0.5 for j in range(n_cols)],
                  labels=[_wrap(c, 16 if narrow else col_chars) for c in col_labels],
                  rotation=90 if narrow else 0)
    ax.set_yticks([i + 0.5 for i in range(n_rows)],
                  labels=[_wrap(r, 12 if narrow else _chars(28)) for r in row_labels])
    ax.tick_params(length=0, pad=4)
    ax.tick_params(axis="x", labelcolor=_INK)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if row_title:
        ax.set_ylabel(row_title)
    if col_title:
        ax.set_xlabel(col_title)
    colourbar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap), ax=ax, orientation="horizontal",
        location="bottom", shrink=0.45, aspect=28, pad=0.02,
        boundaries=np.linspace(lo, hi, 41),  # < 50 steps: matplotlib keeps them as vectors
    )
    ticks = _scale_ticks(lo, hi)
    colourbar.set_ticks(ticks, labels=[_scale_number(t, words) for t in ticks])
    colourbar.outline.set_visible(False)
    colourbar.ax.tick_params(length=0, labelsize=_pt(_SMALL))
    colourbar.set_label(_wrap(words["score"], _chars(90)), fontsize=_pt(_SMALL))
    return ax


def _column_label_lines(cols: list[str]) -> float:
    """How many page text lines the column names take: wrapped, or upright on a phone."""
    if _screen().width < 5:  # upright names: their length, in lines of about 2 characters
        return max(len(line) for c in cols for line in _wrap(c, 16).split("\n")) / 2.2
    return max(_line_count(_wrap(c, max(_chars(6.0 / len(cols) * 12), 8))) for c in cols)


def _squares(cells: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    return [[(j, i), (j + 1, i), (j + 1, i + 1), (j, i + 1)] for i, j in cells]


def _counts_matrix(n: Any, shape: tuple[int, int]) -> list[list[int | None]] | None:
    if n is None:
        return None
    grid = _matrix(n, "n", shape)
    return [[_optional_count(v, f"n[{i}][{j}]") for j, v in enumerate(row)]
            for i, row in enumerate(grid)]


def _check_matrix_values(grid: list[list[float | None]], lo: float, hi: float, name: str) -> None:
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            _in_scale(value, lo, hi, f"{name}[{i}][{j}]")


@_for_screen
def heatmap_chart(
    matrix: Any,
    *,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    scale_min: float,
    scale_max: float,
    suppressed_label: str,
    n: Any = None,
    total_row: bool = False,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    r"""Plot partners x dimensions as coloured cells, each printed with its mean (and n).

    The colour scale is diverging and centred on the scale's midpoint, with limits fixed to
    the scale ends so a colour means the same number in every round (statistics.md A12).

    Parameters
    ----------
    matrix : list of lists, numpy array or pandas.DataFrame
        ``matrix[i][j]`` is the mean of row ``i`` (partner) on column ``j`` (dimension);
        None or NaN marks a suppressed cell, drawn hatched grey with ``suppressed_label``.
    row_labels, col_labels : sequence of str
        Names of the rows and columns, in the matrix's order.
    scale_min, scale_max : float
        Ends of the response scale and of the colour scale.
    suppressed_label : str
        Text for suppressed cells, e.g. "fewer than 5 responses".
    n : list of lists, optional
        Valid answers per cell, printed under the value (ignored for suppressed cells). A
        cell with no value and ``n`` = 0 had no answers: it shows ``labels["no_data"]``,
        unhatched, since nothing is hidden.
    total_row : bool, default False
        The last row is the partnership as a whole: its label is bold and a wider gap sets
        it apart from the partners.
    screen : {"page", "slide", "phone"}, default "page"
        Where the chart is shown: sets its size and text sizes (:data:`SCREENS`).
    title : str, optional
        Printed above the chart.
    labels : mapping, optional
        Words (keys of :data:`DEFAULT_LABELS`: ``score``, ``n``, ``no_data``, ``decimal``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = heatmap_chart([[4.2, None], [2.8, 3.5]], row_labels=["A", "B"],
    ...                     col_labels=["Equality", "Transparency"], scale_min=1, scale_max=5,
    ...                     suppressed_label="fewer than 5 responses")
    >>> sorted(t.get_text() for t in fig.axes[0].texts)
    ['2.8', '3.5', '4.2', 'fewer than 5\nresponses']
    """
    lo, hi = _check_scale(scale_min, scale_max)
    words = _words(labels)
    rows = _check_texts(row_labels, "row_labels")
    cols = _check_texts(col_labels, "col_labels")
    if not rows or not cols:
        raise ValueError("heatmap_chart needs at least one row and one column")
    grid = _matrix(matrix, "matrix", (len(rows), len(cols)))
    _check_matrix_values(grid, lo, hi, "matrix")
    counts = _counts_matrix(n, (len(rows), len(cols)))
    suppressed_label = _check_text(suppressed_label, "suppressed_label")
    max_col_lines = _column_label_lines(cols)
    height = 1.25 + 0.62 * len(rows) + 0.18 * max_col_lines + (0.35 if title else 0)
    with _style():
        fig = _new_figure(height, title)
        ax = _draw_matrix(fig, grid, counts, rows, cols, lo, hi, suppressed_label, words,
                          blank_diagonal=False)
        if _flag(total_row, "total_row") and len(rows) > 1:
            ax.get_yticklabels()[-1].set_fontweight("bold")
            ax.axhline(len(rows) - 1, color="white", lw=7)
    return fig


@_for_screen
def rating_matrix_chart(
    matrix: Any,
    *,
    rater_labels: Sequence[str],
    ratee_labels: Sequence[str],
    scale_min: float,
    scale_max: float,
    suppressed_label: str,
    n: Any = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Plot who rates whom: raters as rows, rated partners as columns, self-ratings blank.

    Parameters
    ----------
    matrix : list of lists, numpy array or pandas.DataFrame
        ``matrix[i][j]`` is the mean rating rater ``i`` gave partner ``j``; None or NaN marks
        a suppressed cell. When raters and ratees are the same partners in the same order
        (a square matrix) the diagonal is drawn blank with a dash, whatever it holds.
    rater_labels, ratee_labels : sequence of str
        Names of the raters (rows) and of the partners rated (columns).
    scale_min, scale_max : float
        Ends of the rating scale and of the colour scale.
    suppressed_label : str
        Text for suppressed cells.
    n : list of lists, optional
        Ratings per cell, printed under the value; 0 with no value means nobody rated
        (``labels["no_data"]``, unhatched).
    screen : {"page", "slide", "phone"}, default "page"
        Where the chart is shown: sets its size and text sizes (:data:`SCREENS`).
    title : str, optional
        Printed above the chart.
    labels : mapping, optional
        Words (keys of :data:`DEFAULT_LABELS`: ``rater``, ``ratee``, ``score``, ``n``,
        ``decimal``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = rating_matrix_chart([[None, 4.0], [3.0, None]], rater_labels=["A", "B"],
    ...                           ratee_labels=["A", "B"], scale_min=1, scale_max=5,
    ...                           suppressed_label="hidden")
    >>> sorted(t.get_text() for t in fig.axes[0].texts)
    ['3.0', '4.0', '—', '—']
    """
    lo, hi = _check_scale(scale_min, scale_max)
    words = _words(labels)
    rows = _check_texts(rater_labels, "rater_labels")
    cols = _check_texts(ratee_labels, "ratee_labels")
    if not rows or not cols:
        raise ValueError("rating_matrix_chart needs at least one rater and one ratee")
    grid = _matrix(matrix, "matrix", (len(rows), len(cols)))
    square = len(rows) == len(cols)
    if square:
        for i in range(len(rows)):
            grid[i][i] = None
    _check_matrix_values(grid, lo, hi, "matrix")
    counts = _counts_matrix(n, (len(rows), len(cols)))
    suppressed_label = _check_text(suppressed_label, "suppressed_label")
    max_col_lines = _column_label_lines(cols)
    height = 1.5 + 0.62 * len(rows) + 0.18 * max_col_lines + (0.35 if title else 0)
    with _style():
        fig = _new_figure(height, title)
        _draw_matrix(fig, grid, counts, rows, cols, lo, hi, suppressed_label, words,
                     blank_diagonal=square, row_title=words["rater"],
                     col_title=words["ratee"])
    return fig


# --------------------------------------------------------------------------- Likert


@dataclass(frozen=True)
class _Distribution:
    label: str
    counts: tuple[int, ...] | None  # None when suppressed
    dont_know: int | None
    suppressed: bool

    @property
    def valid(self) -> int:
        return sum(self.counts) if self.counts else 0


def _point_counts(raw: Any, points: list[Any], name: str) -> tuple[int, ...]:
    """Return counts in scale order from a list, or from a mapping keyed by point (or its str)."""
    if isinstance(raw, Mapping):
        by_text = {str(k): v for k, v in raw.items()}
        unknown = sorted(set(by_text) - {str(p) for p in points})
        if unknown:
            raise ValueError(f"{name} has counts for points {unknown} not in points {points}")
        values = [by_text.get(str(p), 0) for p in points]
    elif isinstance(raw, Sequence | np.ndarray) and not isinstance(raw, str | bytes):
        values = list(raw)
        if len(values) != len(points):
            raise ValueError(f"{name} has {len(values)} counts, expected {len(points)}")
    else:
        raise TypeError(f"{name} must be a list of counts or a mapping point -> count")
    out = []
    for p, v in zip(points, values, strict=True):
        count = _optional_count(v, f"{name}[{p!r}]")
        out.append(0 if count is None else count)
    return tuple(out)


def _distributions(data: Any, item_labels: list[str], points: list[Any]) -> list[_Distribution]:
    records = _records(data, "distributions")
    if len(records) != len(item_labels):
        raise ValueError(
            f"distributions has {len(records)} entries but item_labels has {len(item_labels)}"
        )
    out = []
    for i, (row, label) in enumerate(zip(records, item_labels, strict=True)):
        suppressed = _flag(row.get("suppressed"), f"distributions[{i}]['suppressed']")
        if suppressed:
            out.append(_Distribution(label, None, None, True))
            continue
        if "counts" not in row:
            raise ValueError(f"distributions[{i}] ({label}) needs 'counts'")
        counts = _point_counts(row["counts"], points, f"distributions[{i}]['counts']")
        dont_know = _optional_count(row.get("dont_know"), f"distributions[{i}]['dont_know']")
        out.append(_Distribution(label, counts, dont_know or 0, False))
    return out


def _likert_colours(m: int) -> list[Any]:
    """RdBu shades: strongest disagreement darkest red, the middle point a neutral grey."""
    cmap = colormaps[_DIVERGING]
    half = m // 2
    neg = [cmap(x) for x in np.linspace(0.08, 0.36, half)] if half > 1 else [cmap(0.2)] * half
    pos = [cmap(x) for x in np.linspace(0.64, 0.92, half)] if half > 1 else [cmap(0.8)] * half
    return [*neg, *([_NEUTRAL] if m % 2 else []), *pos]


def _segments(counts: tuple[int, ...] | None) -> tuple[list[float], list[float]]:
    """Return the percentages of valid answers and each segment's left edge, neutral on zero."""
    if counts is None:
        raise ValueError("a suppressed distribution has no counts to draw")
    total = sum(counts)
    pct = [100.0 * c / total for c in counts]
    m, half = len(pct), len(pct) // 2
    neutral = pct[half] if m % 2 else 0.0
    start = -(sum(pct[:half]) + neutral / 2)
    lefts = list(np.cumsum([start, *pct[:-1]]))
    return pct, [float(v) for v in lefts]


@_for_screen
def diverging_likert_chart(
    distributions: Any,
    *,
    points: Sequence[Any],
    point_labels: Sequence[str],
    dont_know_label: str,
    item_labels: Sequence[str],
    sort: bool = False,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Plot answers to each item as a diverging stacked bar, "don't know" in its own panel.

    Negative categories extend left of zero and positive ones right of it; an odd scale's
    middle category straddles zero (Robbins & Heiberger 2011). Bars show percentages of
    *valid* answers; "don't know" is not a point on the scale, so its share of all answers
    is drawn apart in a narrow panel on the right, in grey.

    Parameters
    ----------
    distributions : list of mapping or pandas.DataFrame
        One entry per item, in the order of ``item_labels``, with keys:

        - ``counts``: answers per scale point, as a list in ``points`` order or a mapping
          ``{point: count}`` (keys may be the points or their ``str``, as after JSON).
        - ``dont_know`` (int, default 0): "don't know" answers.
        - ``suppressed`` (bool, default False): too few answers to show a distribution
          (k-anonymity, and for small n the homogeneity rule of statistics.md A11); the row
          shows ``labels["suppressed"]`` on a hatched grey band.
    points : sequence
        Scale point values from the most negative to the most positive, e.g. ``[1, 2, 3, 4, 5]``.
    point_labels : sequence of str
        The points' labels, same order; the legend lists them in this order.
    dont_know_label : str
        Title of the "don't know" panel and its legend entry.
    item_labels : sequence of str
        Item texts; long texts wrap. ``n`` (valid answers) is added under each.
    sort : bool, default False
        Sort items by share of positive answers, highest first (keep False to preserve
        questionnaire order).
    screen : {"page", "slide", "phone"}, default "page"
        Where the chart is shown: sets its size and text sizes (:data:`SCREENS`).
    title : str, optional
        Printed above the chart.
    labels : mapping, optional
        Words (keys of :data:`DEFAULT_LABELS`: ``percent``, ``percent_valid``,
        ``percent_all``, ``suppressed``, ``no_data``, ``n``, ``decimal``).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the diverging bars and the "don't know" panel.

    Notes
    -----
    With ``p_c`` the percentage of valid answers in category ``c`` of ``m`` and ``h = m // 2``,
    the first bar segment starts at ``-(p_1 + ... + p_h + p_{h+1} / 2)`` for odd ``m`` (the
    neutral share split across zero) and at ``-(p_1 + ... + p_h)`` for even ``m``; each next
    segment starts where the previous ended. "Don't know" is ``dk / (valid + dk)``.

    References
    ----------
    Robbins NB, Heiberger RM (2011) Plotting Likert and other rating scales. *JSM Proceedings,
    Section on Survey Research Methods*, 1058-1066. Heiberger RM, Robbins NB (2014) Design
    of diverging stacked bar charts for Likert scales and other applications. *J Stat Softw*
    57(5).

    Examples
    --------
    >>> fig = diverging_likert_chart(
    ...     [{"counts": [1, 2, 3, 8, 6], "dont_know": 2}], points=[1, 2, 3, 4, 5],
    ...     point_labels=["SD", "D", "N", "A", "SA"], dont_know_label="Don't know",
    ...     item_labels=["Decisions are made together"])
    >>> [float(p.get_x()) for p in fig.axes[0].patches[:2]]
    [-22.5, -17.5]
    """
    words = _words(labels)
    point_list = list(points) if isinstance(points, Sequence | np.ndarray) else None
    if point_list is None or isinstance(points, str) or len(point_list) < 2:
        raise ValueError("points must list at least two scale points")
    names = _check_texts(point_labels, "point_labels", len(point_list))
    dk_label = _check_text(dont_know_label, "dont_know_label")
    items = _check_texts(item_labels, "item_labels")
    if not items:
        raise ValueError("item_labels is empty: nothing to chart")
    rows = _distributions(distributions, items, point_list)
    if sort:
        half = len(point_list) // 2
        rows.sort(key=lambda r: -(sum((r.counts or ())[-half:]) / r.valid) if r.valid else 1.0)
    chars = int(_likert_bar_inches() * 72 / (_pt(_RC["ytick.labelsize"]) * 0.58))
    texts = [_likert_row_label(r, words, chars) for r in rows]
    layout = _likert_layout(texts)
    height = 1.2 + layout.total + (0.35 if title else 0)
    colours = _likert_colours(len(point_list))
    with _style():
        fig = _new_figure(height, title)
        ax, ax_dk = fig.subplots(1, 2, sharey=True, width_ratios=[5.2, 1])
        extent = _likert_extent(rows)
        inch_per_percent = _likert_bar_inches() / (2 * extent)
        label_at = blended_transform_factory(ax.transAxes, ax.transData)
        for y, text in zip(layout.centres, texts, strict=True):
            ax.annotate(text, (0, y - _LIKERT_BAR / 2), xycoords=label_at, xytext=(0, 3),
                        textcoords="offset points", ha="left", va="bottom",
                        fontsize=_pt(_RC["ytick.labelsize"]), annotation_clip=False,
                        in_layout=False)
        _draw_likert_bars(ax, ax_dk, layout.centres, rows, colours, extent, inch_per_percent,
                          words)
        # zero, only where a bar is, behind the bars: it shows as a tick above and below
        ys = np.array([y for y, r in zip(layout.centres, rows, strict=True)
                       if not r.suppressed and r.valid])
        ax.vlines(np.zeros(len(ys)), ys - _LIKERT_BAR / 2 - 0.07, ys + _LIKERT_BAR / 2 + 0.07,
                  color=_GREY_TEXT, lw=1.0, zorder=0.5)
        _likert_axes(ax, ax_dk, layout.total, extent, dk_label, words, rows)
        handles = [Patch(facecolor=c, label=_wrap(name, _chars(16))) for c, name in zip(
            colours, names, strict=True)]
        handles.append(Patch(facecolor=_DONT_KNOW, label=_wrap(dk_label, _chars(16))))
        fig.legend(handles=handles, loc="outside upper center", ncols=min(len(handles), 6),
                   handlelength=1.2, columnspacing=1.2, fontsize=_pt(_SMALL))
    return fig


# Bars are laid out in page inches (one data unit on the y axis is about one inch, times the
# screen's font scale, as the text is), each item's
# text on its own line(s) above its bar: the bars get the full width, which keeps long
# Indonesian statements readable on a phone instead of squeezing them into a left margin.
_LIKERT_BAR = 0.30  # bar thickness, inches
_LIKERT_LINE = 0.18  # one line of item text, inches
_LIKERT_GAP = 0.2  # between one bar and the next item's text, inches


def _likert_bar_inches() -> float:
    """Return the width of the bar axes on the screen being drawn for, in inches."""
    return (_screen().width - 0.3) * 5.2 / 6.2 - 0.2


@dataclass(frozen=True)
class _LikertLayout:
    centres: list[float]
    total: float


def _likert_layout(texts: list[str]) -> _LikertLayout:
    centres, top = [], 0.0
    for text in texts:
        bar_top = top + _LIKERT_LINE * _line_count(text) + 0.06
        centres.append(bar_top + _LIKERT_BAR / 2)
        top = bar_top + _LIKERT_BAR + _LIKERT_GAP
    return _LikertLayout(centres, top - _LIKERT_GAP + 0.05)


def _likert_row_label(row: _Distribution, words: dict[str, str], chars: int) -> str:
    if row.suppressed:
        return _wrap(row.label, chars)
    count = _count(row.valid, words).replace(" ", "\u00a0")  # keep "(n = 21)" on one line
    return _wrap(f"{row.label} ({count})", chars)


def _text_inches(text: str, size: float, em_per_char: float = 0.68) -> float:
    """Estimate the width of the longest line in DejaVu Sans.

    0.68 em per character is safe for numbers (digits 0.64 em, "%" 0.95 em), about 0.56 em
    for ordinary words.
    """
    return max(len(line) for line in text.split("\n")) * size * em_per_char / 72


def _likert_extent(rows: list[_Distribution]) -> float:
    """Half-width of the bar axis: the longest side rounded up to 10%, never under 50%."""
    longest = 0.0
    for row in rows:
        if row.counts and row.valid:
            pct, lefts = _segments(row.counts)
            longest = max(longest, -lefts[0], lefts[-1] + pct[-1])
    return float(min(100, max(50, math.ceil(longest / 10) * 10)))


def _draw_likert_bars(ax: Axes, ax_dk: Axes, ys: list[float], rows: list[_Distribution],
                      colours: list[Any], extent: float, inch_per_percent: float,
                      words: dict[str, str]) -> None:
    """One ``barh`` call per category for all items (not one per segment): far fewer artists."""
    inside: dict[str, Any] = {
        "ha": "center", "va": "center", "fontsize": _pt(_SMALL), "in_layout": False}
    shown = [(y, r) for y, r in zip(ys, rows, strict=True) if not r.suppressed and r.valid]
    empty = [(y, r) for y, r in zip(ys, rows, strict=True) if r.suppressed or not r.valid]
    if empty:
        ax.barh([y for y, _ in empty], 2 * extent, left=-extent, height=_LIKERT_BAR,
                color=_SUPPRESSED_FILL, edgecolor=_SUPPRESSED_HATCH, hatch="///", linewidth=0)
    for y, row in empty:
        ax.text(0, y, words["suppressed"] if row.suppressed else words["no_data"],
                style="italic", **inside,
                bbox={"facecolor": _SUPPRESSED_FILL, "edgecolor": "none", "pad": 1.5})
    if shown:
        segments = [_segments(r.counts) for _, r in shown]
        pct = np.array([p for p, _ in segments])
        lefts = np.array([left for _, left in segments])
        bar_ys = np.array([y for y, _ in shown])
        for k, colour in enumerate(colours):
            drawn = pct[:, k] > 0
            if not drawn.any():
                continue
            ax.barh(bar_ys[drawn], pct[drawn, k], left=lefts[drawn, k], height=_LIKERT_BAR,
                    color=colour, linewidth=0)
            ink = text_colour_on(colour)
            for y, share, left in zip(bar_ys[drawn], pct[drawn, k], lefts[drawn, k],
                                      strict=True):
                text = _percent(share, words)
                if share * inch_per_percent >= _text_inches(text, _pt(_SMALL)) + 0.04:
                    ax.text(left + share / 2, y, text, color=ink, **inside)
    with_dk = [(y, r) for y, r in zip(ys, rows, strict=True)
               if not r.suppressed and r.valid + (r.dont_know or 0)]
    shares = [100.0 * (r.dont_know or 0) / (r.valid + (r.dont_know or 0)) for _, r in with_dk]
    if with_dk:
        ax_dk.barh([y for y, _ in with_dk], shares, height=_LIKERT_BAR, color=_DONT_KNOW,
                   linewidth=0)
    for (y, _), share in zip(with_dk, shares, strict=True):
        ax_dk.text(share, y, " " + _percent(share, words), ha="left", va="center",
                   fontsize=_pt(_SMALL), color=_GREY_TEXT, in_layout=False)


def _likert_axes(ax: Axes, ax_dk: Axes, total: float, extent: float, dk_label: str,
                 words: dict[str, str], rows: list[_Distribution]) -> None:
    _plain_axes(ax, value_axis="x")
    ax.set_xlim(-extent, extent)
    # at most seven ticks, on the axis ends when a round step allows it
    steps = [s for s in (10, 20, 25, 40, 50) if s >= extent / 3]
    step = next((s for s in steps if extent % s == 0), steps[0])
    ticks = [float(v) for v in np.arange(-(extent // step) * step, extent + 0.1, step)]
    ax.set_xticks(ticks, labels=[_percent(abs(t), words) for t in ticks])
    ax.grid(False)  # grid lines would run through the item texts; segments carry the numbers
    ax.set_yticks([])
    ax.set_ylim(total, 0)
    ax.set_xlabel(words["percent_valid"])
    _plain_axes(ax_dk, value_axis="x")
    ax_dk.grid(False)
    ax_dk.tick_params(axis="y", left=False, labelleft=False)
    largest = max((100.0 * (r.dont_know or 0) / (r.valid + (r.dont_know or 0))
                   for r in rows if not r.suppressed and r.valid + (r.dont_know or 0)),
                  default=0.0)
    top = max(20.0, math.ceil(largest * 1.5 / 10) * 10)
    ax_dk.set_xlim(0, top)
    ax_dk.set_xticks([0, top], labels=[_percent(0, words), _percent(top, words)])
    ax_dk.set_title(_wrap(dk_label, _chars(14)), fontsize=_pt(_SMALL), color=_GREY_TEXT, loc="left")
    ax_dk.set_xlabel(_wrap(words["percent_all"], _chars(14)))


# --------------------------------------------------------------------------- over time


@dataclass(frozen=True)
class _Point:
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    suppressed: bool = False


def _time_points(rows: Any, rounds: list[Any], series: list[Any], lo: float, hi: float
                 ) -> dict[tuple[Any, Any], _Point]:
    round_set, series_set = set(rounds), set(series)
    points: dict[tuple[Any, Any], _Point] = {}
    for i, row in enumerate(_records(rows, "rows")):
        for key in ("round", "series"):
            if key not in row:
                raise ValueError(f"rows[{i}] needs a {key!r} key")
        r, s = row["round"], row["series"]
        if r not in round_set:
            raise ValueError(f"rows[{i}] has round {r!r}, which round_labels does not name")
        if s not in series_set:
            raise ValueError(f"rows[{i}] has series {s!r}, which series_labels does not name")
        if (s, r) in points:
            raise ValueError(f"rows has two entries for series {s!r} in round {r!r}")
        if _flag(row.get("suppressed"), f"rows[{i}]['suppressed']"):
            points[(s, r)] = _Point(None, None, None, None, True)  # a gap; numbers dropped
            continue
        values = {k: _optional_number(row.get(k), f"rows[{i}]['{k}']")
                  for k in ("mean", "ci_low", "ci_high")}
        for k, v in values.items():
            _in_scale(v, lo, hi, f"rows[{i}]['{k}']")
        points[(s, r)] = _Point(values["mean"], values["ci_low"], values["ci_high"],
                                _optional_count(row.get("n"), f"rows[{i}]['n']"))
    return points


def _label_map(mapping: Any, name: str) -> dict[Any, str]:
    if not isinstance(mapping, Mapping) or not mapping:
        raise TypeError(f"{name} must be a non-empty mapping of key -> label, in display order")
    return {k: _check_text(v, f"{name}[{k!r}]") for k, v in mapping.items()}


@_for_screen
def over_time_chart(
    rows: Any,
    *,
    round_labels: Mapping[Any, str],
    scale_min: float,
    scale_max: float,
    series_labels: Mapping[Any, str],
    bands: Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Plot each series' mean per round, with interval whiskers; hidden rounds leave a gap.

    A suppressed or empty round is not interpolated: the line breaks there, so the chart
    never suggests a value nobody may see.

    Parameters
    ----------
    rows : list of mapping or pandas.DataFrame
        One entry per (series, round), with keys ``series`` and ``round`` (keys of the two
        label mappings), ``mean``, ``ci_low``, ``ci_high`` (float or None), ``n`` (optional)
        and ``suppressed`` (bool, default False). Missing combinations are gaps.
    round_labels : mapping
        Round key -> label, in chronological order (the x axis).
    scale_min, scale_max : float
        Ends of the response scale (the y axis always spans them).
    series_labels : mapping
        Series key (a dimension or partner) -> label, in legend order. Up to 8 series get
        distinct Okabe-Ito colours and markers.
    bands : list of mapping, optional
        Score bands ``{"label", "min", "max"}`` shaded behind the lines.
    screen : {"page", "slide", "phone"}, default "page"
        Where the chart is shown: sets its size and text sizes (:data:`SCREENS`).
    title : str, optional
        Printed above the chart.
    labels : mapping, optional
        Words (keys of :data:`DEFAULT_LABELS`: ``score``, ``round``, ``gap_note``,
        ``decimal``).

    Returns
    -------
    matplotlib.figure.Figure
        With one series each point is labelled with its value.

    Examples
    --------
    >>> rows = [{"series": "eq", "round": 1, "mean": 3.1, "ci_low": 2.8, "ci_high": 3.4},
    ...         {"series": "eq", "round": 2, "suppressed": True},
    ...         {"series": "eq", "round": 3, "mean": 3.8, "ci_low": 3.5, "ci_high": 4.1}]
    >>> fig = over_time_chart(rows, round_labels={1: "2025", 2: "2026", 3: "2027"},
    ...                       scale_min=1, scale_max=5, series_labels={"eq": "Equality"})
    >>> fig.axes[0].lines[0].get_ydata().tolist()
    [3.1, nan, 3.8]
    """
    lo, hi = _check_scale(scale_min, scale_max)
    words = _words(labels)
    rounds = _label_map(round_labels, "round_labels")
    series = _label_map(series_labels, "series_labels")
    if len(series) > len(OKABE_ITO):
        raise ValueError(f"over_time_chart shows at most {len(OKABE_ITO)} series; split them")
    points = _time_points(rows, list(rounds), list(series), lo, hi)
    band_list = _bands(bands, lo, hi)
    round_keys = list(rounds)
    has_gap = any(points.get((s, r), _Point(None, None, None, None)).mean is None
                  for s in series for r in round_keys)
    height = 3.6 + (0.35 if title else 0) + (0.25 if has_gap else 0)
    with _style():
        fig = _new_figure(height, title)
        ax = fig.subplots()
        _plain_axes(ax, value_axis="y")
        ax.spines["bottom"].set_visible(True)
        _shade_bands(ax, band_list, vertical=False)
        count = len(series)
        dodge = min(0.07, 0.32 / count) if count > 1 else 0.0
        for k, (key, name) in enumerate(series.items()):
            shift = (k - (count - 1) / 2) * dodge
            _draw_series(ax, k, name, [points.get((key, r)) for r in round_keys], shift,
                         annotate=count == 1, words=words)
        ax.set_xticks(range(len(round_keys)),
                      labels=[_wrap(rounds[r], _chars(14)) for r in round_keys])
        ax.set_xlim(-0.5, len(round_keys) - 0.5)
        pad = (hi - lo) * 0.04
        ax.set_ylim(lo - pad, hi + pad)
        _number_ticks(ax, "y", _scale_ticks(lo, hi), words)
        ax.set_ylabel(words["score"])
        ax.set_xlabel(words["round"])
        if count > 1:
            _series_legend(fig, ax)
        if has_gap:  # supxlabel takes part in the layout, unlike a loose fig.text
            fig.supxlabel(words["gap_note"], x=0.01, ha="left", fontsize=_pt(_SMALL),
                          color=_GREY_TEXT, style="italic")
    return fig


def _series_legend(fig: Figure, ax: Axes) -> None:
    """As many columns as fit the figure's width: a legend wider than the figure is cut off."""
    handles, names = ax.get_legend_handles_labels()
    names = [_wrap(name, _chars(34)) for name in names]
    entry = max(_text_inches(name, _pt(_RC["legend.fontsize"]), 0.56) for name in names) + 0.75
    ncols = max(1, min(len(names), 4, int((_screen().width - 0.3) // entry)))
    fig.legend(handles, names, loc="outside upper center", ncols=ncols, handlelength=2.2)
    rows = math.ceil(len(names) / ncols)
    if _screen().aspect is None:  # a fixed shape (a slide) keeps its height
        fig.set_figheight(fig.get_figheight() + _pt(0.22) * (rows - 1))


def _draw_series(ax: Axes, k: int, name: str, points: list[_Point | None], shift: float, *,
                 annotate: bool, words: dict[str, str]) -> None:
    colour = OKABE_ITO[k]
    xs = np.arange(len(points), dtype=float) + shift
    ys = np.array([p.mean if p is not None and p.mean is not None else np.nan for p in points])
    for x, p in zip(xs, points, strict=True):
        if p is not None and p.mean is not None and p.ci_low is not None and p.ci_high is not None:
            ax.vlines(x, p.ci_low, p.ci_high, color=colour, lw=1.6, alpha=0.55, zorder=2)
    if np.isnan(ys).all():  # say in the legend why a series has no point at all
        hidden = any(p is not None and p.suppressed for p in points)
        name = f"{name}: {words['suppressed' if hidden else 'no_data']}"
    # NaN breaks the line: a suppressed round is a gap, never an interpolated segment
    ax.plot(xs, ys, color=colour, lw=2.0, marker=_MARKERS[k], ms=7, mec="white", mew=0.8,
            label=name, zorder=3)
    if annotate:  # on a white patch, so a rising line never runs through the number
        for x, y in zip(xs, ys, strict=True):
            if not np.isnan(y):
                ax.annotate(_number(float(y), words), (x, y), xytext=(8, 5),
                            textcoords="offset points", ha="left", va="bottom",
                            fontsize=_pt(_SMALL), color=_INK, zorder=4, in_layout=False,
                            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})


# --------------------------------------------------------------------------- from results
# analysis.results.round_results(...).to_dict() holds labels in both languages and nested
# partnership/partner blocks. These helpers pick one language and flatten a section into the
# keyword arguments of a chart function, so a view does
# ``heatmap_chart(**heatmap_chart_inputs(results["heatmap"], language="id"), ...)``.


def _in_language(text: Any, language: str, name: str) -> str:
    """Return a label that is plain text, or a mapping of language code to text."""
    if isinstance(text, str):
        return text
    if isinstance(text, Mapping):
        if language not in text:
            raise ValueError(f"{name} has no {language!r} text (has {sorted(text)})")
        return _check_text(text[language], f"{name}[{language!r}]")
    raise TypeError(f"{name} must be a str or a mapping language -> str, got {text!r}")


def _translated_bands(bands: Any, language: str) -> list[dict[str, Any]] | None:
    if bands is None:
        return None
    if isinstance(bands, str | bytes | Mapping) or not isinstance(bands, Sequence):
        raise TypeError("bands must be a list of {'label', 'min', 'max'} mappings")
    out = []
    for i, band in enumerate(bands):
        if not isinstance(band, Mapping) or not {"label", "min", "max"} <= set(band):
            raise ValueError(f"bands[{i}] needs 'label', 'min' and 'max', got {band!r}")
        out.append({"label": _in_language(band["label"], language, f"bands[{i}]['label']"),
                    "min": band["min"], "max": band["max"]})
    return out


def _section(value: Any, name: str, keys: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping from RoundResults.to_dict()")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"{name} lacks {missing}: is it the right section of to_dict()?")
    return value


def _partnership_point(block: Mapping[str, Any] | None, weighting: str) -> dict[str, Any]:
    """Return the partnership's figure: mean of partner means (default, no interval) or pooled."""
    if weighting not in ("partner_weighted", "respondent_weighted"):
        raise ValueError(
            f"partnership must be 'partner_weighted' or 'respondent_weighted', got {weighting!r}"
        )
    if block is None or block.get("suppressed"):
        return {"suppressed": True}
    if weighting == "respondent_weighted":
        pooled = block.get("respondent_weighted", block)
        if pooled is None:
            return {"suppressed": True}
        return {k: pooled.get(k) for k in ("mean", "ci_low", "ci_high", "n")}
    weighted = block.get("partner_weighted")
    mean = weighted.get("mean") if isinstance(weighted, Mapping) else block.get(
        "partner_weighted_mean")
    return {"mean": mean, "n": block.get("n")}


def score_chart_inputs(
    table: Mapping[str, Any],
    *,
    language: str,
    partnership_label: str | None = None,
    partnership: str = "partner_weighted",
    bands: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of :func:`partner_scores_chart` for one entry of ``scores``.

    Parameters
    ----------
    table : mapping
        One entry of ``RoundResults.to_dict()["scores"]`` (a dimension or the health index).
    language : str
        Language code of the labels to use (``"id"``, ``"en"``).
    partnership_label : str, optional
        Name of the partnership row (e.g. "Kemitraan"); without it the row is left out.
    partnership : {"partner_weighted", "respondent_weighted"}, default "partner_weighted"
        Which partnership figure to show: the mean of partner means (every partner counts
        equally, no interval) or the pooled respondent mean with its interval.
    bands : list of mapping, optional
        The dimension's bands as in the questionnaire (``label`` text or ``{"id", "en"}``).

    Returns
    -------
    dict
        ``rows``, ``scale_min``, ``scale_max``, ``bands`` (translated, or None).

    Examples
    --------
    >>> table = {"scale_min": 1.0, "scale_max": 5.0, "partnership": {"suppressed": True},
    ...          "partners": [{"name": "Dinas", "n": 12, "mean": 3.2, "ci_low": 2.7,
    ...                        "ci_high": 3.5, "suppressed": False},
    ...                       {"name": "Yayasan", "n": None, "mean": None, "ci_low": None,
    ...                        "ci_high": None, "suppressed": True}]}
    >>> score_chart_inputs(table, language="id", partnership_label="Kemitraan")["rows"][1:]
    [{'label': 'Yayasan', 'suppressed': True}, {'label': 'Kemitraan', 'suppressed': True, 'overall': True}]
    """  # noqa: E501
    table = _section(table, "table", ("scale_min", "scale_max", "partners"))
    rows: list[dict[str, Any]] = []
    for i, partner in enumerate(table["partners"]):
        label = _check_text(partner.get("name"), f"partners[{i}]['name']")
        if partner.get("suppressed"):
            rows.append({"label": label, "suppressed": True})
            continue
        rows.append({"label": label, **{k: partner.get(k) for k in
                                        ("mean", "ci_low", "ci_high", "n")}})
    if partnership_label is not None:
        point = _partnership_point(table.get("partnership"), partnership)
        rows.append({"label": _check_text(partnership_label, "partnership_label"), **point,
                     "overall": True})
    return {"rows": rows, "scale_min": table["scale_min"], "scale_max": table["scale_max"],
            "bands": _translated_bands(bands, language)}


def heatmap_chart_inputs(
    heatmap: Mapping[str, Any], *, language: str, partnership_label: str | None = None
) -> dict[str, Any]:
    """Keyword arguments of :func:`heatmap_chart` from ``RoundResults.to_dict()["heatmap"]``.

    Returns ``total_row``, ``matrix``, ``n``, ``row_labels`` (partner names, then
    ``partnership_label`` if given, with the partner-weighted partnership means),
    ``col_labels`` (dimension labels in ``language``), ``scale_min`` and ``scale_max``.

    Examples
    --------
    >>> heatmap = {"labels": [{"id": "Kesetaraan", "en": "Equality"}], "names": ["A", "B"],
    ...            "mean": [[3.5], [None]], "n": [[9], [None]], "partnership": [3.1],
    ...            "scale_min": 1.0, "scale_max": 5.0}
    >>> inputs = heatmap_chart_inputs(heatmap, language="en", partnership_label="All")
    >>> inputs["col_labels"], inputs["row_labels"], inputs["matrix"]
    (['Equality'], ['A', 'B', 'All'], [[3.5], [None], [3.1]])
    """
    heatmap = _section(heatmap, "heatmap", ("labels", "names", "mean", "n", "scale_min",
                                            "scale_max"))
    if heatmap["scale_min"] is None or heatmap["scale_max"] is None:
        raise ValueError("the dimensions use different scales: one heatmap cannot show them")
    matrix = [list(row) for row in heatmap["mean"]]
    counts = [list(row) for row in heatmap["n"]]
    rows = [_check_text(name, "names[]") for name in heatmap["names"]]
    total = partnership_label is not None and heatmap.get("partnership") is not None
    if total:
        matrix.append(list(heatmap["partnership"]))
        counts.append([None] * len(heatmap["partnership"]))
        rows.append(_check_text(partnership_label, "partnership_label"))
    return {
        "total_row": total,
        "matrix": matrix,
        "n": counts,
        "row_labels": rows,
        "col_labels": [_in_language(label, language, f"labels[{j}]")
                       for j, label in enumerate(heatmap["labels"])],
        "scale_min": heatmap["scale_min"],
        "scale_max": heatmap["scale_max"],
    }


def likert_chart_inputs(
    distributions: Sequence[Mapping[str, Any]],
    *,
    language: str,
    item_ids: Sequence[Any] | None = None,
    partner_id: Any = None,
) -> dict[str, Any]:
    """Keyword arguments of :func:`diverging_likert_chart` from ``distributions``.

    Parameters
    ----------
    distributions : list of mapping
        ``RoundResults.to_dict()["distributions"]``.
    language : str
        Language of the item labels.
    item_ids : sequence, optional
        Items to chart, in this order (default: all, in questionnaire order). They must
        share one scale.
    partner_id : hashable, optional
        Whose answers: a partner, or None for the partnership as a whole.

    Returns
    -------
    dict
        ``distributions`` (``counts``, ``dont_know``, ``suppressed``), ``points`` and
        ``item_labels``. The caller adds ``point_labels`` and ``dont_know_label`` from the
        questionnaire's scale.

    Examples
    --------
    >>> entry = {"item_id": "q1", "label": {"id": "Rapat rutin", "en": "Regular meetings"},
    ...          "values": [1.0, 2.0, 3.0],
    ...          "partnership": {"counts": [2, 3, 5], "dont_know": 1, "suppressed": False},
    ...          "partners": [{"partner_id": "a", "suppressed": True}]}
    >>> likert_chart_inputs([entry], language="en")
    {'distributions': [{'counts': [2, 3, 5], 'dont_know': 1}], 'points': [1.0, 2.0, 3.0], 'item_labels': ['Regular meetings']}
    >>> likert_chart_inputs([entry], language="en", partner_id="a")["distributions"]
    [{'suppressed': True}]
    """  # noqa: E501
    if isinstance(distributions, str | bytes | Mapping) or not isinstance(distributions,
                                                                          Sequence):
        raise TypeError("distributions must be the list RoundResults.to_dict() holds")
    by_id = {entry["item_id"]: entry for entry in distributions}
    wanted = list(by_id) if item_ids is None else list(item_ids)
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        raise ValueError(f"distributions has no items {unknown}")
    if not wanted:
        raise ValueError("no items to chart")
    points = list(by_id[wanted[0]]["values"])
    out, labels = [], []
    for item in wanted:
        entry = by_id[item]
        if list(entry["values"]) != points:
            raise ValueError(f"item {item!r} uses another scale than {wanted[0]!r}: chart "
                             f"items of one scale together")
        labels.append(_in_language(entry["label"], language, f"item {item!r} label"))
        if partner_id is None:
            block = entry.get("partnership")
        else:
            block = next((p for p in entry.get("partners", [])
                          if p.get("partner_id") == partner_id), None)
            if block is None:
                raise ValueError(f"item {item!r} has no partner {partner_id!r}")
        if block is None:  # e.g. answers off the scale points: nothing to draw
            out.append({"counts": [0] * len(points), "dont_know": 0})
        elif block.get("suppressed"):
            out.append({"suppressed": True})
        else:
            out.append({"counts": list(block["counts"]), "dont_know": block.get("dont_know")})
    return {"distributions": out, "points": points, "item_labels": labels}


def rating_matrix_chart_inputs(
    entry: Mapping[str, Any], *, partners: Mapping[Any, str]
) -> dict[str, Any]:
    """Keyword arguments of :func:`rating_matrix_chart` for one entry of ``rating_matrix``.

    ``partners`` maps partner id -> name in display order; it gives both axes. A pair
    nobody rated gets ``n`` = 0 (shown as "no data"), a hidden cell None (suppressed).

    Examples
    --------
    >>> entry = {"cells": [{"rater_partner_id": "a", "ratee_partner_id": "b", "n": 6,
    ...                     "mean": 3.5, "suppressed": False},
    ...                    {"rater_partner_id": "b", "ratee_partner_id": "a", "n": None,
    ...                     "mean": None, "suppressed": True}]}
    >>> inputs = rating_matrix_chart_inputs(entry, partners={"a": "A", "b": "B", "c": "C"})
    >>> inputs["matrix"][0], inputs["n"][0], inputs["n"][1]
    ([None, 3.5, None], [None, 6, 0], [None, None, 0])
    """
    entry = _section(entry, "entry", ("cells",))
    if not isinstance(partners, Mapping) or not partners:
        raise TypeError("partners must be a non-empty mapping of partner id -> name")
    ids = list(partners)
    where = {pid: i for i, pid in enumerate(ids)}
    size = len(ids)
    matrix: list[list[float | None]] = [[None] * size for _ in range(size)]
    counts: list[list[int | None]] = [[0] * size for _ in range(size)]
    for i in range(size):
        counts[i][i] = None
    for cell in entry["cells"]:
        rater, ratee = cell["rater_partner_id"], cell["ratee_partner_id"]
        if rater not in where or ratee not in where:
            raise ValueError(f"a rating cell names partner {rater!r} or {ratee!r}, which "
                             f"partners does not list")
        i, j = where[rater], where[ratee]
        hidden = bool(cell.get("suppressed"))
        matrix[i][j] = None if hidden else cell.get("mean")
        counts[i][j] = None if hidden else cell.get("n")
    names = [_check_text(partners[pid], f"partners[{pid!r}]") for pid in ids]
    return {"matrix": matrix, "n": counts, "rater_labels": names, "ratee_labels": names}


def over_time_chart_inputs(
    series: Sequence[Mapping[str, Any]],
    *,
    language: str,
    dimension: Any = None,
    partnership: str = "partner_weighted",
) -> dict[str, Any]:
    """Keyword arguments of :func:`over_time_chart` from ``over_time["series"]``.

    With ``dimension`` None each series is a dimension (and the health index), showing the
    partnership figure per round; with a dimension id each series is a partner on that
    dimension. Suppressed rounds come through as gaps. The caller adds ``round_labels``
    (round id -> name, in ``over_time["meta"]["rounds"]`` order) and the scale.

    Returns
    -------
    dict
        ``rows`` and ``series_labels``.

    Examples
    --------
    >>> series = [{"dimension": "eq", "label": {"id": "Kesetaraan", "en": "Equality"},
    ...            "partnership": [{"round_id": 1, "suppressed": False, "n": 30,
    ...                             "partner_weighted_mean": 3.4},
    ...                            {"round_id": 2, "suppressed": True}],
    ...            "partners": []}]
    >>> inputs = over_time_chart_inputs(series, language="id")
    >>> inputs["series_labels"], inputs["rows"][1]
    ({'eq': 'Kesetaraan'}, {'series': 'eq', 'round': 2, 'suppressed': True})
    """
    if isinstance(series, str | bytes | Mapping) or not isinstance(series, Sequence):
        raise TypeError("series must be the list over_time['series'] holds")
    rows: list[dict[str, Any]] = []
    labels: dict[Any, str] = {}
    if dimension is None:
        for entry in series:
            key = entry["dimension"]
            labels[key] = _in_language(entry["label"], language, f"series {key!r} label")
            for point in entry["partnership"]:
                rows.append({"series": key, "round": point["round_id"],
                             **_partnership_point(point, partnership)})
        return {"rows": rows, "series_labels": labels}
    found = next((e for e in series if e["dimension"] == dimension), None)
    if found is None:
        raise ValueError(f"series has no dimension {dimension!r}")
    for partner in found["partners"]:
        key = partner["partner_id"]
        labels[key] = _check_text(partner["name"], f"partner {key!r} name")
        for point in partner["rounds"]:
            if point.get("suppressed"):
                rows.append({"series": key, "round": point["round_id"], "suppressed": True})
                continue
            rows.append({"series": key, "round": point["round_id"],
                         **{k: point.get(k) for k in ("mean", "ci_low", "ci_high", "n")}})
    return {"rows": rows, "series_labels": labels}


# --------------------------------------------------------------------------- alt text


def _join_title(title: str | None, body: str) -> str:
    if not title:
        return body
    title = title.strip()
    return f"{title} {body}" if title.endswith((".", ":", "!", "?")) else f"{title}. {body}"


def _alt_partner_scores(rows: Any, words: dict[str, str], *, scale_min: float, scale_max: float,
                        title: str | None = None, **_: Any) -> str:
    lo, hi = _check_scale(scale_min, scale_max)
    parts = []
    for row in _score_rows(rows, lo, hi):
        if row.suppressed or row.mean is None:
            parts.append(f"{row.label} {words['suppressed' if row.suppressed else 'no_data']}")
            continue
        text = f"{row.label} {_number(row.mean, words)}"
        if row.ci_low is not None and row.ci_high is not None:
            text += f" ({_number(row.ci_low, words)}\u2013{_number(row.ci_high, words)}"
            text += f", {_count(row.n, words)})" if row.n is not None else ")"
        elif row.n is not None:
            text += f" ({_count(row.n, words)})"
        parts.append(text)
    body = _fill(words["alt_scores"], "alt_scores", min=_scale_number(lo, words),
                 max=_scale_number(hi, words), items="; ".join(parts))
    return _join_title(title, body)


def _alt_matrix(matrix: Any, words: dict[str, str], key: str, rows: list[str], cols: list[str],
                lo: float, hi: float, suppressed_label: str, diagonal: bool,
                title: str | None, n: Any) -> str:
    grid = _matrix(matrix, "matrix", (len(rows), len(cols)))
    counts = _counts_matrix(n, (len(rows), len(cols)))
    sentences = []
    for i, row in enumerate(rows):
        cells = []
        for j, col in enumerate(cols):
            if diagonal and i == j:
                continue
            value = grid[i][j]
            if value is not None:
                cells.append(f"{col} {_number(value, words)}")
            elif counts is not None and counts[i][j] == 0:
                cells.append(f"{col} {words['no_data']}")
            else:
                cells.append(f"{col} {suppressed_label}")
        sentences.append(f"{row}: {', '.join(cells)}")
    body = _fill(words[key], key, min=_scale_number(lo, words), max=_scale_number(hi, words),
                 items=". ".join(sentences))
    return _join_title(title, body)


def _alt_heatmap(matrix: Any, words: dict[str, str], *, row_labels: Sequence[str],
                 col_labels: Sequence[str], scale_min: float, scale_max: float,
                 suppressed_label: str, title: str | None = None, n: Any = None,
                 **_: Any) -> str:
    lo, hi = _check_scale(scale_min, scale_max)
    return _alt_matrix(matrix, words, "alt_heatmap", _check_texts(row_labels, "row_labels"),
                       _check_texts(col_labels, "col_labels"), lo, hi,
                       _check_text(suppressed_label, "suppressed_label"), False, title, n)


def _alt_rating_matrix(matrix: Any, words: dict[str, str], *, rater_labels: Sequence[str],
                       ratee_labels: Sequence[str], scale_min: float, scale_max: float,
                       suppressed_label: str, title: str | None = None, n: Any = None,
                       **_: Any) -> str:
    lo, hi = _check_scale(scale_min, scale_max)
    rows = _check_texts(rater_labels, "rater_labels")
    cols = _check_texts(ratee_labels, "ratee_labels")
    return _alt_matrix(matrix, words, "alt_rating", rows, cols, lo, hi,
                       _check_text(suppressed_label, "suppressed_label"),
                       len(rows) == len(cols), title, n)


def _alt_likert(distributions: Any, words: dict[str, str], *, points: Sequence[Any],
                point_labels: Sequence[str], dont_know_label: str, item_labels: Sequence[str],
                title: str | None = None, **_: Any) -> str:
    point_list = list(points)
    names = _check_texts(point_labels, "point_labels", len(point_list))
    rows = _distributions(distributions, _check_texts(item_labels, "item_labels"), point_list)
    sentences = []
    for row in rows:
        if row.suppressed or not row.valid:
            sentences.append(f"{row.label}: {words['suppressed' if row.suppressed else 'no_data']}")
            continue
        pct = _segments(row.counts)[0]
        shares = ", ".join(f"{name} {_percent(p, words)}" for name, p in zip(
            names, pct, strict=True))
        total = row.valid + (row.dont_know or 0)
        dk = _percent(100.0 * (row.dont_know or 0) / total, words)
        sentences.append(f"{row.label} ({_count(row.valid, words)}): {shares}; "
                         f"{_check_text(dont_know_label, 'dont_know_label')} {dk}")
    body = _fill(words["alt_likert"], "alt_likert", items=". ".join(sentences))
    return _join_title(title, body)


def _alt_over_time(rows: Any, words: dict[str, str], *, round_labels: Mapping[Any, str],
                   series_labels: Mapping[Any, str], scale_min: float, scale_max: float,
                   title: str | None = None, **_: Any) -> str:
    lo, hi = _check_scale(scale_min, scale_max)
    rounds = _label_map(round_labels, "round_labels")
    series = _label_map(series_labels, "series_labels")
    points = _time_points(rows, list(rounds), list(series), lo, hi)
    sentences = []
    for s, name in series.items():
        cells = []
        for r, round_name in rounds.items():
            point = points.get((s, r))
            if point is not None and point.mean is not None:
                value = _number(point.mean, words)
            else:
                value = words["suppressed" if point is not None and point.suppressed else
                              "no_data"]
            cells.append(f"{round_name} {value}")
        sentences.append(f"{name}: {', '.join(cells)}")
    body = _fill(words["alt_over_time"], "alt_over_time", min=_scale_number(lo, words),
                 max=_scale_number(hi, words), items=". ".join(sentences))
    return _join_title(title, body)


_ALT_BUILDERS: dict[str, Callable[..., str]] = {
    "partner_scores": _alt_partner_scores,
    "heatmap": _alt_heatmap,
    "rating_matrix": _alt_rating_matrix,
    "diverging_likert": _alt_likert,
    "over_time": _alt_over_time,
}
#: The chart kinds :func:`chart_alt_text` describes, named after their chart functions.
ALT_TEXT_KINDS: tuple[str, ...] = tuple(_ALT_BUILDERS)


def chart_alt_text(
    kind: str, data: Any, labels: Mapping[str, str] | None = None, **options: Any
) -> str:
    """Describe a chart in one short paragraph, for ``alt`` text and the SVG ``<desc>``.

    Call it with the same data and keyword arguments as the chart function, so the text
    says exactly what the picture shows: every group's value, and the suppressed label
    wherever the chart hides a figure (never the hidden number).

    Parameters
    ----------
    kind : str
        One of :data:`ALT_TEXT_KINDS`: ``"partner_scores"``, ``"heatmap"``,
        ``"rating_matrix"``, ``"diverging_likert"``, ``"over_time"``.
    data : object
        The chart's first argument (rows, matrix or distributions).
    labels : mapping, optional
        The words passed to the chart; the sentence template is ``labels["alt_scores"]``,
        ``"alt_heatmap"``, ``"alt_rating"``, ``"alt_likert"`` or ``"alt_over_time"``, with
        placeholders ``{min}``, ``{max}`` and ``{items}``.
    **options
        The chart's keyword arguments (``scale_min``, ``row_labels``, ``title``...); ones
        that do not change the text (``bands``, ``sort``) are accepted and ignored.

    Returns
    -------
    str

    Examples
    --------
    >>> rows = [{"label": "A", "mean": 3.84, "ci_low": 3.5, "ci_high": 4.1, "n": 12},
    ...         {"label": "B", "suppressed": True}]
    >>> chart_alt_text("partner_scores", rows, {"suppressed": "fewer than 5 responses"},
    ...                scale_min=1, scale_max=5)
    'Mean scores on a 1 to 5 scale with 95% confidence intervals: A 3.8 (3.5–4.1, n = 12); B fewer than 5 responses.'
    """  # noqa: E501
    if kind not in _ALT_BUILDERS:
        raise ValueError(f"unknown chart kind {kind!r}; expected one of {list(ALT_TEXT_KINDS)}")
    return _ALT_BUILDERS[kind](data, _words(labels), **options)
