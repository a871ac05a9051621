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

import json
import sys
from pathlib import Path

from .. import speedups

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
    speedups.import_beside(f"{__package__}.lifetime_value")
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
    if request.get("docs_target"):
        _docs(runner, common, request["docs_target"])
    return 0


def _docs(runner, common: list[str], target: str) -> None:
    """The dbt docs site of what was just built (`docs generate --static`: one page with the manifest and
    the catalog inlined, which opens from disk), for the readers' outputs. Its catalog is read from the
    build database while this process still holds it. A failure is said, never fails the build."""
    Path(target).mkdir(parents=True, exist_ok=True)
    # --static inlines target/manifest.json, which a runner given its manifest does not write (and
    # --no-compile, which spares compiling every model again, 0.8 s on the demo, does not either)
    runner.manifest.write(str(Path(target) / "manifest.json"))
    # its own target folder, and the manifest written (--static inlines it from the file)
    args = [
        a
        for i, a in enumerate(common)
        if a not in ("--target-path", "--no-write-json") and (i == 0 or common[i - 1] != "--target-path")
    ]
    done = runner.invoke(["docs", "generate", "--static", "--no-compile", "--target-path", target, *args])
    if not done.success:
        print(f"dbt docs generate failed: {done.exception or 'see dbt.log'}", file=sys.stderr)


def _checkpointed(request: dict) -> bool:
    """Everything dbt and the fit wrote is in the database file itself, not only in its write-ahead log."""
    import duckdb

    from ..database import instance_config

    try:
        # the same instance dbt holds (same file, same instance settings): its CHECKPOINT writes dbt's work
        con = duckdb.connect(request["database"], config=instance_config(request["duckdb_settings"]))
        try:
            con.execute("checkpoint")
        finally:
            con.close()
    except Exception:  # noqa: BLE001 - then the normal exit closes the database, as it always did
        return False
    return True


def leave(argv: list[str]) -> None:
    """main(), then out without the interpreter's teardown once the database is checkpointed (speedups.py):
    dbt has finished and closed its connections by then. Without the checkpoint the normal exit closes
    the database, as it always did."""
    code = main(argv)
    if _checkpointed(json.loads(Path(argv[0]).read_text())):
        speedups.exit_dbt_child_now(code)
    sys.exit(code)


if __name__ == "__main__":
    leave(sys.argv[1:])
