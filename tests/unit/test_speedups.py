"""The fast exit keeps what it promises: the output and the log get out first, the exit code is kept,
and a reader that stops reading ends the command quietly."""

from __future__ import annotations

import os
import subprocess
import sys

FAST_EXIT = """
import logging, sys
from retention import speedups
logging.basicConfig(filename=sys.argv[1], level=logging.INFO)
logging.getLogger("t").info("logged before the exit")
sys.stdout.write("printed, not yet flushed")  # a pipe is block-buffered: still in Python's buffer here
speedups.exit_now(3)
"""


def test_exit_now_flushes_the_output_and_the_log_and_keeps_the_exit_code(tmp_path):
    log = tmp_path / "run.log"
    done = subprocess.run([sys.executable, "-c", FAST_EXIT, str(log)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (3, "printed, not yet flushed", "")
    assert "logged before the exit" in log.read_text()


def test_a_reader_that_stops_reading_ends_the_command_quietly_with_141(tmp_path):
    """`retention status --last-run | head -0`: the shell reports 141 (128 + SIGPIPE), and no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from retention.cli import entry; entry()", "status", "--last-run"],
            env=os.environ | {"RETENTION_WAREHOUSE": str(tmp_path / "w.duckdb"), "RETENTION_LANDING_DIR": str(tmp_path)},
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")
