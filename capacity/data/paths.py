"""Where the default data lives: the assumption library (`assumptions/`) and the Excel input
template (`templates/`).

In an installed wheel both folders sit inside the package (`capacity/assumptions`,
`capacity/templates`, mapped there by pyproject.toml) and are found with `importlib.resources`;
in a source checkout (an editable install) they are the repository's top-level folders beside
the package. A folder found in neither place is an `InputError` (exit code 2), never an empty
catalogue.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import InputError

DATA_FOLDERS = ("assumptions", "templates")


def package_dir() -> Path:
    """The installed `capacity` package folder."""
    return Path(str(files("capacity")))


def _candidates(name: str) -> list[Path]:
    package = package_dir()
    found = [package / name]
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file():   # a source checkout: the folder beside the package
        found.append(checkout / name)
    return found


def data_dir(name: str) -> Path:
    """The folder `name` (one of `DATA_FOLDERS`) of the default data; refused when missing."""
    if name not in DATA_FOLDERS:
        raise ValueError(f"unknown data folder {name!r}; expected one of {DATA_FOLDERS}")
    candidates = _candidates(name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise InputError(str(candidates[0]), None, "no such folder",
                     f"the default data that capacity ships ({name}/); the installation is "
                     "incomplete: reinstall it (pip install --force-reinstall capacity) or, in a "
                     "source checkout, restore the folder with git")


def inside_package(folder: Path) -> bool:
    """Whether a data folder is the installed package's own (not a source checkout's)."""
    return folder.parent == package_dir()


def assumptions_dir() -> Path:
    """The assumption library: `gpus.csv`, `models.csv`, ... and `scenarios/`."""
    return data_dir("assumptions")


def scenarios_dir() -> Path:
    """The shipped scenarios: the default scenario and the country presets."""
    return assumptions_dir() / "scenarios"


def templates_dir() -> Path:
    """The shipped Excel input template (`demand-input.xlsx`)."""
    return data_dir("templates")
