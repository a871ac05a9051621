"""Building the marts with dbt in a private database, and publishing them to readers."""
