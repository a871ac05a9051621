"""The build's child process: both dbt steps and the lifetime-value fit between them, in one process.

    python -m retention.warehouse.dbt_steps REQUEST.json

dbt is run through its programmatic entry point (`dbtRunner`): the project is parsed once and the
manifest serves both steps, so the second step costs neither a new interpreter nor a new parse (about
4 s a run). It stays a child process because dbt keeps its DuckDB database open for as long as its
process lives: the parent (`build.py`) can outlive it, and the writer lock's descriptor is inherited,
so a killed parent keeps the warehouse locked until this process is gone too.

The request names the database, the dbt arguments each step shares, the steps' selections, where to
keep each step's run_results.json, and the fit's DuckDB settings. Exit codes: 0 built; 1 a dbt step
failed (its run_results name the nodes); 2 dbt could not run (its output says why); 3 the fit failed
(2 and 3: the one-line reason is the last line of standard error).
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
from pathlib import Path

EXIT_STEP_FAILED, EXIT_DBT_ERROR, EXIT_FIT_FAILED = 1, 2, 3


def _say(message: str) -> None:
    """The parent reports the last line of standard error: one line, dbt's multi-line errors folded."""
    print(" / ".join(line.strip() for line in message.splitlines() if line.strip())[:1000], file=sys.stderr)


def _fit(request: dict) -> None:
    import duckdb

    from ..database import configured, instance_config
    from . import lifetime_value

    # dbt holds the file open in this process: with the same instance settings DuckDB gives this connection
    # the same database instance, so dbt's connections stay open for the second step (closing them and
    # opening again cost 0.4 s a run)
    session = request["duckdb_settings"]
    con = configured(duckdb.connect(request["database"], config=instance_config(session)), session)
    try:
        lifetime_value.fit_lifetime_value(con, int(request["clv_horizon_days"]))
    finally:
        con.close()


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[0]).read_text())
    from dbt.artifacts.schemas.run import RunExecutionResult
    from dbt.cli.main import dbtRunner

    common: list[str] = request["common_args"]
    parsed = dbtRunner().invoke(["parse", *common])
    if not parsed.success:
        _say(f"dbt could not parse the project: {parsed.exception or 'see the full output'}")
        return EXIT_DBT_ERROR
    # the fit's numpy, scipy and pandas take a second to import: on the side while dbt's first step runs
    # (mostly inside DuckDB), not during the parse, which is Python too and took twice as long beside it
    threading.Thread(target=importlib.import_module, args=(f"{__package__}.lifetime_value",), daemon=True).start()
    runner = dbtRunner(manifest=parsed.result)  # type: ignore[arg-type]  # parse's result is the Manifest
    kept = Path(request["results_dir"])
    kept.mkdir(parents=True, exist_ok=True)
    for number, step in enumerate(request["steps"]):
        if step == "fit":
            try:
                _fit(request)
            except Exception as e:  # noqa: BLE001 - reported to the parent as one line
                _say(f"the lifetime-value fit failed: {type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}")
                return EXIT_FIT_FAILED
            continue
        done = runner.invoke(["build", *step, *common])
        if isinstance(done.result, RunExecutionResult):  # this step's run_results.json (None: dbt could not run)
            done.result.write(str(kept / f"{number:02d}.json"))
        if done.exception is not None:
            _say(f"dbt could not run: {done.exception}")
            return EXIT_DBT_ERROR
        if not done.success:
            return EXIT_STEP_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
