"""The input boundary: every file the tool reads comes through here.

Before anything is parsed, a file must exist, be a regular file (not a folder, a device such as
``/dev/zero`` or a pipe) and be smaller than the limit of its kind. Text is decoded strictly:
UTF-8, with or without the byte-order mark Excel's "CSV UTF-8" writes; for CSV files also
Windows-1252, the encoding Excel's plain "CSV" writes on Western-European Windows; anything else
(UTF-16, binary data, bytes valid in no accepted encoding) is refused naming what was found. A
control character (other than tab and line breaks) is refused with its line.

YAML is read by `read_yaml_text`, which refuses tags, duplicate keys, keys that are lists or
mappings, nesting deeper than `MAX_DEPTH` and alias expansions beyond `MAX_NODES` values (the
"billion laughs"), keys YAML reads as booleans or null (``NO:``, Norway) and numbers YAML 1.1
misreads (``017`` octal, ``1:30`` base 60), and supports the standard merge key (``<<: *defaults``). Every refusal is one
`InputError` naming the file and line.

Every file read is remembered (`is_input`) so an output can refuse to overwrite the run's
own inputs (see `capacity.io.export.files.atomic_write`).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

LIMITS = {"scenario": 2_000_000, "assumption": 10_000_000, "results": 500_000_000,
          "template": 20_000_000, "text": 2_000_000}
"""Largest file of each kind, in bytes (a scenario or preset, an assumption CSV, a results JSON,
an Excel template). The shipped files are far below them (the largest CSV is 60 kB)."""
MAX_CSV_ROWS = 20_000
"""Most data rows in one assumption CSV (the library's largest table has 217)."""
MAX_FIELD_CHARS = 10_000
"""Longest CSV field or text value, in characters (the longest shipped note has about 1,500)."""
MAX_DEPTH = 32
"""Deepest nesting of YAML mappings and lists (a scenario needs 6)."""
MAX_NODES = 100_000
"""Most YAML values after aliases are expanded (the largest preset has about 1,000)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_IN_NAME = re.compile(r"[\x00-\x1f\x7f]")
"""In a key or a name (a variant, a use case, a region code), tabs and line breaks too: they
would break the rows of a CSV export."""
_UTF8 = "UTF-8 text (in Excel: Save As 'CSV UTF-8'; in an editor: encoding UTF-8)"

_read: set[tuple[int, int]] = set()
_tracking = [False]


def forget_inputs() -> None:
    """Start a command: no file has been read yet, and every file read from now on is an input
    an output may not replace. The CLI calls this once per command; a library session does not
    track its inputs (a notebook may well rewrite a template it read an hour ago)."""
    _read.clear()
    _tracking[0] = True


def stop_tracking() -> None:
    """End a command: forget its inputs and stop tracking (see `forget_inputs`)."""
    _read.clear()
    _tracking[0] = False


def remember_input(path: str | Path) -> None:
    """Note a file as an input of this run, by device and inode (so a symbolic or hard link to
    it is recognised too)."""
    if not _tracking[0]:
        return
    try:
        info = os.stat(path)
    except OSError:
        return
    _read.add((info.st_dev, info.st_ino))


def is_input(path: str | Path) -> bool:
    """Whether `path` (following links) is a file read as an input since `forget_inputs`."""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) in _read


def check_file(path: str | Path, kind: str, expected: str) -> Path:
    """`path` as a regular file no larger than ``LIMITS[kind]`` bytes, or `InputError`."""
    path = Path(path)
    where = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(where, None, "no such file", expected) from None
    except OSError as exc:
        raise InputError(where, None, f"a file that cannot be read ({exc.strerror or exc})",
                         expected) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(where, None, "a folder", expected)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(where, None, "a device or pipe, not a regular file", expected)
    if info.st_size > LIMITS[kind]:
        raise InputError(where, None, f"a file of {info.st_size:,} bytes",
                         f"{expected} of at most {LIMITS[kind]:,} bytes")
    if not os.access(path, os.R_OK):
        raise InputError(where, None, "a file without permission to read it", expected)
    remember_input(path)
    return path


def read_bytes(path: str | Path, kind: str, expected: str) -> bytes:
    """The bytes of a checked file (see `check_file`); the limit holds even if it grows."""
    path = check_file(path, kind, expected)
    try:
        with open(path, "rb") as handle:
            data = handle.read(LIMITS[kind] + 1)
    except OSError as exc:
        raise InputError(str(path), None, f"a file that cannot be read ({exc.strerror or exc})",
                         expected) from None
    if len(data) > LIMITS[kind]:
        raise InputError(str(path), None, f"a file of more than {LIMITS[kind]:,} bytes",
                         f"{expected} of at most {LIMITS[kind]:,} bytes")
    return data


def decode(data: bytes, where: str, *, windows_1252: bool = False) -> str:
    """Bytes -> text: UTF-8 with or without a byte-order mark; also Windows-1252 when
    `windows_1252`. UTF-16/32, binary data and undecodable bytes are refused naming them."""
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if data.startswith(bom):
            raise InputError(where, None, f"text encoded as {name} (it starts with a {name} "
                             "byte-order mark)", _UTF8)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    nul = data.find(b"\x00")
    if nul >= 0:
        sample = data[:4000]

        def mostly_zero(part: bytes) -> bool:
            return len(part) > 0 and part.count(0) > 0.4 * len(part)
        quarters = sum(mostly_zero(sample[r::4]) for r in range(4))
        half = mostly_zero(sample[1::2]) or mostly_zero(sample[0::2])
        found = ("text encoded as UTF-32 (three of every four bytes are 0)" if quarters >= 3 else
                 "text encoded as UTF-16 (every other byte is 0)" if half else
                 f"binary data (a NUL byte at byte {nul + 1:,}), not text")
        raise InputError(where, None, found, _UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if windows_1252:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise InputError(where, None, f"bytes that are neither UTF-8 nor Windows-1252 "
                                 f"(byte 0x{data[exc.start]:02x} at byte {exc.start + 1:,})",
                                 _UTF8) from None
        else:
            line = data[:exc.start].count(b"\n") + 1
            guess = "; it looks like Windows-1252" if _is_cp1252(data) else ""
            raise InputError(f"{where}:{line}", None, f"bytes that are not UTF-8 (byte "
                             f"0x{data[exc.start]:02x} at byte {exc.start + 1:,}{guess})",
                             _UTF8) from None
    control = _CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise InputError(f"{where}:{line}", None, f"the control character "
                         f"U+{ord(control.group()):04X}", "printable text (tabs and line breaks "
                         "are fine)")
    return text


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def read_text(path: str | Path, kind: str, expected: str, *, windows_1252: bool = False) -> str:
    """A checked, strictly decoded text file (see `check_file` and `decode`)."""
    return decode(read_bytes(path, kind, expected), str(path), windows_1252=windows_1252)


def check_text_value(value: str, where: str, key: str | None = None, *, name: bool = False) -> str:
    """A text value typed by a user: no control characters (for a `name`, no tab or line break
    either), not too long."""
    control = (_CONTROL_IN_NAME if name else _CONTROL).search(value)
    if control:
        raise InputError(where, key, f"{value[:60]!r}, with the control character "
                         f"U+{ord(control.group()):04X}", "printable text")
    if len(value) > MAX_FIELD_CHARS:
        raise InputError(where, key, f"a text of {len(value):,} characters",
                         f"at most {MAX_FIELD_CHARS:,} characters")
    return value


# --- YAML -------------------------------------------------------------------------------------

_STANDARD = "tag:yaml.org,2002:"
ALLOWED_TAGS = {_STANDARD + name for name in ("str", "int", "float", "bool", "null", "map",
                                              "seq", "timestamp")}
MERGE = _STANDARD + "merge"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's scanner and parser when PyYAML has them (ten times faster on a large file); the
same tokens, nodes and errors as the pure-Python ones."""
_OPEN = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
         yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSE = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _check_depth(text: str, where: str) -> None:
    """Refuse nesting deeper than `MAX_DEPTH` from the tokens, before the (recursive) composer
    sees it."""
    def too_deep(line: int) -> InputError:
        return InputError(f"{where}:{line}", None, f"mappings or lists nested more than "
                          f"{MAX_DEPTH} deep", f"at most {MAX_DEPTH} levels (a scenario needs 6)")
    depth = 0
    try:
        for token in yaml.scan(text, Loader=_LOADER):
            if isinstance(token, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise too_deep(token.start_mark.line + 1)
            elif isinstance(token, _CLOSE):
                depth -= 1
    except yaml.YAMLError as exc:      # libyaml stops at its own limit (1,000 flow levels)
        if "nesting depth" not in str(exc):
            raise
        mark = getattr(exc, "problem_mark", None)
        raise too_deep(mark.line + 1 if mark else 1) from None


class _Builder:
    """Composed YAML nodes -> plain values, recording the line of every key path."""

    def __init__(self, where: str):
        self.where, self.lines, self.count = where, {}, 0
        self.constructor = yaml.SafeLoader("")

    def located(self, node: yaml.Node) -> str:
        return f"{self.where}:{node.start_mark.line + 1}"

    def build(self, node: yaml.Node, path: tuple, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise InputError(self.located(node), None, f"more than {MAX_NODES:,} values (an "
                             "alias *name counting as every value it stands for)",
                             f"a scenario of at most {MAX_NODES:,} values, without aliases that "
                             "multiply (a 'billion laughs')")
        if depth > MAX_DEPTH:
            raise InputError(self.located(node), None, f"values nested more than {MAX_DEPTH} deep "
                             "through aliases", f"at most {MAX_DEPTH} levels")
        if node.tag not in ALLOWED_TAGS:
            raise InputError(self.located(node), ".".join(map(str, path)) or None,
                             f"the YAML tag {node.tag.replace(_STANDARD, '!!')}",
                             "plain values (tags are not read)")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if node.tag in (_STANDARD + "int", _STANDARD + "float") and not node.style:   # plain
            _check_yaml11_number(node.value, self.located(node), ".".join(map(str, path)) or None)
        value = self.constructor.construct_object(node, deep=True)
        if isinstance(value, str):
            check_text_value(value, self.located(node), ".".join(map(str, path)) or None,
                             name=path[-1:] in (("name",), ("id",), ("code",)))
        return value

    def mapping(self, node: yaml.MappingNode, path: tuple, depth: int) -> dict:
        result: dict = {}
        key_lines: dict = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(self.located(key_node), ".".join(map(str, path)) or None,
                                 "a key that is a list or mapping", "keys that are plain text")
            if key_node.tag not in ALLOWED_TAGS:
                raise InputError(self.located(key_node), None,
                                 f"the YAML tag {key_node.tag.replace(_STANDARD, '!!')} on a key",
                                 "plain keys (tags are not read)")
            key = key_node.value if key_node.tag == _STANDARD + "str" else \
                self.constructor.construct_object(key_node)
            if isinstance(key, bool) or key is None:
                raise InputError(self.located(key_node), ".".join(map(str, path)) or None,
                                 f"the key {key_node.value!r}, which YAML reads as {key!r}",
                                 "a key as text", f"write it in quotes: '{key_node.value}'")
            if isinstance(key, str):
                check_text_value(key, self.located(key_node), ".".join(map(str, path)) or None, name=True)
            line = key_node.start_mark.line + 1
            if key in key_lines:
                name = ".".join(map(str, path + (key,)))
                raise InputError(f"{self.where}:{line}", name, "the key a second time",
                                 f"each key once (first on line {key_lines[key]})")
            key_lines[key] = line
            self.lines[path + (key,)] = line
            result[key] = self.build(value_node, path + (key,), depth + 1)
        for value_node in merges:           # explicit keys win over merged ones
            explicit_lines, self.lines = self.lines, {}
            merged = self.merge(value_node, path, depth)
            merged_lines, self.lines = self.lines, explicit_lines
            for key, value in merged.items():
                result.setdefault(key, value)
            for key_path, line in merged_lines.items():
                if len(key_path) > len(path) and key_path[len(path)] not in key_lines:
                    self.lines.setdefault(key_path, line)
        return result

    def merge(self, node: yaml.Node, path: tuple, depth: int) -> dict:
        """The mappings of a merge key (``<<: *a`` or ``<<: [*a, *b]``; earlier ones win)."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                raise InputError(self.located(source), "<<", "a merge of something that is not "
                                 "a mapping", "<<: *name, where &name is a mapping")
            merged.update(self.mapping(source, path, depth + 1))
        return merged


_OCTAL = re.compile(r"[-+]?0[0-7_]+")


def _check_yaml11_number(text: str, where: str, key: str | None) -> None:
    """Refuse the numbers YAML 1.1 reads unlike anyone writing them means: a leading zero
    (``017`` is octal, 15) and colons (``1:30`` is sexagesimal, 90)."""
    if ":" in text:
        raise InputError(where, key, f"{text!r}, which YAML reads as a base-60 number",
                         "a plain number (0.15, 1200, 1.5e6), or text in quotes")
    if _OCTAL.fullmatch(text):
        raise InputError(where, key, f"{text!r}, which YAML reads as an octal number "
                         f"({int(text.replace('_', ''), 8)})", "a number without a leading zero")


def read_yaml_text(text: str, where: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML text safely into plain values and a map from key path to line number."""
    try:
        _check_depth(text, where)
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        located = f"{where}:{mark.line + 1}" if mark else where
        raise InputError(located, None, f"invalid YAML ({getattr(exc, 'problem', None) or exc})",
                         "a YAML mapping") from None
    builder = _Builder(where)
    try:
        data = builder.build(node, ()) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        located = f"{where}:{mark.line + 1}" if mark else where
        raise InputError(located, None, f"a value YAML cannot read ({getattr(exc, 'problem', None) or exc})",
                         "plain numbers, text, lists and mappings") from None
    return data, builder.lines
