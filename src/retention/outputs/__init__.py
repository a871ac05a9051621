"""What each publish leaves in $RETENTION_OUTPUT_DIR for readers (docs/reference.md §6):
Parquet of every mart, the retention report, the dbt docs site and the run's Data Docs, written as one
set and swapped in by one rename (`sets`)."""
