"""Safe file output: checked destinations, written beside them, moved into place atomically.

Rules for every file the tool writes (documented in README "Where output goes"):

- the destination must be a regular file or not exist: a folder, a device node (``/dev/null``)
  or a pipe is refused; so is any file this run read (its scenario, template or assumption
  CSVs, or a link to one: `capacity.data.reading.is_input`), and any file in the packaged
  assumption library;
- a symbolic link is written through: the file it points to is replaced, the link stays;
- the new content goes to a temporary file ``.NAME.capacity-PID-XXXX.tmp`` in the destination's
  folder and replaces the destination only once complete, so an interrupted export leaves the
  old file as it was; the temporary file is removed on every exit path, SIGTERM, SIGHUP and
  Ctrl-C included (`install_signal_handlers`), and one left by a process killed with SIGKILL is
  removed by the next write to the same folder;
- a file name made from a scenario's name is reduced to safe characters (`safe_file_name`).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import signal
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from ...data.errors import OutputError
from ...data.paths import assumptions_dir
from ...data.reading import is_input

TEMPORARY_MARK = ".capacity-"
_STALE = re.compile(r"^\..+\.capacity-(\d+)-[^.]+\.tmp$")
_live: set[Path] = set()
"""Temporary files being written now, removed by the signal handlers."""


def safe_file_name(name: str, suffix: str) -> str:
    """A file name in the working folder made from a scenario name: letters, digits, '.', '_'
    and '-' kept, anything else (path separators, '..', spaces, control characters) turned into
    '-', at most 80 characters; ``"../x"`` -> ``"x" + suffix``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name))
    stem = re.sub(r"-{2,}", "-", stem).strip(".-")[:80].strip(".-")
    return (stem or "scenario") + suffix


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove temporary files in `folder` left by capacity processes that no longer run
    (killed with SIGKILL mid-write); a live process's are left alone."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _STALE.match(entry.name)
        if match and not _pid_alive(int(match.group(1))) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def _cleanup_and_exit(signum, frame):
    for temporary in list(_live):
        try:
            temporary.unlink()
        except OSError:
            pass
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    """On SIGTERM and SIGHUP, remove the temporary files being written and exit 128+signal
    (Ctrl-C already unwinds through `atomic_write`'s clean-up)."""
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            try:
                signal.signal(getattr(signal, name), _cleanup_and_exit)
            except ValueError:      # not the main thread (a library caller's worker)
                pass


def checked_destination(path: str | Path) -> Path:
    """The file `atomic_write` will replace for `path` (a link's target), or `OutputError`
    saying why it may not be written."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{path}: cannot write: the folder {folder} does not exist")
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{path}: cannot write: it is a folder; give a file name inside it")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{path}: cannot write: it is a device or pipe, not a regular file "
                          "(results go to a file, or to stdout with -o -)")
    library = Path(os.path.realpath(assumptions_dir()))
    if library == Path(os.path.realpath(target)).parent or library in Path(os.path.realpath(target)).parents:
        raise OutputError(f"{path}: cannot write: it is in capacity's assumption library "
                          f"({library}); give an output path outside it")
    if is_input(target):
        raise OutputError(f"{path}: cannot write: it is an input of this run (writing would "
                          "replace it); give another output path")
    return target


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` and move the file onto `path` only if it succeeds.

    The destination is checked first (`checked_destination`). An interrupted or failed export
    leaves any existing file at `path` untouched and no temporary file behind. A destination
    that cannot be written raises `OutputError` naming it.
    """
    path = Path(path)
    target = checked_destination(path)
    folder = target.parent if str(target.parent) else Path(".")
    remove_stale_temporaries(folder)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}{TEMPORARY_MARK}{os.getpid()}-",
                                             suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
    temporary_path = Path(temporary)
    _live.add(temporary_path)
    try:
        os.close(handle)
        write(temporary_path)
        # mkstemp makes the file private; give it the mode a new file would have (or the old one's)
        umask = os.umask(0)
        os.umask(umask)
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
        os.chmod(temporary_path, mode)
        with open(temporary_path, "rb") as done:
            os.fsync(done.fileno())
        os.replace(temporary_path, target)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc} (is the disk full, or "
                          "the file open in another program, such as Excel?)") from None
    finally:
        try:
            temporary_path.unlink()
        except OSError:
            pass
        _live.discard(temporary_path)
    return path


FIXED_TIME = dt.datetime(2000, 1, 1)
"""The time stamped into every workbook we write, so the same inputs give the same bytes."""


def reproducible_xlsx(data: bytes) -> bytes:
    """An xlsx (a zip) with every entry, and the document's created and modified times,
    stamped at `FIXED_TIME`, entries in the same order: byte-identical for identical content."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":   # openpyxl stamps the save time here
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                                 rb"\g<1>" + stamp + rb"\g<2>", content)
            stamped = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            stamped.compress_type = zipfile.ZIP_DEFLATED
            stamped.external_attr = info.external_attr
            target.writestr(stamped, content)
    return output.getvalue()


def save_workbook(book, path: Path, formula_sheets: tuple[str, ...] = ()) -> None:
    """Save an openpyxl workbook to `path` reproducibly (see `reproducible_xlsx`), every text
    cell as text: openpyxl stores a string starting with '=' as a formula, so on every sheet not
    in `formula_sheets` such a cell is turned back into text (a name such as
    ``=HYPERLINK(...)`` is shown, never run). The sheets in `formula_sheets` hold the tool's own
    formulas; the writer of such a sheet keeps user text out of formula cells itself."""
    for sheet in book.worksheets:
        if sheet.title in formula_sheets:
            continue
        for cell in list(sheet._cells.values()):   # the cells there are (iter_rows would add empty ones)
            if cell.data_type == "f" and isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    Path(path).write_bytes(reproducible_xlsx(buffer.getvalue()))
