"""A case's dimension scores over time as an SVG line chart, for reports (pygal)."""

import pygal  # type: ignore[import-untyped]  # pygal ships no type information
from pygal.style import CleanStyle  # type: ignore[import-untyped]

from scoring_service.domain.models import Score, Survey


def dimension_chart(title: str, rows: list[tuple[Survey, Score]]) -> bytes:
    """One line per dimension plus the composite, one point per scored administration, oldest first.

    The band limits 0.33 and 0.66 are drawn as guides, so the reader sees where intensified and hands-off begin.
    """
    chart = pygal.Line(
        title=title,
        range=(0, 1),
        y_labels=[0, 0.33, 0.5, 0.66, 1],
        x_label_rotation=20,
        show_minor_y_labels=False,
        style=CleanStyle,
        disable_xml_declaration=False,
        value_formatter=lambda value: f"{value:.2f}",
    )
    chart.x_labels = [f"{survey.administration} {survey.interviewed_on.isoformat()}" for survey, _ in rows]
    names = [str(d["dimension"]) for d in rows[0][1].dimensions] if rows else []
    for name in names:
        series = []
        for _, score in rows:
            value = next((d["score"] for d in score.dimensions if d["dimension"] == name), None)
            series.append(value if isinstance(value, float | int) else None)
        chart.add(name, series)
    chart.add("composite", [score.composite for _, score in rows], stroke_style={"width": 3})
    return bytes(chart.render())
