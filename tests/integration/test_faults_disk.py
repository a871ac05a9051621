"""A full disk fails the run cleanly: a clear message, the published file as it was, no debris.

Uses small tmpfs mounts (needs root; skipped otherwise): one for the folder of the published
file, one for the state folder. Each is filled with a ballast file until the run cannot finish.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from retention.demo import write_demo_landing
from tests.support.compare import file_digest

pytestmark = pytest.mark.slow


def _mount(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")


def _fill(folder: Path, leave_bytes: int) -> Path:
    ballast = folder / "ballast"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(ballast, "wb") as f:
        f.truncate(0)
        chunk = b"\0" * (1 << 20)
        remaining = max(0, free - leave_bytes)
        while remaining > 0:
            remaining -= f.write(chunk[: min(len(chunk), remaining)])
    return ballast


@pytest.fixture
def small_disks(warehouse, tmp_path):
    wh_dir, state_dir = tmp_path / "small_wh", tmp_path / "small_state"
    mounted = []
    try:
        _mount(wh_dir, "16m")
        mounted.append(wh_dir)
        _mount(state_dir, "96m")
        mounted.append(state_dir)
        warehouse.path = wh_dir / "retention.duckdb"
        warehouse.state = state_dir
        # the readers' outputs (report, docs, Parquet: megabytes) on the roomy disk: this test fills the
        # warehouse's and the state's; outputs that cannot be written are test_outputs.py's
        warehouse.env |= {
            "RETENTION_WAREHOUSE": str(warehouse.path),
            "RETENTION_STATE_DIR": str(state_dir),
            "RETENTION_OUTPUT_DIR": str(tmp_path / "outputs"),
        }
        yield warehouse
    finally:
        for m in reversed(mounted):
            subprocess.run(["umount", "-l", str(m)], check=False)


def test_disk_full_fails_cleanly_and_leaves_the_published_file(small_disks):
    warehouse = small_disks
    write_demo_landing(warehouse.landing, customers=200, months=6)
    warehouse.run("run", "--through", "2023-04-15")
    before = file_digest(warehouse.path)
    size = warehouse.path.stat().st_size

    # 1. no room beside the published file for the new one: the publish fails, the old file stays
    ballast = _fill(warehouse.path.parent, leave_bytes=size // 4)
    done = warehouse.run("run", check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "out of disk space" in done.stderr and "No space left on device" in done.stderr, done.stderr
    assert "warehouse folder" in done.stderr and "MiB free" in done.stderr
    assert file_digest(warehouse.path) == before
    assert sorted(p.name for p in warehouse.path.parent.iterdir()) == ["ballast", "retention.duckdb"]  # no temp file
    assert "Traceback" not in done.stderr
    print("publish on a full disk:", done.stderr)
    ballast.unlink()

    # 2. the state folder (lake, build database, dbt) is full: ingest or dbt fails, the old file stays
    state_ballast = _fill(warehouse.state, leave_bytes=64 * 1024)
    (warehouse.landing / "2023-07-01" / "orders.csv").write_text(
        (warehouse.landing / "2023-07-01" / "orders.csv").read_text() * 1
    )  # unchanged bytes: still a new batch
    done = warehouse.run("run", check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    [full] = [line for line in done.stderr.splitlines() if line.startswith("retention: out of disk space: ")]
    assert "state folder" in full and "MiB free" in full, done.stderr
    assert "Traceback" not in done.stderr
    assert file_digest(warehouse.path) == before
    print("state folder full:", done.stderr)
    state_ballast.unlink()

    # 3. with room again, the next run publishes everything
    done = warehouse.run("run")
    assert "published" in done.stdout and file_digest(warehouse.path) != before
    batches = warehouse.query("select count(distinct batch_date) from audit.load_manifest")[0][0]
    assert batches == 6
