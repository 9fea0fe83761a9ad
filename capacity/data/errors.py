"""Error types. Every input error carries where it was found (file:line or Sheet!Cell)."""

from __future__ import annotations


class CapacityError(Exception):
    """Base class of the errors `capacity` raises on purpose."""


class InputError(CapacityError, ValueError):
    """Bad input: a file, a scenario key or a command-line value that cannot be used.

    The message is built once, here, from its parts, so every error reads the same way:
    ``<where>: <key>: found <found>; expected <expected>``.
    """

    def __init__(self, where: str | None, key: str | None, found: str | None, expected: str | None,
                 hint: str | None = None):
        self.where, self.key, self.found, self.expected, self.hint = where, key, found, expected, hint
        parts = []
        if key:
            parts.append(f"{key}:")
        if found is not None:
            parts.append(f"found {found}")
        if expected is not None:
            parts.append(("; expected " if found is not None else "expected ") + expected)
        message = " ".join(parts).replace(" ;", ";")
        if hint:
            message += f" ({hint})"
        super().__init__(f"{where}: {message}" if where else message)


class OutputError(CapacityError, OSError):
    """An output that cannot be written (locked, missing folder, no permission)."""
