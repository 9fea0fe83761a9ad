"""Atomic file output: write beside the destination, then move into place."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from ...data.errors import OutputError


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)`` and move the file onto `path` only if it succeeds.

    An interrupted or failed export leaves any existing file at `path` untouched and no partial
    file behind. A destination that cannot be written raises `OutputError` naming it.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{path}: cannot write: the folder {folder} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        write(temporary_path)
        # mkstemp makes the file private; give it the mode a new file would have (or the old one's)
        umask = os.umask(0)
        os.umask(umask)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask
        os.chmod(temporary_path, mode)
        with open(temporary_path, "rb") as done:
            os.fsync(done.fileno())
        os.replace(temporary_path, path)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc} (is it open in another "
                          "program, such as Excel?)") from None
    finally:
        if temporary_path.exists():
            temporary_path.unlink()
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


def save_workbook(book, path: Path) -> None:
    """Save an openpyxl workbook to `path` reproducibly (see `reproducible_xlsx`)."""
    buffer = io.BytesIO()
    book.save(buffer)
    Path(path).write_bytes(reproducible_xlsx(buffer.getvalue()))
