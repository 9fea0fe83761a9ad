"""The package as users get it: the wheel holds every module and all default data, and a
missing data folder is an error (exit code 2), never an empty catalogue."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import capacity
from capacity.cli import main
from capacity.data import paths
from capacity.data.catalog import Catalog, default_catalog

REPOSITORY = Path(__file__).resolve().parents[1]


def _tracked(folder: str) -> list[str]:
    listed = subprocess.run(["git", "ls-files", folder], cwd=REPOSITORY, capture_output=True,
                            text=True)
    if listed.returncode != 0:
        return sorted(str(p.relative_to(REPOSITORY)) for p in (REPOSITORY / folder).rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts)
    return sorted(listed.stdout.split())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    pytest.importorskip("hatchling", reason="the build backend is in the test extra")
    if not (REPOSITORY / "pyproject.toml").is_file():
        pytest.skip("not a source checkout")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(REPOSITORY)], check=True)
    (built,) = out.glob("capacity-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_holds_every_module_of_the_source_tree(wheel):
    names = set(wheel.namelist())
    modules = [str(p.relative_to(REPOSITORY)) for p in (REPOSITORY / "capacity").rglob("*.py")]
    assert any(m.startswith("capacity/model/stages/") for m in modules)
    assert sorted(m for m in modules if m not in names) == []


def test_wheel_holds_the_default_data_inside_the_package(wheel):
    names = set(wheel.namelist())
    data = _tracked("assumptions") + _tracked("templates")
    assert "assumptions/gpus.csv" in data and "templates/demand-input.xlsx" in data
    assert sorted(f for f in data if f"capacity/{f}" not in names) == []
    assert wheel.read("capacity/assumptions/gpus.csv") == (REPOSITORY / "assumptions/gpus.csv").read_bytes()


def test_wheel_metadata_states_the_licence_as_spdx(wheel):
    metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    text = wheel.read(metadata).decode()
    assert "License-Expression: Apache-2.0" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel.namelist())


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """An installation whose data folders are missing (the package folder alone)."""
    package = tmp_path / "site-packages" / "capacity"
    package.mkdir(parents=True)
    monkeypatch.setattr(paths, "package_dir", lambda: package)
    default_catalog.cache_clear()
    yield package
    default_catalog.cache_clear()


@pytest.mark.parametrize("arguments", [["run"], ["assumptions", "list"], ["template", "t.xlsx"],
                                       ["calibrate"]])
def test_missing_data_folder_is_an_error_with_exit_code_2(no_data, tmp_path, monkeypatch, arguments):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{no_data / 'assumptions'}: found no such folder; expected the default data" in result.stderr
    assert "reinstall" in result.stderr
    assert not (tmp_path / "t.xlsx").exists() and not (tmp_path / "netherlands-plan.xlsx").exists()


def test_missing_data_folder_through_the_library(no_data):
    with pytest.raises(capacity.InputError, match="no such folder"):
        capacity.load_scenario()


def test_a_library_folder_missing_a_table_is_refused_not_empty(tmp_path):
    (tmp_path / "gpus.csv").write_bytes((paths.assumptions_dir() / "gpus.csv").read_bytes())
    with pytest.raises(capacity.InputError) as error:
        Catalog.load(tmp_path)
    assert str(error.value) == (f"{tmp_path / 'models.csv'}: found no such file; expected the "
                                f"assumption table models.csv of the library in {tmp_path}")


def test_data_found_in_a_source_checkout_and_inside_an_installed_package(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages" / "capacity"
    (installed / "assumptions").mkdir(parents=True)
    monkeypatch.setattr(paths, "package_dir", lambda: installed)
    assert paths.assumptions_dir() == installed / "assumptions"
    checkout = tmp_path / "repo"
    (checkout / "capacity").mkdir(parents=True)
    (checkout / "templates").mkdir()
    monkeypatch.setattr(paths, "package_dir", lambda: checkout / "capacity")
    with pytest.raises(capacity.InputError):   # no pyproject.toml: not a checkout
        paths.templates_dir()
    (checkout / "pyproject.toml").write_text("")
    assert paths.templates_dir() == checkout / "templates"


def test_calibrate_write_refuses_to_edit_an_installed_library(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages" / "capacity"
    (installed / "assumptions").mkdir(parents=True)
    monkeypatch.setattr(paths, "package_dir", lambda: installed)
    from capacity.model import calibrate
    with pytest.raises(capacity.InputError, match="found the assumption library of an installed package"):
        calibrate.write(None)
    assert list((installed / "assumptions").iterdir()) == []
