"""Seed, serve and measure: the app's main pages against the machine's limit.

    .venv/bin/python bench/run.py              # SQLite and PostgreSQL, 1 and 2 workers, 1k and 100k bids
    .venv/bin/python bench/run.py --quick      # SQLite, 1 worker, 1k and 10k bids, short runs (~2 minutes)
    .venv/bin/python bench/run.py --record     # ... and write the table into bench/README.md

For each database and scale it seeds a fresh database (`bench/seed.py`, PostgreSQL: a database of
its own, dropped at the end), then for each worker count starts the real server (uvicorn with
uvloop and httptools, the app's `create_app`) and the limit (`bench/limit_app.py`, the same list
template rendered from memory), and measures every page with `wrk` on loopback (installed from
Debian with apt-get when missing; `-t1 -c16`), signed in where the page needs it. The upload is
measured with an async httpx client (4 at a time, each a 5 MB PDF to its own draft bid). Per
page: req/s, p50 and p99 latency under load, the latency of one request alone (median of 5), the
server's peak memory (VmHWM of every server process, summed, reset before each page) and the ratio
of req/s to the limit's.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "bench"))
from upload_memory import CSRF_RE, big_pdf  # noqa: E402

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
MIB = 1024 * 1024
UPLOAD_MB = 5
UPLOADS = 8
BOUNDARY = "----challenge-bench-run-7f3a"


def process_env(env: dict) -> dict:
    """The environment of a child: ours, without a database URL unless the bench sets one."""
    base = {k: v for k, v in os.environ.items() if k != "CHALLENGE_DATABASE_URL"}
    return {**base, **env}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, stdout=subprocess.DEVNULL)
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return path


# --- servers ---------------------------------------------------------------------------------

class Server:
    def __init__(self, app: str, env: dict, workers: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
             "--no-access-log"],
            cwd=PROJECT, env=process_env({**env, "CHALLENGE_BASE_URL": self.base}),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.base + "/", timeout=2).status_code < 500 and len(self.pids()) > workers - (workers == 1):
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()  # a server that answers with errors keeps running otherwise
                raise SystemExit(f"{app} did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)

    def pids(self) -> list[int]:
        pids, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    todo += [int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            except OSError:
                pass
        return pids

    def reset_peak(self) -> None:
        for pid in self.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                pass

    def peak_mib(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total / MIB

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


# --- measuring -------------------------------------------------------------------------------

def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"wrk latency {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def run_wrk(wrk: str, url: str, cookie: str | None, seconds: int, connections: int) -> dict:
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps_match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    latency = re.search(r"Latency Distribution\s+50%\s+(\S+).*?99%\s+(\S+)", out, re.S)
    if rps_match is None:
        raise SystemExit(f"wrk on {url} gave no figures:\n{out}")
    rps = float(rps_match.group(1))
    # No request finished within the run: no latency figures (shown as "—").
    p50, p99 = (_ms(latency.group(1)), _ms(latency.group(2))) if latency else (float("nan"), float("nan"))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": p50, "p99": p99, "errors": int(errors.group(1)) if errors else 0}


def alone_ms(url: str, cookie: str | None) -> float:
    headers = {"Cookie": cookie} if cookie else {}
    times = []
    with httpx.Client(timeout=30) as client:
        for _ in range(6):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")
    return sorted(times[1:])[2]


def sign_in(base: str, email: str, password: str) -> tuple[str, str]:
    """The session cookie and the CSRF token of a signed-in session."""
    with httpx.Client(base_url=base, timeout=30) as http:
        token = CSRF_RE.search(http.get("/login").text).group(1)
        response = http.post("/login", data={"csrf_token": token, "email": email, "password": password})
        if response.status_code != 303:
            raise SystemExit(f"sign-in as {email} failed: {response.status_code}")
        token = CSRF_RE.search(http.get("/account").text).group(1)
        return f"challenge_session={http.cookies['challenge_session']}", token


async def measure_uploads(base: str, cookie: str, token: str, bid_ids: list[int]) -> dict:
    head, tail = big_pdf(UPLOAD_MB * MIB)
    filler = b"\0" * (UPLOAD_MB * MIB - len(head) - len(tail))

    def body(number: int) -> bytes:
        return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="category"\r\n\r\nother\r\n'
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench-{number}.pdf"\r\n'
                f"Content-Type: application/pdf\r\n\r\n").encode() + head + filler + tail + f"\r\n--{BOUNDARY}--\r\n".encode()

    headers = {"Cookie": cookie, "content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    times: list[float] = []
    semaphore = asyncio.Semaphore(4)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        async def one(bid_id: int) -> None:
            data = body(bid_id)
            async with semaphore:
                started = time.perf_counter()
                response = await client.post(f"/bids/{bid_id}/attachments", content=data, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 303 or response.headers["location"] != f"/bids/{bid_id}":
                raise SystemExit(f"upload to bid {bid_id} refused: {response.status_code}")

        started = time.perf_counter()
        await asyncio.gather(*(one(bid_id) for bid_id in bid_ids))
        elapsed = time.perf_counter() - started
        page = await client.get(f"/bids/{bid_ids[0]}", headers={"Cookie": cookie})
        if f"bench-{bid_ids[0]}.pdf" not in page.text:
            raise SystemExit("the uploaded file is not on the bid's page")
    times.sort()
    return {"rps": len(bid_ids) / elapsed, "p50": times[len(times) // 2], "p99": times[-1], "errors": 0,
            "alone": times[0]}


# --- one configuration -----------------------------------------------------------------------

def seed(env: dict, bids: int, work: Path) -> dict:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(PROJECT / "bench" / "seed.py"), "--bids", str(bids),
                    "--attachment-mb", str(UPLOAD_MB)], cwd=PROJECT, env=process_env(env), check=True,
                   stdout=subprocess.DEVNULL)
    facts = json.loads((Path(env["CHALLENGE_DATA_DIR"]) / "bench.json").read_text())
    facts["seed_seconds"] = time.perf_counter() - started
    return facts


def measure(*, wrk: str, env: dict, facts: dict, workers: int, seconds: int, uploads: list[int], work: Path) -> list[dict]:
    rows = []
    limit = Server("bench.limit_app:create_app", env, workers, work / "limit.log")
    try:
        limit.reset_peak()
        result = run_wrk(wrk, limit.base + "/", None, seconds, 16)
        rows.append({"page": "limit: list template from memory", **result, "alone": alone_ms(limit.base + "/", None),
                     "peak": limit.peak_mib()})
    finally:
        limit.stop()
    server = Server("challenge.app:create_app", env, workers, work / "server.log")
    try:
        organiser, _ = sign_in(server.base, facts["organiser"], facts["password"])
        expert, _ = sign_in(server.base, facts["expert"], facts["password"])
        bidder, token = sign_in(server.base, facts["bidder"], facts["password"])
        pages = [
            ("home", "/", None),
            ("public challenge list", "/challenges", None),
            ("challenge page", f"/challenges/{facts['public_challenge_id']}", None),
            ("organiser's bid list (1,000 bids)", f"/bids/manage?challenge_id={facts['panel_challenge_id']}", organiser),
            ("expert's assignment list", "/review/", expert),
            ("ranking of the 1,000-bid panel", f"/review/manage/panels/{facts['panel_id']}/ranking", organiser),
        ]
        for name, path, cookie in pages:
            url = server.base + path
            print(f"  {name}: {path}", file=sys.stderr, flush=True)
            alone = alone_ms(url, cookie)
            server.reset_peak()
            result = run_wrk(wrk, url, cookie, seconds, 16)
            rows.append({"page": name, **result, "alone": alone, "peak": server.peak_mib()})
        server.reset_peak()
        result = asyncio.run(measure_uploads(server.base, bidder, token, uploads))
        rows.append({"page": f"bid submission, {UPLOAD_MB} MB attachment", **result, "peak": server.peak_mib()})
    finally:
        server.stop()
    limit_rps = rows[0]["rps"]
    for row in rows:
        row["ratio"] = row["rps"] / limit_rps
    return rows


async def create_pg(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_pg(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


# --- report ----------------------------------------------------------------------------------

HEADER = ("| database | workers | bids | page | req/s | p50 ms | p99 ms | alone ms | peak RSS MiB | × limit |\n"
          "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")


def table_rows(database: str, workers: int, bids: int, rows: list[dict]) -> list[str]:
    lines = []
    for row in rows:
        note = f" ({row['errors']} non-2xx/3xx)" if row.get("errors") else ""
        p50, p99 = ("—" if row[k] != row[k] else f"{row[k]:.1f}" for k in ("p50", "p99"))  # NaN: none finished
        lines.append(f"| {database} | {workers} | {bids:,} | {row['page']}{note} | {row['rps']:,.1f} | "
                     f"{p50} | {p99} | {row['alone']:.1f} | {row['peak']:.0f} | {row['ratio']:.2f} |")
    return lines


def record(table: str, command: str) -> None:
    readme = PROJECT / "bench" / "README.md"
    text = readme.read_text()
    block = (f"<!-- bench:start -->\n`{command}`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{os.cpu_count()} cores:\n\n{table}\n<!-- bench:end -->")
    if "<!-- bench:start -->" in text:
        text = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _m: block, text, flags=re.S)
    else:
        text += "\n" + block + "\n"
    readme.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="SQLite, 1 worker, 1k and 10k bids, 3 s per page")
    parser.add_argument("--record", action="store_true", help="write the table into bench/README.md")
    parser.add_argument("--databases", default=None, help="sqlite,postgres")
    parser.add_argument("--workers", default=None, help="1,2")
    parser.add_argument("--bids", default=None, help="1000,100000")
    parser.add_argument("--seconds", type=int, default=None, help="wrk duration per page")
    args = parser.parse_args()
    databases = (args.databases or ("sqlite" if args.quick else "sqlite,postgres")).split(",")
    workers_list = [int(w) for w in (args.workers or ("1" if args.quick else "1,2")).split(",")]
    scales = [int(b) for b in (args.bids or ("1000,10000" if args.quick else "1000,100000")).split(",")]
    seconds = args.seconds or (3 if args.quick else 8)
    wrk = ensure_wrk()

    lines = [HEADER]
    print(HEADER, flush=True)
    for database in databases:
        for bids in scales:
            work = Path(tempfile.mkdtemp(prefix="challenge-bench-"))
            pg_name = f"bench_{os.getpid()}_{bids}"
            env = {"CHALLENGE_DATA_DIR": str(work / "data"), "CHALLENGE_SECRET_KEY": "bench-secret-" + "b" * 40,
                   "CHALLENGE_MAX_UPLOAD_MB": str(UPLOAD_MB * 2), "CHALLENGE_DB_POOL_MAX": "10",
                   }
            try:
                if database == "postgres":
                    asyncio.run(create_pg(pg_name))
                    env["CHALLENGE_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
                facts = seed(env, bids, work)
                print(f"<!-- seeded {database} at {bids:,} bids in {facts['seed_seconds']:.0f} s -->", flush=True)
                drafts = facts["draft_bid_ids"]
                for index, workers in enumerate(workers_list):
                    uploads = drafts[index * UPLOADS:(index + 1) * UPLOADS]
                    rows = measure(wrk=wrk, env=env, facts=facts, workers=workers, seconds=seconds, uploads=uploads,
                                   work=work)
                    for line in table_rows(database, workers, bids, rows):
                        print(line, flush=True)
                        lines.append(line)
            finally:
                if database == "postgres":
                    asyncio.run(drop_pg(pg_name))
                shutil.rmtree(work, ignore_errors=True)
    if args.record:
        record("\n".join(lines), "bench/run.py " + " ".join(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
