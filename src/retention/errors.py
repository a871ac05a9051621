"""The one error model: every failure a user can cause or fix is a `RetentionError`.

`retention` prints such an error as one line and exits with its `exit_code`; the DAG fails its task
at once unless the error is `retryable` (a retry could help: the writer lock is busy, the disk is
full). Anything else that escapes is a bug, and keeps its traceback.

Exit codes of `retention` (documented in the README):

    0   the command did what it was asked (including "nothing new")
    1   it failed: a setting, batch, file, model or check is at fault, and the message names it
    2   usage: a command line that cannot be understood
    75  busy: another run holds the writer lock (EX_TEMPFAIL: nothing wrong, try later)
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 75


class RetentionError(Exception):
    """A failure the user can act on; the message says what is at fault and what to do."""

    retryable: ClassVar[bool] = False  # True: the same run may succeed later without anyone changing anything
    exit_code: ClassVar[int] = EXIT_FAILED


class ConfigError(RetentionError, ValueError):
    """A setting (environment variable) has a value the warehouse cannot work with; names the variable."""


class MappingError(ConfigError):
    """A column mapping is missing or malformed; names the mapping and the key at fault."""


class UsageError(RetentionError):
    """A command was asked for something it cannot do (a folder it must not write into, say)."""

    exit_code = EXIT_USAGE


class RunFailed(RetentionError):
    """The run stopped before publishing; the message names the batch, file, check or model at fault."""


class BuildFailed(RunFailed):
    """dbt could not build or test a model; the message names the nodes at fault."""


class AuditFailed(RunFailed):
    """A check failed or could not be evaluated; the message names the check and the rows."""


class PublishCheckFailed(RunFailed):
    """The file about to be published is not what it should be; it was not published."""


class WriterBusy(RetentionError):
    """Another run holds the writer lock."""

    retryable = True
    exit_code = EXIT_BUSY


class DiskFull(RunFailed):
    """The disk (or a quota, or a file-size limit) ran out; freeing space and running again helps."""

    retryable = True


class BatchStateError(RetentionError):
    """`retention batches remove/restore` named a batch that is not in the state the command needs."""
