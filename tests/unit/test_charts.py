import re

import pytest

from forum.insights.charts import bar_chart


def test_one_bar_per_value_scaled_to_a_round_axis():
    svg = str(bar_chart(["a", "b", "c"], [0, 5, 10], title="Votes"))
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 3
    assert heights[0] == 0 and heights[2] == pytest.approx(2 * heights[1])
    assert re.findall(r'data-value="([\d.]+)"', svg) == ["0", "5", "10"]


def test_labels_and_titles_are_escaped_and_nothing_executes():
    svg = str(bar_chart(["<script>"], [1], title='"Ideas" & <more>'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "style=" not in svg and "on" + "load" not in svg
    assert svg.startswith("<svg") and 'role="img"' in svg


def test_an_empty_chart_still_draws():
    assert "<svg" in str(bar_chart([], [], title="Nothing"))


def test_labels_and_values_must_pair():
    with pytest.raises(ValueError):
        bar_chart(["a"], [1, 2], title="x")


def test_stacked_bars_add_up():
    from forum.insights.charts import stacked_bar_chart

    svg = str(stacked_bar_chart(["w1", "w2"], [("Open", "kind-open", [3, 1]),
                                               ("Done", "kind-complete", [1, 3])],
                                title="Over time"))
    bars = re.findall(r'<rect class="(kind-\w+)" x="[\d.]+" y="[\d.]+" width="[\d.]+" '
                      r'height="([\d.]+)" data-value', svg)
    heights = [float(h) for _c, h in bars]
    assert heights[0] + heights[1] == pytest.approx(heights[2] + heights[3])
    assert heights[0] == pytest.approx(3 * heights[2])
    assert "Open" in svg and "Done" in svg  # the legend


def test_axis_labels_thin_out_when_they_would_overlap():
    weeks = [f"{d:02d} Sep" for d in range(1, 13)]
    crowded = str(bar_chart(weeks, list(range(12)), title="Votes"))
    roomy = str(bar_chart(weeks[:6], list(range(6)), title="Votes"))
    assert crowded.count('class="axis" x=') - 5 == 6  # 5 on the value axis, every second week
    assert roomy.count('class="axis" x=') - 5 == 6  # every week
    assert all(f"<title>{week}: " in crowded for week in weeks)  # each bar keeps its label
