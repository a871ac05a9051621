"""The report's SQL over the published marts and audit tables: every number on the page is read here.

The charts get rows already aggregated and limited (recent cohorts and months only), so the page stays
small however long the history is. Definitions of every column: docs/reference.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

Row = dict[str, Any]

HEATMAP_COHORTS = 24  # monthly cohorts in the heatmap
HEATMAP_PERIODS = 36  # months since the first order shown per cohort
CURVE_COHORTS = 6  # cohorts drawn as retention curves
CURVE_MIN_PERIODS = 6  # a curve's cohort has its month 6 complete: shorter curves say little
CURVE_PERIODS = 24
TREND_MONTHS = 36  # months in the period trend, NRR/GRR and segment charts
BRIDGE_MONTHS = 24
SEGMENT_MONTHS = 12  # complete months pooled per segment
ROLLING_COHORTS = 24


@dataclass
class ReportData:
    """What the page shows, as JSON-ready rows (dates as ISO strings, numbers as int/float)."""

    run: Row
    checks: list[Row]
    cohorts: list[Row]
    curves: list[Row]
    periods: list[Row]
    segments: list[Row]
    rolling: list[Row]
    backtest: list[Row]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[Row]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [{n: _plain(v) for n, v in zip(names, r)} for r in cur.fetchall()]


def _plain(value: Any) -> Any:
    """A value JSON can carry: dates as ISO text, decimals as floats."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def run_info(con: duckdb.DuckDBPyConnection) -> Row:
    """The one audit.run_info row of the published file."""
    rows = _rows(con, "select * from audit.run_info")
    return rows[0] if rows else {}


def check_results(con: duckdb.DuckDBPyConnection, run_id: str | None) -> list[Row]:
    """The checks of the run that published the file, problems first."""
    return _rows(
        con,
        """
        select check_name, description, severity, status, observed, expected, details
        from audit.check_results
        where run_id = ?
        order by case status when 'failed' then 0 when 'error' then 1 when 'warned' then 2 when 'skipped' then 3 else 4 end,
                 check_name
        """,
        [run_id],
    )


def cohort_cells(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """The heatmap: the latest monthly cohorts, months 0 … HEATMAP_PERIODS − 1 since the first order."""
    return _rows(
        con,
        """
        with recent as (
            select distinct cohort_start from marts.cohort_retention
            where cohort_grain = 'month' order by cohort_start desc limit ?
        )
        select strftime(c.cohort_start, '%Y-%m') as cohort, c.period_number, c.cohort_size,
               c.active_customers, c.retention_rate, c.is_complete
        from marts.cohort_retention c join recent using (cohort_start)
        where c.cohort_grain = 'month' and c.period_number < ?
        order by c.cohort_start, c.period_number
        """,
        [HEATMAP_COHORTS, HEATMAP_PERIODS],
    )


def cohort_curves(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Retention curves with their Wilson intervals: the latest monthly cohorts whose month
    CURVE_MIN_PERIODS is complete, complete cells only (an open cell is still filling)."""
    return _rows(
        con,
        """
        with eligible as (
            select cohort_start from marts.cohort_retention
            where cohort_grain = 'month' and period_number = ? and is_complete
            order by cohort_start desc limit ?
        )
        select strftime(c.cohort_start, '%Y-%m') as cohort, c.period_number, c.cohort_size, c.active_customers,
               c.retention_rate, c.retention_rate_ci_low as ci_low, c.retention_rate_ci_high as ci_high
        from marts.cohort_retention c join eligible using (cohort_start)
        where c.cohort_grain = 'month' and c.is_complete and c.period_number <= ?
        order by c.cohort_start, c.period_number
        """,
        [CURVE_MIN_PERIODS, CURVE_COHORTS, CURVE_PERIODS],
    )


def monthly_periods(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """The latest TREND_MONTHS months of marts.period_retention: counts, rates, NRR and GRR."""
    return _rows(
        con,
        """
        select * from (
            select period_start as month, customers_start, customers_end, new_customers,
                   retained_customers, reactivated_customers, churned_customers, retention_rate,
                   strict_retention_rate, churn_rate, net_revenue_retention, gross_revenue_retention,
                   cast(revenue_start as double) as revenue_start, cast(revenue_end as double) as revenue_end,
                   is_complete
            from marts.period_retention where period_grain = 'month'
            order by period_start desc limit ?
        ) order by month
        """,
        [TREND_MONTHS],
    )


def segment_rates(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Retention per channel and region over the latest SEGMENT_MONTHS complete months, pooled: the
    rates are the summed numerators over the summed S, never an average of monthly rates."""
    return _rows(
        con,
        """
        with months as (
            select period_start from marts.period_retention
            where period_grain = 'month' and is_complete and customers_start > 0
            order by period_start desc limit ?
        )
        select s.segment_type, s.segment_value,
               min(strftime(s.period_start, '%Y-%m')) as first_month, max(strftime(s.period_start, '%Y-%m')) as last_month,
               sum(s.customers_start) as customers_start,
               sum(s.customers_end - s.new_customers) as seed_numerator,
               sum(s.retained_customers) as retained_customers,
               sum(s.churned_customers) as churned_customers,
               sum(s.customers_end - s.new_customers) / nullif(sum(s.customers_start), 0) as retention_rate,
               sum(s.retained_customers) / nullif(sum(s.customers_start), 0) as strict_retention_rate
        from marts.period_retention_by_segment s join months using (period_start)
        where s.period_grain = 'month'
        group by all
        order by s.segment_type, s.segment_value
        """,
        [SEGMENT_MONTHS],
    )


def rolling(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """N-day retention of the latest monthly cohorts, windows whose members are (partly) eligible."""
    return _rows(
        con,
        """
        with recent as (
            select distinct cohort_start from marts.rolling_retention
            where cohort_grain = 'month' order by cohort_start desc limit ?
        )
        select r.cohort_start as cohort, r.day_window, r.cohort_size, r.eligible_customers,
               r.returned_customers, r.retention_rate
        from marts.rolling_retention r join recent using (cohort_start)
        where r.cohort_grain = 'month' and r.eligible_customers > 0
        order by r.cohort_start, r.day_window
        """,
        [ROLLING_COHORTS],
    )


def backtest(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """marts.clv_backtest, one row per repeat-occasion group, `all` first."""
    return _rows(
        con,
        """
        select as_of_date, calibration_end_date, holdout_days, repeat_occasions_group, group_order, customers,
               predicted_occasions, actual_occasions, forecast_error, mean_absolute_error, is_usable
        from marts.clv_backtest order by group_order
        """,
    )


def read_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    """Every query of the report, on one open connection to the published file."""
    run = run_info(con)
    return ReportData(
        run=run,
        checks=check_results(con, run.get("run_id")),
        cohorts=cohort_cells(con),
        curves=cohort_curves(con),
        periods=monthly_periods(con),
        segments=segment_rates(con),
        rolling=rolling(con),
        backtest=backtest(con),
    )
