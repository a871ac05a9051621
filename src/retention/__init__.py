"""Customer-retention warehouse: CRM exports → DuckDB lake → dbt marts → audited publish."""

__version__ = "0.1.0"
