"""The benchmark's seed runs at a tiny scale and leaves a data set the pages can use."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(bool(os.environ.get("CHALLENGE_TEST_DATABASE_URL")),
                                reason="the seed smoke test runs on SQLite only")


def test_seed_writes_the_counts_it_reports(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHALLENGE_")}
    env["CHALLENGE_DATA_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, str(PROJECT / "bench" / "seed.py"), "--bids", "40", "--attachment-mb", "1"],
                   cwd=PROJECT, env=env, check=True, capture_output=True, timeout=120)
    facts = json.loads((tmp_path / "bench.json").read_text())
    with sqlite3.connect(tmp_path / "challenge.sqlite3") as db:
        count = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        assert count("SELECT COUNT(*) FROM challenge") == facts["challenges"] == 20
        assert count("SELECT COUNT(*) FROM need") == 40
        # 40 seeded bids and the bidder's drafts for the upload measurement.
        assert count("SELECT COUNT(*) FROM bid WHERE status != 'draft'") == 40
        assert count("SELECT COUNT(*) FROM bid WHERE status = 'draft'") == len(facts["draft_bid_ids"]) > 0
        assert count("SELECT COUNT(*) FROM review_score") == facts["scores"] == 40 * 3 * 6
        assert count(f"SELECT COUNT(*) FROM panel_bid WHERE panel_id = {facts['panel_id']}") == 40
        keys = [row[0] for row in db.execute("SELECT storage_key FROM blob")]
    assert len(keys) == 40
    stored = tmp_path / "uploads" / keys[0][:2] / keys[0][2:4] / keys[0]
    assert stored.stat().st_size == 1024 * 1024

    # The limit renders the public list from the seeded data (the benchmark's denominator).
    limit = subprocess.run(
        [sys.executable, "-c", "import asyncio, httpx\n"
         "from bench.limit_app import create_app\n"
         "async def main():\n"
         "    app = create_app()\n"
         "    async with app.router.lifespan_context(app):\n"
         "        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url='http://t') as c:\n"
         "            r = await c.get('/')\n"
         "            print(r.status_code, len(r.text))\n"
         "asyncio.run(main())\n"],
        cwd=PROJECT, env={**env, "CHALLENGE_SECRET_KEY": "s" * 40, "CHALLENGE_AUDIT_KEY": "a" * 40},
        capture_output=True, text=True, timeout=120)
    status, size = limit.stdout.split()
    assert status == "200" and int(size) > 10_000, limit.stderr[-2000:]
