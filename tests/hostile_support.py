"""Shared checks of the hostile-input suite (issue 14): the modules ``test_hostile_<family>.py``
each hold one family of broken or hostile inputs; `refused` asserts what every case must show.

The count of cases per family is printed at the end of every test run (conftest's
``pytest_terminal_summary``) and written into README.md by ``python tests/hostile_support.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from capacity.cli import main

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- hostile-cases:begin -->", "<!-- hostile-cases:end -->"
FAMILY = re.compile(r"test_hostile_(\w+)\.py::")


def invoke(*args: str, stdin: str | None = None):
    """Run the command line in-process (click's runner): fast, and exceptions are kept."""
    return CliRunner().invoke(main, list(args), input=stdin)


def refused(result, where: str, word: str = "", out: Path | None = None, before: bytes | None = None,
            folder: Path | None = None) -> str:
    """Assert a clean refusal: exit code 2, one located message (``capacity: error: WHERE...``)
    holding `word`, no traceback; `out` not created (or byte-identical to `before`), and no
    temporary file left in `folder`. Returns the message."""
    output = result.output
    assert result.exit_code == 2, (result.exit_code, output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("capacity: error:")]
    assert len(errors) == 1, output
    message = errors[0]
    assert where in message, message
    assert word in message, message
    if out is not None:
        if before is None:
            assert not out.exists(), f"{out} was written"
        else:
            assert out.read_bytes() == before, f"{out} changed"
    if folder is not None:
        assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")], list(folder.iterdir())
    return message


def family_counts(nodeids) -> Counter:
    """Cases per family from test node ids (``tests/test_hostile_yaml.py::test_x[...]``)."""
    return Counter(m.group(1) for m in map(FAMILY.search, nodeids) if m)


def collected_counts() -> Counter:
    """Collect the hostile modules (without running them) and count their cases per family."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           *sorted(str(p) for p in (ROOT / "tests").glob("test_hostile_*.py"))],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    return family_counts(line for line in done.stdout.splitlines() if "::" in line)


def table(counts: Counter) -> str:
    lines = ["| family | cases |", "|---|---:|"]
    lines += [f"| {name.replace('_', ' ')} | {counts[name]} |" for name in sorted(counts)]
    lines.append(f"| **all** | **{sum(counts.values())}** |")
    return "\n".join(lines)


def readme_with_table(text: str, counts: Counter) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table(counts)}\n{END}{tail}"


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(readme_with_table(readme.read_text(encoding="utf-8"), collected_counts()),
                      encoding="utf-8")
    print(table(collected_counts()))
