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
