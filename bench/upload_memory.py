"""Upload a large attachment through the real bid attachment route and measure the server.

Starts the app under uvicorn in a subprocess (SQLite and an upload folder in a temporary
directory), signs in as a bidder with an open draft bid, and POSTs a multipart body of
`--size-mib` MiB (default 1024) to `/bids/{id}/attachments`. The body is generated chunk by chunk
(one reused 1 MiB buffer), so the client holds no file either. It reports the server's resident
memory before the upload and its peak during it (VmHWM from /proc, reset just before the upload,
and cross-checked by sampling VmRSS), the throughput, and checks that the stored file has the size
and SHA-256 that were sent. Exit status 1 when the peak growth is over `--limit-mib` (default 64).

    .venv/bin/python bench/upload_memory.py [--size-mib 1024] [--limit-mib 64] [--keep]

Linux only (reads /proc). Everything it creates is removed at the end unless --keep is given.
"""

import argparse
import asyncio
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

MIB = 1024 * 1024
PASSWORD = "bench-password-2025"
BOUNDARY = "----challenge-bench-boundary-5c1d8e"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0]) * 1024
    return values


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+: write 5 to clear_refs)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


async def prepare_database(env: dict) -> dict:
    """Schema from the models, an approved university, a bidder and an open challenge with a draft bid."""
    os.environ.update(env)
    sys.path.insert(0, str(PROJECT))
    from tortoise import Tortoise
    from tortoise.context import TortoiseContext

    from challenge import db
    from challenge.accounts import passwords
    from challenge.accounts.credit_code import complete
    from challenge.accounts.models import Organisation, OrgStatus, OrgType, User
    from challenge.bids.models import Bid
    from challenge.challenges.models import Challenge, ChallengeStatus, Mechanism
    from challenge.settings import load_settings
    from challenge.web.timefmt import now_utc

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    passwords.configure(time_cost=1, memory_kib=1024)
    async with TortoiseContext():
        await Tortoise.init(config=db.tortoise_config(settings))
        await Tortoise.generate_schemas()
        org = await Organisation.create(name="基准测试大学", org_type=OrgType.UNIVERSITY, region_code="110000",
                                        credit_code=complete("12100000400099999"), status=OrgStatus.APPROVED)
        user = await User.create(email="bench@example.cn", name="基准", organisation=org, is_bidder=True,
                                 password_hash=passwords.hash_password(PASSWORD))
        now = now_utc()
        challenge = await Challenge.create(mechanism=Mechanism.OPEN_CALL, title="上传基准榜单",
                                           status=ChallengeStatus.PUBLISHED, opens_at=now - timedelta(days=1),
                                           closes_at=now + timedelta(days=1), published_at=now)
        bid = await Bid.create(challenge=challenge, lead_org=org, created_by=user, title="基准申报")
        await Tortoise.close_connections()
    return {"email": user.email, "bid_id": bid.id}


def big_pdf(size: int) -> tuple[bytes, bytes]:
    """The head and the tail of a valid PDF of exactly `size` bytes whose middle is any filler."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> >>"]
    head, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(head))
        head += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    offsets.append(len(head))

    def tail_for(stream_offset: int, length: int) -> bytes:
        xref = stream_offset + length + len(b"\nendstream\nendobj\n")
        entries = b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        return (b"\nendstream\nendobj\nxref\n0 5\n0000000000 65535 f \n" + entries
                + b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)

    # The stream's length and the xref offset depend on each other's digits: settle them.
    length = size - len(head) - 200
    for _ in range(3):
        start = head + b"4 0 obj\n<< /Length %d >>\nstream\n" % length
        length = size - len(start) - len(tail_for(len(start), length))
    start = head + b"4 0 obj\n<< /Length %d >>\nstream\n" % length
    tail = tail_for(len(start), length)
    assert len(start) + length + len(tail) == size
    return bytes(start), tail


class Body:
    """A multipart body produced on the fly; hashes the file part as it goes."""

    def __init__(self, token: str, size: int, chunk: int = MIB) -> None:
        self.size = size
        self.chunk = bytes(range(256)) * (chunk // 256)
        self.prefix = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="category"\r\n\r\nother\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench-1GiB.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        # A valid PDF (uploads are parsed): one page, and the bulk in a stream object of its own.
        self.head, tail = big_pdf(size)
        self.tail = tail
        self.suffix = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.hasher = hashlib.sha256()
        self.length = len(self.prefix) + size + len(self.suffix)

    def __iter__(self):
        yield self.prefix
        self.hasher.update(self.head)
        yield self.head
        remaining = self.size - len(self.head) - len(self.tail)
        while remaining > 0:
            piece = self.chunk if remaining >= len(self.chunk) else self.chunk[:remaining]
            remaining -= len(piece)
            self.hasher.update(piece)
            yield piece
        self.hasher.update(self.tail)
        yield self.tail
        yield self.suffix


def sign_in(http: httpx.Client, email: str) -> str:
    token = CSRF_RE.search(http.get("/login").text).group(1)
    response = http.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    if response.status_code != 303:
        raise SystemExit(f"sign-in failed: {response.status_code}")
    return CSRF_RE.search(http.get("/account").text).group(1)


def sampler(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], proc_status(pid)["VmRSS"])
        except (OSError, KeyError):
            return
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--limit-mib", type=float, default=64.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    size = args.size_mib * MIB

    work = Path(tempfile.mkdtemp(prefix="challenge-bench-"))
    port = free_port()
    env = {
        "CHALLENGE_DATA_DIR": str(work / "data"),
        "CHALLENGE_SECRET_KEY": "bench-secret-" + "z" * 40,
        "CHALLENGE_MAX_UPLOAD_MB": str(args.size_mib + 16),
        "CHALLENGE_ARGON2_TIME_COST": "1",
        "CHALLENGE_ARGON2_MEMORY_KIB": "1024",
        "CHALLENGE_BASE_URL": f"http://127.0.0.1:{port}",
    }
    server = None
    try:
        facts = asyncio.run(prepare_database(env))
        server_env = {**os.environ, **env}
        server_env.pop("CHALLENGE_DATABASE_URL", None)
        log = open(work / "server.log", "wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "challenge.app:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=PROJECT, env=server_env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("server did not start:\n" + (work / "server.log").read_text())
            time.sleep(0.1)

        with httpx.Client(base_url=base, timeout=None) as http:
            token = sign_in(http, facts["email"])
            url = f"/bids/{facts['bid_id']}/attachments"
            headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
            # Warm-up: the same route with a small file, so imports and caches are not counted.
            warm = Body(token, 2 * MIB)
            response = http.post(url, content=iter(warm), headers={**headers, "content-length": str(warm.length)})
            assert response.status_code == 303, response.text[:500]
            time.sleep(0.5)

            before = proc_status(server.pid)
            peak_reset = reset_peak(server.pid)
            sampled, stop = [before["VmRSS"]], threading.Event()
            watcher = threading.Thread(target=sampler, args=(server.pid, stop, sampled), daemon=True)
            watcher.start()
            body = Body(token, size)
            started = time.perf_counter()
            response = http.post(url, content=iter(body), headers={**headers, "content-length": str(body.length)})
            elapsed = time.perf_counter() - started
            stop.set()
            watcher.join()
            after = proc_status(server.pid)
            if response.status_code != 303:
                raise SystemExit(f"upload refused: {response.status_code} {response.text[:500]}")

        stored = [p for p in (work / "data" / "uploads").rglob("*") if p.is_file() and p.stat().st_size == size]
        # Each server process keeps a temporary folder of its own and a lock beside it while it
        # lives (files.storage.LocalStorage): what counts is a file left inside one.
        leftovers = [p for p in (work / "data" / "uploads" / "tmp").glob("*/*") if p.is_file()]
        peak = max(after["VmHWM"] if peak_reset else 0, sampled[0])
        growth = peak - before["VmRSS"]
        ok = growth <= args.limit_mib * MIB and len(stored) == 1 and not leftovers
        digest_ok = bool(stored) and _sha256_file(stored[0]) == body.hasher.hexdigest()
        print(f"upload size          {size / MIB:.0f} MiB through POST {url}")
        print(f"elapsed              {elapsed:.1f} s")
        print(f"throughput           {size / MIB / elapsed:.0f} MiB/s")
        print(f"server RSS before    {before['VmRSS'] / MIB:.1f} MiB")
        print(f"server RSS peak      {peak / MIB:.1f} MiB ({'VmHWM after reset' if peak_reset else 'sampled'};"
              f" sampled max {sampled[0] / MIB:.1f} MiB)")
        print(f"peak growth          {growth / MIB:.1f} MiB (limit {args.limit_mib:.0f} MiB)")
        print(f"stored file          {'1 file of the full size' if len(stored) == 1 else stored}, "
              f"SHA-256 {'matches' if digest_ok else 'DOES NOT MATCH'}, temporary files left: {len(leftovers)}")
        print("result               " + ("PASS" if ok and digest_ok else "FAIL"))
        return 0 if ok and digest_ok else 1
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(4 * MIB):
            hasher.update(chunk)
    return hasher.hexdigest()


if __name__ == "__main__":
    sys.exit(main())
