"""Inline SVG charts for the trends page, each with a table that gives the same figures.

The web view runs air-gapped and without JavaScript, so a chart is a self-contained SVG string
that the template writes into the page (mark it safe: every user-supplied string in it is
already escaped here). The table goes into the page as well, for screen readers and for anyone
who wants the numbers; its strings are plain, and Jinja2's autoescape escapes them.

Colours are ``fill``/``stroke`` presentation attributes next to CSS classes: any rule in the
page's stylesheet beats a presentation attribute, so the page can restyle a chart, and a chart
saved on its own still reads. Every number is rounded to one decimal so that the same input
gives byte-identical output (snapshot tests, HTTP caching).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

# Eight colours for series, assigned in order, each at least 3:1 against white (WCAG non-text
# contrast) and taken mostly from the Okabe-Ito set, which stays apart for colour-blind readers.
PALETTE = (
    "#0072b2",  # blue
    "#d55e00",  # vermillion
    "#009e73",  # bluish green
    "#cc79a7",  # reddish purple
    "#6a3d9a",  # purple
    "#8c6d00",  # dark gold
    "#882255",  # wine
    "#5c6670",  # grey
)
WARN = "#b36b00"
OVER = "#c0362c"
NO_HOTFIXES = "No hotfixes in this period"
NO_FOLLOW_UPS = "No follow-ups due in this period"
# Where a hotfix has no deployment, the durations chart leaves a gap marked with a dash.
GAP = "\N{EN DASH}"

_WIDTH = 640
_HEIGHT = 320
_LEFT = 48
_RIGHT = 16
_BOTTOM = 28
_TEXT = "#1f2328"
_GRID = "#d0d7de"
# Text cannot be measured without a renderer; this overestimates a 12px sans-serif character so
# that legend entries and axis labels laid out with it do not collide.
_CHAR_WIDTH = 7.0
_LEGEND_ROW = 18.0


@dataclass(frozen=True)
class Series:
    """One repository's hotfixes: a count per week, in the order of the chart's weeks."""

    name: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Table:
    """A chart's figures as rows of plain strings (the template escapes them)."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """The SVG (escaped, ready to inline) and the table that says the same in words."""

    svg: str
    table: Table


@dataclass(frozen=True)
class _Plot:
    """The rectangle inside the axes, in viewBox units."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


def nice_ticks(maximum: float, *, count: int = 5) -> tuple[float, ...]:
    """Axis ticks from 0 past ``maximum`` in steps of 1, 2 or 5 times a power of ten.

    At most ``count`` steps (so ``count + 1`` ticks). Steps never go below 1: the charts count
    hotfixes and minutes, and a tick at 0.2 of a hotfix would be noise.
    """
    if not math.isfinite(maximum):
        raise ValueError(f"axis maximum must be finite, not {maximum}")
    if count < 1:
        raise ValueError(f"tick count must be at least 1, not {count}")
    if maximum <= 0:
        return (0.0, 1.0)
    raw = maximum / count
    step = 1
    if raw > 1:
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    steps = math.ceil(maximum / step)
    return tuple(float(i * step) for i in range(steps + 1))


def stacked_bars(
    title: str,
    weeks: Sequence[str],
    series: Sequence[Series],
    *,
    limit: int | None = None,
    limit_label: str = "rate limit",
) -> Chart:
    """Hotfixes per week, one stacked colour per repository, and the rate limit as a dashed line.

    The limit is drawn against the weekly total, so the caller passes a limit for the same scope
    and window as the weeks (``rate_limit.max_hotfixes`` when the window is seven days). More
    than eight series reuse the palette: fold the smallest into an "other" series first.
    """
    for one in series:
        _check_counts(one.name, one.values, len(weeks))
    if limit is not None and limit < 0:
        raise ValueError(f"{limit_label} must not be negative, not {limit}")
    headers = ("Week", *(one.name for one in series), "Total")
    caption = title if limit is None else f"{title} ({limit_label}: {limit})"
    totals = [sum(one.values[i] for one in series) for i in range(len(weeks))]
    if not any(totals):
        return _empty("stacked-bars", title, NO_HOTFIXES, Table(caption, headers, ()))

    legend, legend_bottom = _legend([one.name for one in series], top=44.0)
    height = _HEIGHT + legend_bottom - 44.0
    plot = _Plot(_LEFT, legend_bottom + _LEGEND_ROW, _WIDTH - _RIGHT, height - _BOTTOM)
    ticks = nice_ticks(max(*totals, limit or 0))
    slot = plot.width / len(weeks)
    bar = min(slot * 0.7, 56.0)
    centers = [plot.left + slot * (i + 0.5) for i in range(len(weeks))]

    body = [*_y_axis(plot, ticks), *legend]
    for i, week in enumerate(weeks):
        below = 0
        for index, one in enumerate(series):
            value = one.values[i]
            if value == 0:
                continue
            body.append(
                _bar(
                    centers[i] - bar / 2,
                    bar,
                    _y(plot, below + value, ticks[-1]),
                    _y(plot, below, ticks[-1]),
                    f"bar series-{index % len(PALETTE)}",
                    PALETTE[index % len(PALETTE)],
                    f"{one.name}, {week}: {value}",
                )
            )
            below += value
    body.extend(_x_labels(plot, weeks, centers, slot))
    if limit is not None:
        body.extend(_limit(plot, _y(plot, limit, ticks[-1]), f"{limit_label}: {limit}"))

    busiest = max(range(len(weeks)), key=lambda i: totals[i])
    desc = (
        f"Stacked bars: hotfixes per week by repository, {len(weeks)} weeks from {weeks[0]} "
        f"to {weeks[-1]}, {len(series)} repositories. Most in one week: {totals[busiest]} "
        f"({weeks[busiest]})."
    )
    if limit is not None:
        desc += f" {limit_label.capitalize()}: {limit}."
    rows = tuple(
        (week, *(str(one.values[i]) for one in series), str(totals[i]))
        for i, week in enumerate(weeks)
    )
    svg = _document("stacked-bars", title, desc, height, body)
    return Chart(svg, Table(caption, headers, rows))


def thresholds(
    title: str,
    people: Sequence[tuple[str, int]],
    *,
    note_after: int,
    code_yellow_after: int,
) -> Chart:
    """Hotfixes per author this quarter as horizontal bars, against the two quota thresholds.

    "Past" means more than, as in ``rules/author_quota``: a bar that ends on a threshold line
    has not crossed it. Bars past code yellow get the class ``over``, past the process-bug
    note ``warn``; the table says the same in words, so colour is not the only cue.
    """
    for login, count in people:
        if count < 0:
            raise ValueError(f"{login}: counts must not be negative")
    headers = ("Author", "Hotfixes", "Status")
    rows = tuple(
        (login, str(count), _quota_status(count, note_after, code_yellow_after))
        for login, count in people
    )
    table = Table(title, headers, rows)
    if not people:
        return _empty("thresholds", title, NO_HOTFIXES, table)

    row = 24.0
    height = 60.0 + row * len(people) + _BOTTOM
    plot = _Plot(160.0, 60.0, _WIDTH - 40.0, height - _BOTTOM)
    ticks = nice_ticks(max(*(count for _, count in people), note_after, code_yellow_after))
    top = ticks[-1]

    body = [*_x_axis(plot, ticks)]
    for i, (login, count) in enumerate(people):
        middle = plot.top + row * (i + 0.5)
        status = _quota_status(count, note_after, code_yellow_after)
        css, fill = {"code yellow": ("over", OVER), "process bug": ("warn", WARN)}.get(
            status, ("", PALETTE[0])
        )
        end = _x(plot, count, top)
        tip = _element("title", {}, _esc(f"{login}: {count} ({status})"))
        attrs: dict[str, str | float] = {
            "class": f"bar {css}".strip(),
            "x": plot.left,
            "y": _round(middle - 8),
            "width": _round(end - plot.left),
            "height": 16,
            "fill": fill,
        }
        body.append(_element("rect", attrs, tip))
        body.append(_text(plot.left - 8, middle + 4, _clip(login, 20), "name", anchor="end"))
        body.append(_text(end + 4, middle + 4, str(count), "value"))
    for value, css, label, y in (
        (note_after, "threshold note", f"process bug (> {note_after})", 38.0),
        (code_yellow_after, "threshold code-yellow", f"code yellow (> {code_yellow_after})", 52.0),
    ):
        body.extend(_threshold(plot, _x(plot, value, top), css, label, y))

    flagged = sum(1 for _, count in people if count > note_after)
    desc = (
        f"Horizontal bars: hotfixes this quarter for {len(people)} authors, with lines at the "
        f"process-bug note (more than {note_after}) and code yellow (more than "
        f"{code_yellow_after}). {flagged} past the note."
    )
    return Chart(_document("thresholds", title, desc, height, body), table)


def durations(
    title: str,
    points: Sequence[tuple[str, float | None]],
    *,
    unit: str = "min",
) -> Chart:
    """Minutes from merge to healthy per hotfix; a hotfix never deployed leaves a marked gap.

    The gap keeps every hotfix in its place along the axis, so a missing deployment is seen
    rather than silently closing ranks.
    """
    for label, value in points:
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"{label}: duration must be a finite number >= 0, not {value}")
    headers = ("Hotfix", f"Merge to healthy ({unit})")
    rows = tuple(
        (label, "no deployment" if value is None else _num(value)) for label, value in points
    )
    table = Table(title, headers, rows)
    if not points:
        return _empty("durations", title, NO_HOTFIXES, table)

    plot = _Plot(_LEFT, 44.0, _WIDTH - _RIGHT, _HEIGHT - _BOTTOM)
    known = [value for _, value in points if value is not None]
    ticks = nice_ticks(max(known, default=0.0))
    slot = plot.width / len(points)
    bar = min(slot * 0.7, 40.0)
    centers = [plot.left + slot * (i + 0.5) for i in range(len(points))]

    body = [*_y_axis(plot, ticks), _text(plot.left, 36, unit, "unit", anchor="end")]
    for center, (label, value) in zip(centers, points, strict=True):
        if value is None:
            body.append(_text(center, plot.bottom - 4, GAP, "gap", anchor="middle"))
            continue
        body.append(
            _bar(
                center - bar / 2,
                bar,
                _y(plot, value, ticks[-1]),
                plot.bottom,
                "bar series-0",
                PALETTE[0],
                f"{label}: {_num(value)} {unit}",
            )
        )
    body.extend(_x_labels(plot, [label for label, _ in points], centers, slot))

    missing = len(points) - len(known)
    desc = f"Bars: time from merge to healthy, in {unit}, for {len(points)} hotfixes."
    if known:
        desc += f" Longest: {_num(max(known))} {unit}."
    if missing:
        desc += f" {missing} without a deployment."
    return Chart(_document("durations", title, desc, _HEIGHT, body), table)


def on_time(
    title: str,
    weeks: Sequence[str],
    on_time: Sequence[int],
    overdue: Sequence[int],
) -> Chart:
    """Follow-ups closed on time and overdue per week, as two bars side by side."""
    _check_counts("on time", on_time, len(weeks))
    _check_counts("overdue", overdue, len(weeks))
    headers = ("Week", "On time", "Overdue")
    rows = tuple(
        (week, str(done), str(late))
        for week, done, late in zip(weeks, on_time, overdue, strict=True)
    )
    table = Table(title, headers, rows)
    if not any(on_time) and not any(overdue):
        return _empty("on-time", title, NO_FOLLOW_UPS, Table(title, headers, ()))

    legend, legend_bottom = _legend(["On time", "Overdue"], top=44.0)
    plot = _Plot(_LEFT, legend_bottom + _LEGEND_ROW, _WIDTH - _RIGHT, _HEIGHT - _BOTTOM)
    ticks = nice_ticks(max(*on_time, *overdue))
    slot = plot.width / len(weeks)
    bar = min(slot * 0.35, 28.0)
    centers = [plot.left + slot * (i + 0.5) for i in range(len(weeks))]

    body = [*_y_axis(plot, ticks), *legend]
    for i, week in enumerate(weeks):
        for index, (name, values) in enumerate((("On time", on_time), ("Overdue", overdue))):
            if values[i] == 0:
                continue
            body.append(
                _bar(
                    centers[i] - bar + index * bar,
                    bar,
                    _y(plot, values[i], ticks[-1]),
                    plot.bottom,
                    f"bar series-{index} {'on-time' if index == 0 else 'overdue'}",
                    PALETTE[index],
                    f"{week}, {name.lower()}: {values[i]}",
                )
            )
    body.extend(_x_labels(plot, weeks, centers, slot))

    desc = (
        f"Grouped bars: follow-ups on time and overdue per week, {len(weeks)} weeks from "
        f"{weeks[0]} to {weeks[-1]}. {sum(on_time)} on time, {sum(overdue)} overdue."
    )
    return Chart(_document("on-time", title, desc, _HEIGHT, body), table)


def _check_counts(name: str, values: Sequence[int], expected: int) -> None:
    # A count that does not line up with its weeks would draw a plausible, wrong chart.
    if len(values) != expected:
        raise ValueError(f"{name}: {len(values)} values for {expected} weeks")
    if any(value < 0 for value in values):
        raise ValueError(f"{name}: counts must not be negative")


def _quota_status(count: int, note_after: int, code_yellow_after: int) -> str:
    if count > code_yellow_after:
        return "code yellow"
    if count > note_after:
        return "process bug"
    return "below thresholds"


def _document(kind: str, title: str, desc: str, height: float, body: Sequence[str]) -> str:
    # aria-labelledby as well as <title>: some screen readers skip an inline SVG's <title>.
    ident = _ident(kind, title)
    root = {
        "xmlns": "http://www.w3.org/2000/svg",
        "viewBox": f"0 0 {_WIDTH} {_num(height)}",
        "width": "100%",
        "role": "img",
        "aria-labelledby": f"{ident}-title {ident}-desc",
        "class": f"chart {kind}",
        "font-family": "system-ui, sans-serif",
        "font-size": "12",
    }
    parts = [
        _element("title", {"id": f"{ident}-title"}, _esc(title)),
        _element("desc", {"id": f"{ident}-desc"}, _esc(desc)),
        _element(
            "rect",
            {"class": "background", "width": _WIDTH, "height": _round(height), "fill": "#ffffff"},
        ),
        _text(16, 20, _clip(title, 80), "chart-title", size=14, weight="600"),
        *body,
    ]
    return _element("svg", root, "\n" + "\n".join(parts) + "\n")


def _empty(kind: str, title: str, message: str, table: Table) -> Chart:
    body = [_text(_WIDTH / 2, _HEIGHT / 2, message, "empty", anchor="middle", size=14)]
    return Chart(_document(kind, title, message + ".", _HEIGHT, body), table)


def _ident(kind: str, title: str) -> str:
    # Ids must be unique on the page and valid in XML: the chart kind and an ASCII slug of the
    # title keep them apart as long as the titles differ, without a counter that would make the
    # output depend on call order.
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in title.lower()).split()
    return "-".join([kind, *words])[:60].rstrip("-")


def _y_axis(plot: _Plot, ticks: Sequence[float]) -> list[str]:
    parts = []
    for tick in ticks:
        y = _y(plot, tick, ticks[-1])
        if tick:
            parts.append(_line(plot.left, y, plot.right, y, "grid", _GRID))
        parts.append(_text(plot.left - 6, y + 4, _num(tick), "y-tick", anchor="end"))
    parts.append(_line(plot.left, plot.bottom, plot.right, plot.bottom, "axis", _TEXT))
    return parts


def _x_axis(plot: _Plot, ticks: Sequence[float]) -> list[str]:
    parts = []
    for tick in ticks:
        x = _x(plot, tick, ticks[-1])
        if tick:
            parts.append(_line(x, plot.top, x, plot.bottom, "grid", _GRID))
        parts.append(_text(x, plot.bottom + 16, _num(tick), "x-tick", anchor="middle"))
    parts.append(_line(plot.left, plot.top, plot.left, plot.bottom, "axis", _TEXT))
    return parts


def _x_labels(
    plot: _Plot, labels: Sequence[str], centers: Sequence[float], slot: float
) -> list[str]:
    # Labels that would overlap are thinned to every n-th one, keeping the text horizontal and
    # readable; each bar's tooltip and the table still name every one.
    clipped = [_clip(label, 20) for label in labels]
    widest = max(len(label) for label in clipped) * _CHAR_WIDTH + 8
    every = max(1, math.ceil(widest / slot))
    return [
        _text(center, plot.bottom + 16, label, "x-tick", anchor="middle")
        for i, (label, center) in enumerate(zip(clipped, centers, strict=True))
        if i % every == 0
    ]


def _legend(names: Sequence[str], *, top: float) -> tuple[list[str], float]:
    """Swatches and names in rows across the width; returns them and the last row's baseline."""
    parts = []
    x, y = float(_LEFT), top
    for index, name in enumerate(names):
        label = _clip(name, 28)
        width = 18 + len(label) * _CHAR_WIDTH
        if x > _LEFT and x + width > _WIDTH - _RIGHT:
            x, y = float(_LEFT), y + _LEGEND_ROW
        colour = index % len(PALETTE)
        swatch: dict[str, str | float] = {
            "class": f"swatch series-{colour}",
            "x": _round(x),
            "y": _round(y - 10),
            "width": 12,
            "height": 12,
            "fill": PALETTE[colour],
        }
        parts.append(_element("rect", swatch))
        parts.append(_text(x + 18, y, label, "legend-label"))
        x += width + 16
    return parts, y


def _limit(plot: _Plot, y: float, label: str) -> list[str]:
    line = _line(plot.left, y, plot.right, y, "limit", _TEXT, dashed=True)
    # A white halo keeps the label readable where it crosses a bar.
    text = _text(plot.right - 4, y - 4, label, "limit-label", anchor="end", halo=True)
    return [line, text]


def _threshold(plot: _Plot, x: float, css: str, label: str, y: float) -> list[str]:
    line = _line(x, plot.top - 4, x, plot.bottom, css, _TEXT, dashed=True)
    fits_right = x + 4 + len(label) * _CHAR_WIDTH <= _WIDTH - 4
    anchor = "start" if fits_right else "end"
    text = _text(x + 4 if fits_right else x - 4, y, label, "threshold-label", anchor=anchor)
    return [line, text]


def _bar(x: float, width: float, top: float, bottom: float, css: str, fill: str, tip: str) -> str:
    # Height comes from the rounded edges, not rounded on its own, so stacked bars meet exactly.
    y, base = _round(top), _round(bottom)
    attrs: dict[str, str | float] = {
        "class": css,
        "x": _round(x),
        "y": y,
        "width": _round(width),
        "height": _round(base - y),
        "fill": fill,
    }
    return _element("rect", attrs, _element("title", {}, _esc(tip)))


def _line(
    x1: float, y1: float, x2: float, y2: float, css: str, stroke: str, *, dashed: bool = False
) -> str:
    attrs: dict[str, str | float] = {"class": css, "x1": x1, "y1": y1, "x2": x2, "y2": y2}
    attrs["stroke"] = stroke
    if dashed:
        attrs["stroke-dasharray"] = "6 4"
    return _element("line", attrs)


def _text(
    x: float,
    y: float,
    content: str,
    css: str,
    *,
    anchor: str = "start",
    size: int | None = None,
    weight: str | None = None,
    halo: bool = False,
) -> str:
    attrs: dict[str, str | float] = {"class": css, "x": x, "y": y, "fill": _TEXT}
    if anchor != "start":
        attrs["text-anchor"] = anchor
    if size is not None:
        attrs["font-size"] = str(size)
    if weight is not None:
        attrs["font-weight"] = weight
    if halo:
        attrs.update({"stroke": "#ffffff", "stroke-width": "3", "paint-order": "stroke"})
    return _element("text", attrs, _esc(content))


def _element(name: str, attrs: Mapping[str, str | float], inner: str = "") -> str:
    rendered = "".join(
        f' {key}="{_esc(value) if isinstance(value, str) else _num(value)}"'
        for key, value in attrs.items()
    )
    return f"<{name}{rendered}>{inner}</{name}>" if inner else f"<{name}{rendered}/>"


def _y(plot: _Plot, value: float, top: float) -> float:
    return plot.bottom - value / top * plot.height


def _x(plot: _Plot, value: float, top: float) -> float:
    return plot.left + value / top * plot.width


def _round(value: float) -> float:
    return round(value, 1)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    text = text.removesuffix(".0")
    return "0" if text == "-0" else text


def _esc(text: str) -> str:
    # XML 1.0 forbids most control characters even when escaped; a title or a name containing
    # one would make the whole SVG unparseable, so they are dropped rather than escaped.
    return escape("".join(c for c in text if c >= " " or c in "\t\n\r"), quote=True)


def _clip(text: str, limit: int) -> str:
    # Clipped before escaping, so an entity is never cut in half.
    return text if len(text) <= limit else text[: limit - 1] + "…"
