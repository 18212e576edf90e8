"""Storage maintenance: check every blob against its object, copy objects to another store, sweep leftovers.

Each function walks the `blob` table in id order, in batches, and streams content in chunks:
memory stays flat however many and however large the files are.
"""

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from challenge.files.models import Blob


async def all_blobs(batch: int = 500) -> AsyncIterator[Blob]:
    last_id = 0
    while rows := await Blob.filter(id__gt=last_id).order_by("id").limit(batch):
        for row in rows:
            yield row
        last_id = rows[-1].id


async def content_digest(storage, key: str) -> tuple[str, int] | None:
    """(SHA-256, size) of an object read back in full, or None when there is no such object."""
    if not await storage.exists(key):
        return None
    digest, size = hashlib.sha256(), 0
    async for chunk in storage.read(key):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def problem_with(blob: Blob, found: tuple[str, int] | None) -> str:
    """What is wrong with a blob's object, or "" when it is there with the recorded content."""
    if found is None:
        return "missing"
    sha256, size = found
    if size != blob.size:
        return f"differs: {size} bytes stored, {blob.size} recorded"
    if sha256 != blob.sha256:
        return f"differs: SHA-256 {sha256} stored, {blob.sha256} recorded"
    return ""


@dataclass
class Report:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    copied: int = 0
    skipped: int = 0


async def check(storage, out: Callable[[str], None] = print) -> Report:
    """Read back every blob's object and compare size and SHA-256 with the record."""
    report = Report()
    async for blob in all_blobs():
        report.checked += 1
        if problem := problem_with(blob, await content_digest(storage, blob.storage_key)):
            report.problems.append(f"blob {blob.id} ({blob.storage_key}): {problem}")
            out(f"PROBLEM blob {blob.id} key {blob.storage_key}: {problem}")
    return report


async def copy_all(source, target, out: Callable[[str], None] = print) -> Report:
    """Copy every blob's object from `source` to `target` under the same key, verifying each SHA-256.

    Resumable: an object already in the target with the recorded content is skipped, so the
    command can be rerun after an interruption. An interrupted copy leaves nothing under its
    key (the target's writer commits only a complete object).
    """
    report = Report()
    async for blob in all_blobs():
        report.checked += 1
        if not problem_with(blob, await content_digest(target, blob.storage_key)):
            report.skipped += 1
            continue
        problem = await _copy(source, target, blob)
        if not problem:
            problem = problem_with(blob, await content_digest(target, blob.storage_key))
        if problem:
            report.problems.append(f"blob {blob.id} ({blob.storage_key}): {problem}")
            out(f"PROBLEM blob {blob.id} key {blob.storage_key}: {problem}")
        else:
            report.copied += 1
    return report


async def _copy(source, target, blob: Blob) -> str:
    if not await source.exists(blob.storage_key):
        return "missing in the source"
    writer = await target.writer(key=blob.storage_key)
    digest = hashlib.sha256()
    try:
        async for chunk in source.read(blob.storage_key):
            digest.update(chunk)
            await writer.write(chunk)
        if digest.hexdigest() != blob.sha256:
            await writer.abort()
            return "differs in the source: not copied"
        await writer.commit()
    except BaseException:
        await writer.abort()
        raise
    return ""


async def orphans(storage, older_than: timedelta) -> list:
    """Objects no blob records, stored longer ago than `older_than` (a process killed between
    storing a file and recording it). Younger ones may belong to a request still in flight."""
    known = set(await Blob.all().values_list("storage_key", flat=True))
    cutoff = datetime.now(timezone.utc) - older_than
    return [item async for item in storage.stored() if item.key not in known and item.modified < cutoff]


async def cleanup(storage, older_than: timedelta, out: Callable[[str], None] = print) -> tuple[int, int]:
    """Remove unfinished uploads left by killed processes and orphaned objects: (unfinished, orphans)."""
    unfinished = await storage.sweep_unfinished(older_than)
    lost = await orphans(storage, older_than)
    for item in lost:
        out(f"removing orphaned object {item.key} ({item.size} bytes, stored {item.modified.isoformat()})")
        await storage.delete(item.key)
    return unfinished, len(lost)
