"""The report's summary table in Markdown, read from ``report.json``: one row per claim with its
verdict and the numbers behind it, each claim linked to its section of the page. ``modlab report``
writes it as ``summary.md`` beside ``index.html``; a README can quote it as it is."""

from __future__ import annotations

from typing import Any


def summary_markdown(report: dict[str, Any], page: str = "index.html") -> str:
    """Markdown of ``report`` (the parsed ``report.json``): a line saying what was built with what,
    then the table of claims; ``page`` is the link to the report's page, relative to where the
    Markdown will live."""
    build = report["build"]
    made_with = ", ".join(f"{key} {value}" for key, value in build.items() if key != "built")
    rows = [
        f"Preset `{report['preset']}`, built {build.get('built', '')} ({made_with}).",
        "",
        "| paper | claim | verdict | the numbers behind it |",
        "| --- | --- | --- | --- |",
    ]
    for claim in report["claims"]:
        statement = claim["statement"] + (" *(offline digits stand-in)*" if claim["stand_in"] else "")
        numbers = "; ".join(_check(check) for check in claim["checks"]) or claim["reason"]
        rows.append(
            f"| {claim['paper']} | [{_cell(statement)}]({page}#claim-{claim['id']}) | **{claim['verdict']}** "
            f"| {_cell(numbers)} |"
        )
    return "\n".join(rows) + "\n"


def _check(check: dict[str, Any]) -> str:
    mark = {"pass": "✓", "fail": "✗"}.get(check["status"], "?")
    return f"{check['quantity']} = {check['shown']} ({check['rule']}) {mark}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no line breaks."""
    return " ".join(text.replace("|", "\\|").split())
