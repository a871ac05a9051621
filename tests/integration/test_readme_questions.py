"""The SQL of the README's "Questions you can answer" runs as written on the published demo marts,
and each answer agrees with the marts it summarises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_queries() -> list[str]:
    text = README.read_text()
    section = text[text.index("### Questions you can answer") :]
    section = section[: section.index("\n## ")]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


def test_the_readme_has_the_five_questions():
    assert len(readme_queries()) == 5


def test_every_question_runs_and_answers(demo_published):
    march, nrr, d30, churned, at_risk = (demo_published.query(q) for q in readme_queries())
    (start, new, again, share), *_ = march
    assert start.month == 3 and 0 < again <= new and share == pytest.approx(again / new)
    assert nrr and all(r[3] is None or r[3] >= 0 for r in nrr)
    assert 0 < len(d30) <= 12 and all(0 <= r[3] <= 1 for r in d30)
    last_month_churned = demo_published.query(
        "select churned_customers from marts.period_retention where period_grain = 'month' and period_start = "
        "(select max(period_start) from marts.period_retention where period_grain = 'month' and is_complete)"
    )[0][0]
    assert len(churned) == last_month_churned > 0
    assert all(r[3] >= r[1] > 0 for r in churned)  # worth at least their last month
    flagged = demo_published.query("select count(*) from marts.customers where is_at_risk")[0][0]
    assert len(at_risk) == min(20, flagged) > 0
    assert all(r[5] > 0 and r[6] >= 0 and 0 <= r[4] <= 1 for r in at_risk)  # buyers, with a value and a p_alive
    assert [r[5] for r in at_risk] == sorted((r[5] for r in at_risk), reverse=True)
