"""Hostile output paths (issue 14): where results may and may not go.

Rules (capacity.io.export.files): a device, a folder or a pipe is refused, and so is any file
the run read (its scenario, template or assumption CSV, through a link too); a symbolic link is
written through; a suffix that disagrees with --format is refused; a name made from the
scenario's name stays in the working folder; an existing file is never corrupted and no
temporary file is left behind.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from hostile_support import invoke, refused

from capacity.io.export.files import remove_stale_temporaries, safe_file_name


@pytest.fixture
def small(tmp_path, scenario_file):
    """A one-country, two-year scenario: a run takes a tenth of a second."""
    return scenario_file(tmp_path, first=2026, last=2027, name="small")


OLD = b"an earlier plan\n"


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/full", "/dev/stdin"])
def test_a_device_node_is_refused_and_left_a_device(small, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    kind = os.stat(device).st_mode
    result = invoke("run", str(small), "--format", "csv", "-o", device)
    refused(result, device, "a device or pipe")
    assert os.stat(device).st_mode == kind            # /dev/null is still a device


def test_a_named_pipe_is_refused_without_hanging(small, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    refused(invoke("run", str(small), "-o", str(fifo)), "pipe.csv", "a device or pipe")


def test_a_folder_is_refused(small, tmp_path):
    (tmp_path / "out.csv").mkdir()
    refused(invoke("run", str(small), "-o", str(tmp_path / "out.csv")), "out.csv", "a folder")


def test_a_missing_folder_is_refused(small, tmp_path):
    out = tmp_path / "nowhere" / "plan.csv"
    refused(invoke("run", str(small), "-o", str(out)), "nowhere", "does not exist", out)


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_the_runs_own_scenario_is_not_overwritten(small, tmp_path, suffix):
    scenario = small.rename(small.with_suffix(suffix))
    before = scenario.read_bytes()
    result = invoke("run", str(scenario), "--format", "csv", "-o", str(scenario))
    refused(result, scenario.name, "an input of this run", scenario, before, folder=tmp_path)


def test_the_runs_own_scenario_through_a_symlink_is_not_overwritten(small, tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(small)
    before = small.read_bytes()
    refused(invoke("run", str(small), "--format", "csv", "-o", str(link)), "link.csv",
            "an input of this run", small, before)
    assert link.is_symlink()


def test_the_runs_own_scenario_through_a_hard_link_is_not_overwritten(small, tmp_path):
    link = tmp_path / "hard.csv"
    os.link(small, link)
    before = small.read_bytes()
    refused(invoke("run", str(small), "--format", "csv", "-o", str(link)), "hard.csv",
            "an input of this run", small, before)


def test_the_runs_own_assumption_csv_is_not_overwritten(small, tmp_path):
    table = tmp_path / "gpus.csv"
    table.write_text("id,parameter,value,unit,low,high,source,url,source_date,quality,notes\n"
                     "h100-sxm,board_power,700,W,,,NVIDIA,https://example.org,2023,primary,\n")
    before = table.read_bytes()
    result = invoke("run", str(small), "--assumptions", str(table), "-o", str(table))
    refused(result, "gpus.csv", "an input of this run", table, before)


def test_the_runs_own_template_is_not_overwritten(tmp_path):
    template = tmp_path / "input.xlsx"
    assert invoke("template", str(template)).exit_code == 0
    before = template.read_bytes()
    refused(invoke("run", str(template), "-o", str(template)), "input.xlsx", "an input of this run",
            template, before)


@pytest.mark.parametrize("name", ["gpus.csv", "scenarios/netherlands.yaml", "new-file.csv"])
def test_the_assumption_library_is_never_written(small, name):
    from capacity.data.paths import assumptions_dir
    library = assumptions_dir() / name
    before = library.read_bytes() if library.exists() else None
    refused(invoke("run", str(small), "--format", "csv", "-o", str(library)), name,
            "assumption library", library, before)


def test_a_symlink_is_written_through_and_kept(small, tmp_path):
    target = tmp_path / "target.csv"
    target.write_bytes(OLD)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert invoke("run", str(small), "-o", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("scenario,region,option")


@pytest.mark.parametrize("fmt, suffix", [("csv", ".xlsx"), ("xlsx", ".csv"), ("json", ".csv"),
                                         ("csv", ".json"), ("iamc", ".json"), ("xlsx", ".json")])
def test_a_suffix_that_disagrees_with_the_format_is_refused(small, tmp_path, fmt, suffix):
    out = tmp_path / f"plan{suffix}"
    out.write_bytes(OLD)
    refused(invoke("run", str(small), "--format", fmt, "-o", str(out)), f"-o {out}",
            f"--format {fmt} with a {suffix} file", out, OLD, folder=tmp_path)


@pytest.mark.parametrize("fmt, suffix", [("iamc", ".csv"), ("iamc", ".xlsx"), ("csv", ".txt"),
                                         ("json", ".out")])
def test_a_suffix_that_agrees_or_says_nothing_is_written(small, tmp_path, fmt, suffix):
    out = tmp_path / f"plan{suffix}"
    assert invoke("run", str(small), "--format", fmt, "-o", str(out)).exit_code == 0
    assert out.stat().st_size > 0


@pytest.mark.parametrize("name, expected", [
    ("../x", "x-plan.xlsx"), ("/tmp/abs", "tmp-abs-plan.xlsx"), ("a/b\\c", "a-b-c-plan.xlsx"),
    ("..", "plan.xlsx"), (".hidden", "hidden-plan.xlsx"), ("Nederland 2030", "Nederland-2030-plan.xlsx"),
    ("CON:", "CON-plan.xlsx"), ("\u00e9t\u00e9\u202f2030", "t-2030-plan.xlsx"), ("", "plan.xlsx"),
])
def test_a_scenario_name_is_reduced_to_a_safe_file_name(name, expected):
    assert safe_file_name(f"{name}-plan", ".xlsx") == expected


def test_a_very_long_scenario_name_gives_a_short_file_name():
    assert safe_file_name("x" * 300 + "-plan", ".xlsx") == "x" * 80 + ".xlsx"


@pytest.mark.parametrize("name", ["../escaped", "/tmp/escaped-absolute"])
def test_a_scenario_named_like_a_path_writes_inside_the_working_folder(small, tmp_path, monkeypatch, name):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    small.write_text(small.read_text().replace("name: small", f"name: {name!r}", 1))
    result = invoke("run", str(small))
    assert result.exit_code == 0, result.output
    written = [p.name for p in work.iterdir()]
    assert written == [safe_file_name(f"{name}-plan", ".xlsx")], written
    assert not (tmp_path / "escaped-plan.xlsx").exists() and not Path("/tmp/escaped-absolute-plan.xlsx").exists()


def test_a_stale_temporary_file_of_a_killed_run_is_removed_by_the_next_write(small, tmp_path):
    dead = 2 ** 22 + 12345                        # above the kernel's default pid_max: never alive
    stale = tmp_path / f".plan.csv.capacity-{dead}-abcd1234.tmp"
    stale.write_bytes(b"half a file")
    alive = tmp_path / f".plan.csv.capacity-{os.getpid()}-live0001.tmp"
    alive.write_bytes(b"being written now")
    assert invoke("run", str(small), "-o", str(tmp_path / "plan.csv")).exit_code == 0
    assert not stale.exists()
    assert alive.exists()                          # a live process's file is left alone
    alive.unlink()


def test_only_files_named_like_capacitys_temporaries_are_removed(tmp_path):
    others = [tmp_path / name for name in (".plan.csv.tmp", "plan.capacity-1-x.tmp", ".notes.capacity-x-y.tmp",
                                           ".plan.csv.capacity-99999999-abc.txt")]
    for path in others:
        path.write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path) == []
    assert all(path.exists() for path in others)


def test_a_full_disk_gives_one_message_and_keeps_the_old_file(small, tmp_path, monkeypatch):
    out = tmp_path / "plan.csv"
    out.write_bytes(OLD)

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    refused(invoke("run", str(small), "-o", str(out)), "plan.csv", "No space left on device", out, OLD,
            folder=tmp_path)


def test_a_full_stdout_gives_one_message(small):
    import subprocess
    import sys
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "capacity.entry", "run", str(small), "--format", "csv"],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == ("capacity: error: stdout: cannot write or read: No "
                                                    "space left on device")


def test_a_results_workbook_cannot_go_to_stdout(small):
    result = invoke("run", str(small), "-o", "-")
    assert result.exit_code == 2 and "Traceback" not in result.output
