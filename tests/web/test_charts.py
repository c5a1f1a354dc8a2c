"""The trends page's charts, checked through the SVG they draw rather than its exact text."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from app.web.charts import (
    GAP,
    NO_FOLLOW_UPS,
    NO_HOTFIXES,
    PALETTE,
    Chart,
    Series,
    durations,
    nice_ticks,
    on_time,
    stacked_bars,
    thresholds,
)

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = ("2026-W20", "2026-W21", "2026-W22")


def parse(chart: Chart) -> ET.Element:
    return ET.fromstring(chart.svg)


def classes(element: ET.Element) -> set[str]:
    return set(element.get("class", "").split())


def rects(root: ET.Element, css: str = "bar") -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if css in classes(rect)]


def texts(root: ET.Element, css: str) -> list[str]:
    return [text.text or "" for text in root.iter(f"{SVG}text") if css in classes(text)]


def lines(root: ET.Element, css: str) -> list[ET.Element]:
    return [line for line in root.iter(f"{SVG}line") if css in classes(line)]


def num(element: ET.Element, attribute: str) -> float:
    return float(element.get(attribute, "nan"))


def tooltip(element: ET.Element) -> str:
    title = element.find(f"{SVG}title")
    assert title is not None
    return title.text or ""


def vertical_scale(root: ET.Element) -> tuple[float, float]:
    """The baseline's y and pixels per unit, read from the drawn y-axis."""
    baseline = num(lines(root, "axis")[0], "y1")
    top_label = max((float(t) for t in texts(root, "y-tick")), default=0.0)
    top_grid = min(num(line, "y1") for line in lines(root, "grid"))
    return baseline, (baseline - top_grid) / top_label


def hotfixes(limit: int | None = None) -> Chart:
    return stacked_bars(
        "Hotfixes per week",
        WEEKS,
        [Series("acme/api", (2, 4, 0)), Series("acme/web", (3, 0, 1))],
        limit=limit,
    )


# nice_ticks


@pytest.mark.parametrize(
    ("maximum", "count", "expected"),
    [
        pytest.param(0, 5, (0, 1), id="nothing still gives an axis from 0 to 1"),
        pytest.param(-3, 5, (0, 1), id="a negative maximum gives the same"),
        pytest.param(0.4, 5, (0, 1), id="a fraction rounds up to one whole step"),
        pytest.param(1, 5, (0, 1), id="one gives no fractional ticks"),
        pytest.param(3, 5, (0, 1, 2, 3), id="three counts in ones"),
        pytest.param(5, 5, (0, 1, 2, 3, 4, 5), id="five counts in ones to exactly five"),
        pytest.param(7, 5, (0, 2, 4, 6, 8), id="seven counts in twos past the maximum"),
        pytest.param(10, 5, (0, 2, 4, 6, 8, 10), id="ten counts in twos"),
        pytest.param(23, 5, (0, 5, 10, 15, 20, 25), id="twenty-three counts in fives"),
        pytest.param(101, 5, (0, 50, 100, 150), id="just past a hundred jumps to fifties"),
        pytest.param(7.5, 5, (0, 2, 4, 6, 8), id="a fractional maximum is covered"),
        pytest.param(7, 2, (0, 5, 10), id="fewer ticks asked for, a larger step"),
    ],
)
def test_nice_ticks(maximum: float, count: int, expected: tuple[float, ...]) -> None:
    assert nice_ticks(maximum, count=count) == expected


@pytest.mark.parametrize("maximum", [1, 4, 9, 17, 49, 99, 250, 999, 12345])
def test_nice_ticks_stay_within_six_and_cover_the_maximum(maximum: int) -> None:
    ticks = nice_ticks(maximum)
    assert 2 <= len(ticks) <= 6
    assert ticks[0] == 0
    assert ticks[-1] >= maximum
    assert len({b - a for a, b in itertools.pairwise(ticks)}) == 1


@pytest.mark.parametrize("maximum", [float("inf"), float("nan")])
def test_nice_ticks_refuse_a_maximum_that_is_not_finite(maximum: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        nice_ticks(maximum)


# stacked_bars


def test_stacked_bars_draw_one_rect_per_non_zero_count() -> None:
    root = parse(hotfixes())

    bars = rects(root)

    assert [tooltip(bar) for bar in bars] == [
        "acme/api, 2026-W20: 2",
        "acme/web, 2026-W20: 3",
        "acme/api, 2026-W21: 4",
        "acme/web, 2026-W22: 1",
    ]


def test_stacked_bar_heights_are_proportional_to_the_counts() -> None:
    root = parse(hotfixes())
    api_w20, web_w20, api_w21, web_w22 = rects(root)
    _, per_unit = vertical_scale(root)

    assert num(api_w21, "height") == pytest.approx(2 * num(api_w20, "height"), abs=0.1)
    assert num(web_w20, "height") == pytest.approx(3 * num(web_w22, "height"), abs=0.1)
    for bar, value in ((api_w20, 2), (web_w20, 3), (api_w21, 4), (web_w22, 1)):
        assert num(bar, "height") == pytest.approx(value * per_unit, abs=0.1)


def test_stacked_bars_sit_on_the_baseline_and_on_each_other() -> None:
    root = parse(hotfixes())
    lower, upper, alone, _ = rects(root)
    baseline, _ = vertical_scale(root)

    assert num(lower, "y") + num(lower, "height") == pytest.approx(baseline, abs=0.1)
    assert num(upper, "y") == pytest.approx(num(lower, "y") - num(upper, "height"), abs=0.1)
    assert num(upper, "x") == num(lower, "x")
    assert num(alone, "y") + num(alone, "height") == pytest.approx(baseline, abs=0.1)


def test_stacked_bars_have_integer_ticks_week_labels_and_a_legend() -> None:
    root = parse(hotfixes())

    assert texts(root, "y-tick") == ["0", "1", "2", "3", "4", "5"]
    assert texts(root, "x-tick") == list(WEEKS)
    assert texts(root, "legend-label") == ["acme/api", "acme/web"]


def test_series_colours_come_from_the_palette_in_order() -> None:
    names = [f"acme/repo-{i}" for i in range(9)]
    chart = stacked_bars("Many", WEEKS[:1], [Series(name, (1,)) for name in names])
    root = parse(chart)

    fills = [swatch.get("fill") for swatch in rects(root, "swatch")]

    assert fills == [*PALETTE, PALETTE[0]]
    assert [bar.get("fill") for bar in rects(root)] == fills
    assert texts(root, "legend-label") == names


def test_a_long_legend_wraps_and_the_viewbox_grows_to_fit() -> None:
    names = [f"acme/a-rather-long-repository-{i}" for i in range(6)]
    root = parse(stacked_bars("Many", WEEKS[:1], [Series(name, (1,)) for name in names]))

    swatch_rows = {num(swatch, "y") for swatch in rects(root, "swatch")}
    height = float(root.get("viewBox", "").split()[3])

    assert len(swatch_rows) > 1
    assert height > 320
    assert max(num(bar, "y") for bar in rects(root)) > max(swatch_rows)


def test_the_limit_is_a_dashed_line_at_its_value_on_the_scale() -> None:
    root = parse(hotfixes(limit=4))
    baseline, per_unit = vertical_scale(root)

    (limit,) = lines(root, "limit")

    assert limit.get("stroke-dasharray")
    assert num(limit, "y1") == num(limit, "y2")
    assert num(limit, "y1") == pytest.approx(baseline - 4 * per_unit, abs=0.1)
    assert texts(root, "limit-label") == ["rate limit: 4"]


def test_the_y_axis_reaches_a_limit_above_the_data() -> None:
    root = parse(hotfixes(limit=12))
    baseline, per_unit = vertical_scale(root)

    (limit,) = lines(root, "limit")

    assert texts(root, "y-tick") == ["0", "5", "10", "15"]
    assert num(limit, "y1") == pytest.approx(baseline - 12 * per_unit, abs=0.1)


def test_the_limit_label_can_be_renamed() -> None:
    chart = stacked_bars(
        "Hotfixes", WEEKS[:1], [Series("acme/api", (1,))], limit=2, limit_label="review at"
    )

    assert texts(parse(chart), "limit-label") == ["review at: 2"]
    assert chart.table.caption == "Hotfixes (review at: 2)"


def test_the_stacked_table_has_a_row_per_week_with_its_total() -> None:
    table = hotfixes(limit=4).table

    assert table.caption == "Hotfixes per week (rate limit: 4)"
    assert table.headers == ("Week", "acme/api", "acme/web", "Total")
    assert table.rows == (
        ("2026-W20", "2", "3", "5"),
        ("2026-W21", "4", "0", "4"),
        ("2026-W22", "0", "1", "1"),
    )


@pytest.mark.parametrize(
    ("weeks", "series"),
    [
        pytest.param((), [], id="no weeks at all"),
        pytest.param(WEEKS, [Series("acme/api", (0, 0, 0))], id="weeks with no hotfixes"),
        pytest.param(WEEKS, [], id="weeks and no repositories"),
    ],
)
def test_no_hotfixes_says_so_instead_of_drawing_bars(
    weeks: tuple[str, ...], series: list[Series]
) -> None:
    chart = stacked_bars("Hotfixes per week", weeks, series, limit=3)
    root = parse(chart)

    assert texts(root, "empty") == [NO_HOTFIXES]
    assert rects(root) == []
    assert lines(root, "limit") == []
    assert chart.table.rows == ()
    assert chart.table.headers[0] == "Week"


def test_counts_that_do_not_line_up_with_the_weeks_are_refused() -> None:
    with pytest.raises(ValueError, match="2 values for 3 weeks"):
        stacked_bars("Hotfixes", WEEKS, [Series("acme/api", (1, 2))])


# escaping and accessibility


def test_user_supplied_strings_are_escaped_and_the_svg_still_parses() -> None:
    name = "<script>alert(1)</script>"
    chart = stacked_bars(
        'Tom & "Jerry"', ["<b>W1</b>"], [Series(name, (1,))], limit=1, limit_label="<i>"
    )

    assert "<script" not in chart.svg
    assert "&lt;script&gt;" in chart.svg
    root = parse(chart)
    assert texts(root, "legend-label") == [name]
    assert texts(root, "x-tick") == ["<b>W1</b>"]
    assert texts(root, "limit-label") == ["<i>: 1"]
    assert tooltip(root) == 'Tom & "Jerry"'
    assert tooltip(rects(root)[0]) == f"{name}, <b>W1</b>: 1"


def test_logins_and_incident_labels_are_escaped_too() -> None:
    people = thresholds("T", [("<img src=x>", 2)], note_after=1, code_yellow_after=3)
    points = durations("D", [("<INC>", 3.0)], unit="<u>")

    assert "<img" not in people.svg
    assert texts(parse(people), "name") == ["<img src=x>"]
    assert "<INC>" not in points.svg
    assert texts(parse(points), "x-tick") == ["<INC>"]
    assert texts(parse(points), "unit") == ["<u>"]


def test_control_characters_are_dropped_so_the_svg_stays_well_formed() -> None:
    root = parse(stacked_bars("Hot\x00fixes", WEEKS[:1], [Series("acme/\x1bapi", (1,))]))

    assert texts(root, "legend-label") == ["acme/api"]


def sample_charts() -> list[Chart]:
    return [
        hotfixes(limit=4),
        stacked_bars("Empty", (), []),
        thresholds("Authors", [("alice", 2)], note_after=1, code_yellow_after=3),
        durations("Recovery", [("INC-2026-05-20-001", 12.5), ("INC-2026-05-21-001", None)]),
        on_time("Follow-ups", WEEKS, (1, 2, 3), (0, 1, 0)),
    ]


@pytest.mark.parametrize("chart", sample_charts())
def test_every_chart_is_an_accessible_self_contained_image(chart: Chart) -> None:
    root = parse(chart)

    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 640 ")
    ids = {element.get("id"): element.tag for element in root.iter() if element.get("id")}
    assert [ids[ident] for ident in root.get("aria-labelledby", "").split()] == [
        f"{SVG}title",
        f"{SVG}desc",
    ]
    assert [child.tag for child in root][:2] == [f"{SVG}title", f"{SVG}desc"]
    desc = root.find(f"{SVG}desc")
    assert desc is not None and (desc.text or "").strip()
    assert not re.search(r"href|<script|<style|url\(|@import", chart.svg)


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("chart", sample_charts())
def test_text_is_at_least_11px_and_dark_on_light(chart: Chart) -> None:
    root = parse(chart)
    (background,) = rects(root, "background")
    light = luminance(background.get("fill", ""))

    assert float(root.get("font-size", "0")) >= 11
    for text in root.iter(f"{SVG}text"):
        assert float(text.get("font-size", root.get("font-size", "0"))) >= 11
        dark = luminance(text.get("fill", ""))
        assert (light + 0.05) / (dark + 0.05) >= 4.5  # WCAG AA for normal text


@pytest.mark.parametrize("chart", sample_charts())
def test_numbers_have_at_most_one_decimal(chart: Chart) -> None:
    assert not re.search(r"\d\.\d\d", chart.svg)


def test_the_same_input_gives_the_same_svg() -> None:
    assert [chart.svg for chart in sample_charts()] == [chart.svg for chart in sample_charts()]


# thresholds


def authors() -> Chart:
    return thresholds(
        "Hotfixes by author, 2026-Q2",
        [("alice", 1), ("bob", 2), ("carol", 4), ("dave", 3), ("erin", 0)],
        note_after=1,
        code_yellow_after=3,
    )


def test_bars_past_a_threshold_are_marked_and_bars_on_it_are_not() -> None:
    bars = rects(parse(authors()))

    assert [tooltip(bar).split(":")[0] for bar in bars] == ["alice", "bob", "carol", "dave", "erin"]
    assert [classes(bar) - {"bar"} for bar in bars] == [set(), {"warn"}, {"over"}, {"warn"}, set()]
    assert len({bar.get("fill") for bar in bars}) == 3


def test_threshold_bars_are_horizontal_and_proportional() -> None:
    bars = rects(parse(authors()))
    alice, bob, carol, _, erin = bars

    assert num(bob, "width") == pytest.approx(2 * num(alice, "width"), abs=0.1)
    assert num(carol, "width") == pytest.approx(4 * num(alice, "width"), abs=0.1)
    assert num(erin, "width") == 0
    assert len({num(bar, "x") for bar in bars}) == 1
    assert sorted(bars, key=lambda bar: num(bar, "y")) == bars


def test_threshold_lines_sit_where_their_values_fall_on_the_axis() -> None:
    root = parse(authors())
    alice = rects(root)[0]
    per_unit = num(alice, "width")  # alice has exactly one

    (note,) = lines(root, "note")
    (code_yellow,) = lines(root, "code-yellow")

    assert texts(root, "x-tick") == ["0", "1", "2", "3", "4"]
    assert num(note, "x1") == pytest.approx(num(alice, "x") + 1 * per_unit, abs=0.1)
    assert num(code_yellow, "x1") == pytest.approx(num(alice, "x") + 3 * per_unit, abs=0.1)
    assert note.get("stroke-dasharray") and code_yellow.get("stroke-dasharray")
    assert texts(root, "threshold-label") == ["process bug (> 1)", "code yellow (> 3)"]
    assert texts(root, "name") == ["alice", "bob", "carol", "dave", "erin"]
    assert texts(root, "value") == ["1", "2", "4", "3", "0"]


def test_the_thresholds_table_says_what_the_colours_say() -> None:
    table = authors().table

    assert table.headers == ("Author", "Hotfixes", "Status")
    assert table.rows == (
        ("alice", "1", "below thresholds"),
        ("bob", "2", "process bug"),
        ("carol", "4", "code yellow"),
        ("dave", "3", "process bug"),
        ("erin", "0", "below thresholds"),
    )


def test_thresholds_axis_reaches_code_yellow_when_nobody_is_near_it() -> None:
    root = parse(thresholds("Q", [("alice", 1)], note_after=1, code_yellow_after=7))

    assert texts(root, "x-tick")[-1] == "8"


def test_no_authors_says_there_were_no_hotfixes() -> None:
    chart = thresholds("Q", [], note_after=1, code_yellow_after=3)

    assert texts(parse(chart), "empty") == [NO_HOTFIXES]
    assert chart.table.rows == ()


# durations


def recovery() -> Chart:
    return durations(
        "Merge to healthy",
        [("INC-2026-05-20-001", 10.0), ("INC-2026-05-21-001", None), ("INC-2026-05-22-001", 20.0)],
    )


def test_a_hotfix_without_a_deployment_leaves_a_marked_gap() -> None:
    root = parse(recovery())
    first, last = rects(root)
    (gap,) = [text for text in root.iter(f"{SVG}text") if "gap" in classes(text)]

    assert gap.text == GAP
    middle_of = [num(bar, "x") + num(bar, "width") / 2 for bar in (first, last)]
    assert num(gap, "x") == pytest.approx(sum(middle_of) / 2, abs=0.1)
    assert texts(root, "x-tick") == [
        "INC-2026-05-20-001",
        "INC-2026-05-21-001",
        "INC-2026-05-22-001",
    ]


def test_duration_bars_are_proportional_and_share_the_baseline() -> None:
    root = parse(recovery())
    first, last = rects(root)
    baseline, per_unit = vertical_scale(root)

    assert num(last, "height") == pytest.approx(2 * num(first, "height"), abs=0.1)
    assert num(first, "height") == pytest.approx(10 * per_unit, abs=0.1)
    for bar in (first, last):
        assert num(bar, "y") + num(bar, "height") == pytest.approx(baseline, abs=0.1)
    assert texts(root, "y-tick") == ["0", "5", "10", "15", "20"]
    assert texts(root, "unit") == ["min"]


def test_the_durations_table_names_the_missing_deployment() -> None:
    table = durations("D", [("INC-1", 12.5), ("INC-2", None), ("INC-3", 3.0)], unit="s").table

    assert table.headers == ("Hotfix", "Merge to healthy (s)")
    assert table.rows == (("INC-1", "12.5"), ("INC-2", "no deployment"), ("INC-3", "3"))


def test_only_missing_deployments_still_draw_the_gaps() -> None:
    root = parse(durations("D", [("INC-1", None), ("INC-2", None)]))

    assert rects(root) == []
    assert texts(root, "gap") == [GAP, GAP]


def test_no_hotfixes_gives_no_durations() -> None:
    chart = durations("D", [])

    assert texts(parse(chart), "empty") == [NO_HOTFIXES]
    assert chart.table.rows == ()


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_a_duration_that_cannot_be_drawn_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="INC-1"):
        durations("D", [("INC-1", value)])


# on_time


def follow_ups() -> Chart:
    return on_time("Follow-ups", WEEKS, (2, 0, 3), (1, 4, 0))


def test_on_time_and_overdue_stand_side_by_side() -> None:
    root = parse(follow_ups())
    bars = rects(root)
    baseline, per_unit = vertical_scale(root)

    assert [tooltip(bar) for bar in bars] == [
        "2026-W20, on time: 2",
        "2026-W20, overdue: 1",
        "2026-W21, overdue: 4",
        "2026-W22, on time: 3",
    ]
    done, late = bars[:2]
    assert num(late, "x") == pytest.approx(num(done, "x") + num(done, "width"), abs=0.1)
    assert "on-time" in classes(done) and "overdue" in classes(late)
    assert done.get("fill") != late.get("fill")
    for bar, value in zip(bars, (2, 1, 4, 3), strict=True):
        assert num(bar, "height") == pytest.approx(value * per_unit, abs=0.1)
        assert num(bar, "y") + num(bar, "height") == pytest.approx(baseline, abs=0.1)


def test_on_time_has_a_legend_ticks_and_week_labels() -> None:
    root = parse(follow_ups())

    assert texts(root, "legend-label") == ["On time", "Overdue"]
    assert [s.get("fill") for s in rects(root, "swatch")] == list(PALETTE[:2])
    assert texts(root, "y-tick") == ["0", "1", "2", "3", "4"]
    assert texts(root, "x-tick") == list(WEEKS)


def test_the_on_time_table_has_a_row_per_week() -> None:
    table = follow_ups().table

    assert table.headers == ("Week", "On time", "Overdue")
    assert table.rows == (("2026-W20", "2", "1"), ("2026-W21", "0", "4"), ("2026-W22", "3", "0"))


def test_no_follow_ups_due_says_so() -> None:
    chart = on_time("Follow-ups", WEEKS, (0, 0, 0), (0, 0, 0))

    assert texts(parse(chart), "empty") == [NO_FOLLOW_UPS]
    assert chart.table.rows == ()


def test_week_labels_are_thinned_when_they_would_overlap() -> None:
    weeks = [f"2026-W{week:02d}" for week in range(1, 27)]
    root = parse(on_time("Half a year", weeks, [1] * 26, [0] * 26))

    labels = texts(root, "x-tick")

    assert labels[0] == "2026-W01"
    assert 1 < len(labels) < 26
    assert set(labels) <= set(weeks)
