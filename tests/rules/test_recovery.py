"""The verify step's pure parts: the query filled in, the answer judged, the value shown."""

from __future__ import annotations

import math

import pytest

from app.rules.recovery import crossed, format_value, render_query

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("template", "repo", "expected"),
    [
        pytest.param(
            'sum(rate(errors{repo="{{ repo }}", app="{{ name }}", version="{{ sha }}"}[5m]))',
            "acme/api",
            f'sum(rate(errors{{repo="acme/api", app="api", version="{SHA}"}}[5m]))',
            id="all three placeholders are filled in",
        ),
        pytest.param(
            '{repo="{{repo}}",app="{{name}}",sha="{{sha}}"}',
            "acme/api",
            f'{{repo="acme/api",app="api",sha="{SHA}"}}',
            id="spaces inside the braces are optional",
        ),
        pytest.param(
            'x{a="{{  repo\t}}"}',
            "acme/api",
            'x{a="acme/api"}',
            id="any whitespace inside the braces",
        ),
        pytest.param(
            'x{a="{{ repo }}", b="{{ repo }}"}',
            "acme/api",
            'x{a="acme/api", b="acme/api"}',
            id="a placeholder used twice is filled in twice",
        ),
        pytest.param(
            'x{repo="{{ repo }}"}',
            'acme/api"} or vector(1) or x{a="',
            'x{repo="acme/api\\"} or vector(1) or x{a=\\""}',
            id="a double quote cannot end the label value",
        ),
        pytest.param(
            'x{repo="{{ repo }}"}',
            "acme/a\\pi",
            'x{repo="acme/a\\\\pi"}',
            id="a backslash is escaped",
        ),
        pytest.param(
            'x{repo="{{ repo }}"}',
            'acme/a\\"',
            'x{repo="acme/a\\\\\\""}',
            id="a backslash before a quote cannot unescape it",
        ),
        pytest.param(
            'x{repo="{{ repo }}"}',
            "acme/a\nb",
            'x{repo="acme/a\\nb"}',
            id="a newline is escaped",
        ),
        pytest.param(
            'x{app="{{ name }}"}',
            'acme/a"b',
            'x{app="a\\"b"}',
            id="the name is escaped too",
        ),
        pytest.param(
            'x{app="{{ name }}"}',
            "api",
            'x{app="api"}',
            id="a repo without an owner is its own name",
        ),
        pytest.param(
            'x{a="{{ repo }}", b="{{ branch }}", c="{{ Repo }}", d="{ repo }"}',
            "acme/api",
            'x{a="acme/api", b="{{ branch }}", c="{{ Repo }}", d="{ repo }"}',
            id="unknown placeholders are left as they are",
        ),
        pytest.param(
            'x{repo="{{ repo }}"}',
            "acme/{{ sha }}",
            'x{repo="acme/{{ sha }}"}',
            id="a value that looks like a placeholder is not expanded again",
        ),
        pytest.param("up", "acme/api", "up", id="a template without placeholders is unchanged"),
    ],
)
def test_render_query(template: str, repo: str, expected: str) -> None:
    assert render_query(template, repo=repo, sha=SHA) == expected


def test_the_sha_is_escaped_like_the_rest() -> None:
    assert render_query('x{v="{{ sha }}"}', repo="acme/api", sha='a"b\\c') == 'x{v="a\\"b\\\\c"}'


NAN = math.nan
INF = math.inf


@pytest.mark.parametrize(
    ("values", "threshold", "comparison", "expected"),
    [
        pytest.param([0.001], 0.01, "<", True, id="one value below the threshold crosses <"),
        pytest.param([0.01], 0.01, "<", False, id="a value at the threshold does not cross <"),
        pytest.param([0.01], 0.01, "<=", True, id="a value at the threshold crosses <="),
        pytest.param([0.5], 0.1, ">", True, id="a value above the threshold crosses >"),
        pytest.param([0.1], 0.1, ">", False, id="a value at the threshold does not cross >"),
        pytest.param([0.1], 0.1, ">=", True, id="a value at the threshold crosses >="),
        pytest.param([0.001, 0.002], 0.01, "<", True, id="every series below crosses"),
        pytest.param(
            [0.001, 0.5], 0.01, "<", False, id="one series still above means not recovered"
        ),
        pytest.param([], 0.01, "<", False, id="no values never cross"),
        pytest.param([], 0.01, ">", False, id="no values never cross either way"),
        pytest.param([NAN], 0.01, "<", False, id="NaN never crosses <"),
        pytest.param([NAN], 0.01, ">=", False, id="NaN never crosses >="),
        pytest.param([0.001, NAN], 0.01, "<", False, id="one NaN series spoils the rest"),
        pytest.param([-INF], 0.01, "<", False, id="minus infinity does not count as below"),
        pytest.param([INF], 0.01, ">", False, id="infinity does not count as above"),
        pytest.param((0.0,), 0.0, "<=", True, id="any sequence, zero at a zero threshold"),
    ],
)
def test_crossed(values: list[float], threshold: float, comparison: str, expected: bool) -> None:
    assert crossed(values, threshold, comparison) is expected


def test_an_unknown_comparison_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown comparison '=='; use <, <=, > or >="):
        crossed([1.0], 1.0, "==")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(0.0042, "0.0042", id="a small ratio"),
        pytest.param(12.5, "12.5", id="a decimal"),
        pytest.param(3.0, "3", id="a whole number has no trailing zero"),
        pytest.param(0.0, "0", id="zero"),
        pytest.param(0.123456, "0.1235", id="four significant digits"),
        pytest.param(1234567.0, "1.235e+06", id="a large value in exponent form"),
        pytest.param(-2.5, "-2.5", id="a negative value"),
        pytest.param(NAN, "NaN", id="NaN as Prometheus writes it"),
        pytest.param(INF, "+Inf", id="infinity as Prometheus writes it"),
        pytest.param(-INF, "-Inf", id="minus infinity as Prometheus writes it"),
    ],
)
def test_format_value(value: float, expected: str) -> None:
    assert format_value(value) == expected
