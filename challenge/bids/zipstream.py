"""A ZIP archive written as a stream: entries are stored (no compression, the files are mostly
PDF and Office documents that are compressed already), each followed by a data descriptor with
its CRC-32, so nothing is held in memory or written to disk. ZIP64 records are added when an
entry or an offset does not fit in 32 bits (and can be forced for tests with `zip64_from`).

Readers use the central directory at the end: Python's zipfile, Info-ZIP, 7-Zip, Windows
Explorer and macOS Archive Utility all read such archives.
"""

import re
import struct
import unicodedata
import zlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime

LIMIT_32 = 0xFFFFFFFF
LIMIT_16 = 0xFFFF
FLAGS = 0x0008 | 0x0800  # bit 3: sizes in a data descriptor, bit 11: UTF-8 names
VERSION_ZIP64 = 45
VERSION_PLAIN = 20
UNIX_FILE = (0o100644 << 16)


@dataclass
class ZipEntry:
    name: str
    size: int  # the announced size, used to decide on ZIP64 before the data is read
    modified: datetime
    chunks: AsyncIterable[bytes]


@dataclass
class _Written:
    name: bytes
    offset: int
    crc: int
    size: int
    dos_time: int
    dos_date: int
    zip64: bool


def _dos(moment: datetime) -> tuple[int, int]:
    year = min(max(moment.year, 1980), 2107)
    dos_time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    dos_date = ((year - 1980) << 9) | (moment.month << 5) | moment.day
    return dos_time, dos_date


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\/]')


def safe_component(text: str, fallback: str = "file") -> str:
    """One path component that is safe to extract anywhere: no separators, no control or
    reserved characters, no leading dots or spaces, not too long."""
    text = re.split(r"[\\/]", unicodedata.normalize("NFC", text))[-1]
    text = _UNSAFE.sub("_", text).strip().lstrip(".").strip()
    if len(text) > 120:
        stem, dot, extension = text.rpartition(".")
        text = (stem[:110] + dot + extension[:9]) if dot and len(extension) <= 9 else text[:120]
    if text.upper().split(".")[0] in {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                                      *(f"LPT{i}" for i in range(10))}:
        text = "_" + text
    return text or fallback


def unique_names(names: list[str]) -> list[str]:
    """Number repeated names (case-insensitively): report.pdf, report (2).pdf, ..."""
    taken: set[str] = set()
    result = []
    for name in names:
        folder, slash, base = name.rpartition("/")
        stem, dot, extension = base.rpartition(".")
        if not dot or not stem:
            stem, dot, extension = base, "", ""
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{folder}{slash}{stem} ({n}){dot}{extension}"
        taken.add(candidate.lower())
        result.append(candidate)
    return result


async def stream_zip(entries: AsyncIterable[ZipEntry], *, zip64_from: int = LIMIT_32) -> AsyncIterator[bytes]:
    """Yield the archive's bytes. `zip64_from`: sizes and offsets from this value on use ZIP64."""
    offset = 0
    written: list[_Written] = []
    async for entry in entries:
        name = entry.name.encode("utf-8")
        zip64 = entry.size >= zip64_from or offset >= zip64_from
        dos_time, dos_date = _dos(entry.modified)
        extra = struct.pack("<HHQQ", 0x0001, 16, 0, 0) if zip64 else b""
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, VERSION_ZIP64 if zip64 else VERSION_PLAIN, FLAGS, 0,
            dos_time, dos_date, 0, LIMIT_32 if zip64 else 0, LIMIT_32 if zip64 else 0, len(name), len(extra),
        ) + name + extra
        yield header
        crc, size = 0, 0
        async for chunk in entry.chunks:
            if chunk:
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                yield chunk
        if size >= zip64_from and not zip64:
            raise ValueError(f"{entry.name}: announced {entry.size} bytes, read {size}")
        if zip64:
            descriptor = struct.pack("<IIQQ", 0x08074B50, crc, size, size)
        else:
            descriptor = struct.pack("<IIII", 0x08074B50, crc, size, size)
        yield descriptor
        written.append(_Written(name, offset, crc, size, dos_time, dos_date, zip64))
        offset += len(header) + size + len(descriptor)

    directory_start = offset
    for item in written:
        large_size = item.size >= zip64_from
        large_offset = item.offset >= zip64_from
        values = []
        if large_size:
            values += [item.size, item.size]
        if large_offset:
            values.append(item.offset)
        extra = struct.pack("<HH", 0x0001, 8 * len(values)) + struct.pack(f"<{len(values)}Q", *values) if values else b""
        needs_64 = item.zip64 or bool(values)
        record = struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | VERSION_ZIP64,
            VERSION_ZIP64 if needs_64 else VERSION_PLAIN, FLAGS, 0, item.dos_time, item.dos_date, item.crc,
            LIMIT_32 if large_size else item.size, LIMIT_32 if large_size else item.size,
            len(item.name), len(extra), 0, 0, 0, UNIX_FILE, LIMIT_32 if large_offset else item.offset,
        ) + item.name + extra
        yield record
        offset += len(record)

    directory_size = offset - directory_start
    count = len(written)
    if count >= LIMIT_16 or directory_start >= zip64_from or directory_size >= zip64_from:
        zip64_end = offset
        yield struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, (3 << 8) | VERSION_ZIP64, VERSION_ZIP64, 0, 0,
                          count, count, directory_size, directory_start)
        yield struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
        yield struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, LIMIT_16, LIMIT_16, LIMIT_32, LIMIT_32, 0)
    else:
        yield struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, directory_size, directory_start, 0)
