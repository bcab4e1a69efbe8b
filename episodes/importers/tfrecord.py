"""GZIP TFRecord shards, `tf.train.Example` and the android_env accessibility forest, read without TensorFlow.

Framing (TensorFlow `core/lib/io/record_writer.cc`): each record is `u64 length (LE) | u32 masked
CRC32C of those 8 bytes | data | u32 masked CRC32C of data`, the whole shard one gzip stream.
Records stream one at a time from `gzip` (bounded memory whatever the shard size), and both CRCs are
checked with `google-crc32c`.

Why the framing and the two protobuf messages are decoded by hand here: the `tfrecord` package
(1.14.6) checks no CRC and returns byte features as numpy `S` arrays, which drop trailing NUL bytes
(checked: `b"ab\\x00\\x00"` comes back as `b"ab"`), so serialized forests and PNGs would be corrupted
silently; the `protobuf` runtime would need generated modules for `tf.train.Example` and five
android_env messages. We need five fields of Example and a dozen of the forest, which a forty-line
wire reader covers (field numbers: tensorflow `core/example/{example,feature}.proto`, google-deepmind
android_env `android_env/proto/a11y/*.proto`).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import google_crc32c

_MASK_DELTA = 0xA282EAD8


class FramingError(ValueError):
    """A shard that cannot be read: `path`, 0-based `record` and the `reason`.

    `recoverable` is True when the record was read whole (bad data CRC, bad payload), so the reader
    can go on with the next record; False when the stream position is lost (truncated or corrupt
    gzip, bad length CRC).
    """

    def __init__(self, path: str, record: int, reason: str, recoverable: bool) -> None:
        super().__init__(f"{path}: record {record}: {reason}")
        self.path, self.record, self.reason, self.recoverable = path, record, reason, recoverable


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC32C of `data`."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """One TFRecord record (length, CRCs and data) for `data`."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc(length)) + data + struct.pack("<I", masked_crc(data))


def iter_records(path: str | Path) -> Iterator[tuple[int, bytes | FramingError]]:
    """`(record number, data)` for each record of a GZIP TFRecord file, CRCs checked.

    A record whose data CRC fails is yielded as a recoverable `FramingError` (reading goes on); a
    lost stream position (truncated file, bad gzip, bad length CRC) is yielded as a final,
    unrecoverable one.
    """
    src = str(path)
    number = 0
    with gzip.open(path, "rb") as f:
        while True:
            try:
                header = f.read(12)
                if not header:
                    return
                if len(header) < 12:
                    yield (
                        number,
                        FramingError(
                            src, number, f"truncated length header ({len(header)} of 12 bytes)", False
                        ),
                    )
                    return
                (length,) = struct.unpack("<Q", header[:8])
                (length_crc,) = struct.unpack("<I", header[8:])
                if masked_crc(header[:8]) != length_crc:
                    yield (
                        number,
                        FramingError(src, number, "length CRC mismatch (corrupt record header)", False),
                    )
                    return
                data = f.read(length)
                footer = f.read(4)
            except (EOFError, OSError, zlib.error) as exc:
                # gzip raises EOFError for a stream cut short and BadGzipFile (an OSError) for bad bytes.
                yield number, FramingError(src, number, f"unreadable gzip stream: {exc}", False)
                return
            if len(data) < length or len(footer) < 4:
                yield (
                    number,
                    FramingError(
                        src, number, f"truncated record: expected {length} bytes, found {len(data)}", False
                    ),
                )
                return
            if masked_crc(data) != struct.unpack("<I", footer)[0]:
                yield number, FramingError(src, number, "data CRC mismatch (corrupt record)", True)
            else:
                yield number, data
            number += 1


# --- protobuf wire format ---------------------------------------------------------------------------


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """`(field number, wire type, value)` of a serialized message; LEN values are zero-copy views."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    pos, end = 0, len(view)
    while pos < end:
        key, pos = _varint(view, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(view, pos)
        elif wire == 2:
            size, pos = _varint(view, pos)
            if pos + size > end:
                raise ValueError(f"field {number}: length {size} runs past the end of the message")
            value, pos = view[pos : pos + size], pos + size
        elif wire == 1:
            value, pos = view[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = view[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"field {number}: unsupported wire type {wire}")
        yield number, wire, value


def _packed_ints(wire: int, value: int | memoryview) -> list[int]:
    if wire == 0:
        return [int(value)]  # type: ignore[arg-type]
    out, pos, view = [], 0, value
    while pos < len(view):  # type: ignore[arg-type]
        item, pos = _varint(view, pos)  # type: ignore[arg-type]
        out.append(item)
    return out


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def parse_example(data: bytes, names: frozenset[str] | None = None) -> dict[str, list]:
    """A `tf.train.Example` as `{name: [values]}`: bytes lists as `bytes`, int64 as `int`, floats as `float`.

    With `names`, only those features are decoded (the others are skipped without copying their bytes).
    """
    out: dict[str, list] = {}
    for num, _, features in fields(data):
        if num != 1:
            continue
        for fnum, _, entry in fields(features):  # type: ignore[arg-type]
            if fnum != 1:
                continue
            name, feature = "", b""
            for enum_, _, part in fields(entry):  # type: ignore[arg-type]
                if enum_ == 1:
                    name = bytes(part).decode("utf-8")  # type: ignore[arg-type]
                elif enum_ == 2:
                    feature = part
            if names is not None and name not in names:
                continue
            values: list = []
            for kind, _, lst in fields(feature):  # type: ignore[arg-type]
                for vnum, wire, item in fields(lst):  # type: ignore[arg-type]
                    if vnum != 1:
                        continue
                    if kind == 1:
                        values.append(bytes(item))  # type: ignore[arg-type]
                    elif kind == 3:
                        values.extend(_signed(v) for v in _packed_ints(wire, item))
                    elif kind == 2:
                        raw = bytes(item)  # type: ignore[arg-type]
                        values.extend(struct.unpack(f"<{len(raw) // 4}f", raw))
            out[name] = values
    return out


# --- accessibility forest -----------------------------------------------------------------------------


@dataclass
class Node:
    """The parts of an `AndroidAccessibilityNodeInfo` the importers use; bounds are
    `(left, top, right, bottom)`."""

    bounds: tuple[int, int, int, int] = (0, 0, 0, 0)
    has_bounds: bool = False  # bounds_in_screen is set (a set message of zeros too)
    package: str = ""
    clickable: bool = False
    focusable: bool = False
    long_clickable: bool = False
    scrollable: bool = False
    visible: bool = False
    children: int = 0
    action_ids: list[int] = field(default_factory=list)


@dataclass
class Window:
    """An `AndroidAccessibilityWindowInfo`: type (1 application, 2 IME, 3 system), active flag, nodes, and its
    own `bounds_in_screen` (None when not set)."""

    window_type: int = 0
    active: bool = False
    nodes: list[Node] = field(default_factory=list)
    bounds: tuple[int, int, int, int] | None = None


def _rect(buf: memoryview) -> tuple[int, int, int, int]:
    rect = [0, 0, 0, 0]
    for num, wire, value in fields(buf):
        if 1 <= num <= 4 and wire == 0:
            rect[num - 1] = _signed(int(value))  # type: ignore[arg-type]  # int32 negatives arrive as 64-bit varints
    return rect[0], rect[1], rect[2], rect[3]


def _node(buf: memoryview) -> Node:
    node = Node()
    for num, wire, value in fields(buf):
        if num == 2:
            node.bounds = _rect(value)  # type: ignore[arg-type]
            node.has_bounds = True
        elif num == 6:
            node.package = bytes(value).decode("utf-8", "replace")  # type: ignore[arg-type]
        elif num == 14:
            node.clickable = bool(value)
        elif num == 17:
            node.focusable = bool(value)
        elif num == 19:
            node.long_clickable = bool(value)
        elif num == 21:
            node.scrollable = bool(value)
        elif num == 23:
            node.visible = bool(value)
        elif num == 24:
            for anum, awire, aval in fields(value):  # type: ignore[arg-type]
                if anum == 1 and awire == 0:
                    node.action_ids.append(int(aval))  # type: ignore[arg-type]
        elif num == 25:
            node.children += len(_packed_ints(wire, value))
    return node


def every_bounds(windows: list[Window]) -> list[tuple[int, int, int, int]]:
    """Every `bounds_in_screen` rectangle of a forest in the order its text form lists them (per window:
    the window's own, then its nodes'), duplicates and empty ones included."""
    out: list[tuple[int, int, int, int]] = []
    for window in windows:
        if window.bounds is not None:
            out.append(window.bounds)
        out.extend(node.bounds for node in window.nodes if node.has_bounds)
    return out


def parse_forest(data: bytes) -> list[Window]:
    """An `AndroidAccessibilityForest` as its windows."""
    windows = []
    for num, _, wbuf in fields(data):
        if num != 1:
            continue
        window = Window()
        for wnum, _, value in fields(wbuf):  # type: ignore[arg-type]
            if wnum == 1:
                window.bounds = _rect(value)  # type: ignore[arg-type]
            elif wnum == 6:
                window.window_type = int(value)  # type: ignore[arg-type]
            elif wnum == 8:
                window.active = bool(value)
            elif wnum == 11:
                for tnum, _, nbuf in fields(value):  # type: ignore[arg-type]
                    if tnum == 1:
                        window.nodes.append(_node(nbuf))  # type: ignore[arg-type]
        windows.append(window)
    return windows
