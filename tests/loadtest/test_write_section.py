"""A benchmark's report replaces its section's lead in BENCHMARKS.md, not the runs recorded under it."""

from pathlib import Path

from loadtest.ledger_bench import write_section

RECORDED = """# Benchmarks

## Load test (make bench)

- old figures

### Again on 2026-11-26

- a run recorded by hand

## Evidence ledger

- ledger figures
"""


def test_a_new_report_replaces_the_lead_and_keeps_the_subsections_and_other_sections(tmp_path: Path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(RECORDED)
    write_section(path, "## Load test (make bench)\n\n- new figures\n", "## Load test (make bench)")
    text = path.read_text()
    assert "- new figures\n\n### Again on 2026-11-26\n\n- a run recorded by hand" in text
    assert "old figures" not in text and "- ledger figures" in text


def test_a_report_without_a_section_yet_is_added_at_the_end(tmp_path: Path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(RECORDED)
    write_section(path, "## IoT bridge end to end\n\n- figures\n", "## IoT bridge end to end")
    assert path.read_text().endswith("- ledger figures\n\n## IoT bridge end to end\n\n- figures\n")
