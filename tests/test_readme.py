"""The README's CI recipe works as written: its commands are read from README.md and run, in
order, in an empty folder."""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from capacity.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _block(marker: str) -> list[str]:
    """The lines of the code block that follows ``<!-- ci-recipe: marker -->``."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- ci-recipe: {marker} -->\n```\w*\n(.*?)```", text, re.S)
    assert found, f"README.md has no ci-recipe block {marker!r}"
    return found.group(1).splitlines()


def _commands() -> list[str]:
    setup = [line.split("  #")[0].strip() for line in _block("setup")]
    job = [line.split("- run:", 1)[1].strip() for line in _block("job") if line.startswith("- run:")]
    return [command for command in setup + job if command]


def _run(command: str, folder: Path) -> tuple[int, str]:
    """A `capacity ...` command line, with `>> FILE` appending its output as a shell would."""
    words = shlex.split(command)
    assert words[0] == "capacity", command
    append_to = None
    if ">>" in words:
        at = words.index(">>")
        append_to, words = Path(words[at + 1].replace("$GITHUB_STEP_SUMMARY", "summary.md")), words[:at]
    result = CliRunner().invoke(main, words[1:])
    if append_to is not None:
        with open(folder / append_to, "a", encoding="utf-8") as handle:
            handle.write(result.stdout)
    return result.exit_code, result.output


def test_the_recipe_is_complete():
    commands = _commands()
    assert commands[0] == "capacity template ministry-plan.yaml --scenario ministry-plan"
    assert "pip install capacity" in commands
    assert any(c.startswith("capacity check ministry-plan.yaml --junit") for c in commands)
    assert any(c.startswith("capacity diff baseline.json ministry-plan.yaml") for c in commands)


def test_the_ci_recipe_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in _commands():
        if command.startswith("pip "):
            continue   # the package is installed
        code, output = _run(command, tmp_path)
        assert code == 0, f"{command}\n{output}"
    suite = ET.parse(tmp_path / "checks.xml").getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    assert (int(suite.get("tests")), int(suite.get("failures"))) == (5, 0)
    assert (tmp_path / "baseline.json").stat().st_size > 10_000
    summary = (tmp_path / "summary.md").read_text()
    assert "ministry-plan.yaml" in summary


def test_the_example_fails_a_check_that_does_not_hold(tmp_path, monkeypatch):
    # the recipe's gate can close: a threshold the default data breaks exits 1
    monkeypatch.chdir(tmp_path)
    assert _run("capacity template ministry-plan.yaml --scenario ministry-plan", tmp_path)[0] == 0
    code, output = _run("capacity check ministry-plan.yaml --require "
                        "'Grid|Share of consumption[domestic-buildout, 2030] <= 0.01 %'", tmp_path)
    assert code == 1
    assert re.search(r"^Grid\|Share of consumption\[domestic-buildout, 2030\] = [0-9.]+ % <= 0\.01 %: "
                     r"FAILED$", output, re.M), output


@pytest.mark.parametrize("line", [0, 1])
def test_the_readme_opens_with_the_two_setup_commands(line):
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1).splitlines()
    assert len(block) == 2
    assert block[line].startswith("python3 -m venv .venv && . .venv/bin/activate && pip install -e ")
    assert block[line].endswith(("capacity run", "python -m pytest -q"))


def test_the_readme_counts_the_librarys_rows_by_source_quality():
    from capacity.data.sources import quality_table_markdown
    assert quality_table_markdown() in README.read_text(encoding="utf-8"), quality_table_markdown()


def test_the_hostile_input_table_is_the_collected_count():
    """README's table of hostile-input cases per family is what the suite collects today."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent))
    from hostile_support import BEGIN, END, collected_counts, table
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    written = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert written == table(collected_counts()), "run: python tests/hostile_support.py"
