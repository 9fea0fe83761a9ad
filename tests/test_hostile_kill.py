"""Crash safety (issue 14): an export killed at a random moment never leaves a corrupt
destination, and leaves no temporary file behind: SIGTERM (what a CI runner or `timeout` sends)
is caught and the temporary file removed before exiting; after SIGKILL, which nothing can catch,
the next write to the folder removes the dead process's file.

Moments are drawn from a seeded generator over the span of one uninterrupted run, measured in
the same test, so the kills fall before, during and after the write on any machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

TERM_KILLS = 20
HARD_KILLS = 8


def _command(scenario, out):
    return [sys.executable, "-m", "capacity.entry", "run", str(scenario), "-o", str(out)]


def _environment(tmp_path):
    scratch = tmp_path / "tmpdir"
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(scratch)}, scratch


def _is_complete_workbook(path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None and "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    from conftest import write_scenario
    folder = tmp_path_factory.mktemp("kill")
    scenario = write_scenario(folder, first=2026, last=2027, name="kill")
    out = folder / "plan.xlsx"
    env, scratch = _environment(folder)
    started = time.perf_counter()
    subprocess.run(_command(scenario, out), env=env, check=True, capture_output=True, timeout=300)
    span = time.perf_counter() - started
    return folder, scenario, out, env, scratch, span


def _kill_at(command, env, moment, signum):
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(moment)
    process.send_signal(signum)
    return process.wait(timeout=300)


def test_an_export_killed_with_sigterm_leaves_the_old_file_or_the_new_and_no_temporary(setting):
    folder, scenario, out, env, scratch, span = setting
    old = out.read_bytes()
    moments = np.random.default_rng(14).uniform(0.3 * span, 1.05 * span, TERM_KILLS)
    codes = []
    for moment in moments:
        codes.append(_kill_at(_command(scenario, out), env, float(moment), signal.SIGTERM))
        assert _is_complete_workbook(out), f"corrupt after a kill at {moment:.2f} s"
        assert out.read_bytes() == old            # same inputs: the new file equals the old one
        assert _leftovers(folder) == [], f"left after a kill at {moment:.2f} s"
        assert list(scratch.iterdir()) == []
    assert len(codes) == TERM_KILLS
    assert set(codes) <= {0, -signal.SIGTERM, 128 + signal.SIGTERM}, codes


def test_an_export_killed_with_sigkill_never_corrupts_and_the_next_write_cleans_up(setting):
    folder, scenario, out, env, scratch, span = setting
    old = out.read_bytes()
    for moment in np.random.default_rng(9).uniform(0.5 * span, 1.05 * span, HARD_KILLS):
        _kill_at(_command(scenario, out), env, float(moment), signal.SIGKILL)
        assert _is_complete_workbook(out) and out.read_bytes() == old
    subprocess.run(_command(scenario, out), env=env, check=True, capture_output=True, timeout=300)
    assert _leftovers(folder) == []
    assert out.read_bytes() == old
