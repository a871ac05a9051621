"""The helpers the test modules import: one home for each, so that every test means the same thing by
"a scratch warehouse", "a landing batch", "the file did not change" and "the marts equal the reference".

warehouse.py     the project's paths and a scratch warehouse driven through the real `retention` CLI
landing.py       landing CSVs and batches, and the one order()/customer() row builder
lake.py          a landing folder loaded in-process by the real loader (the unit tests of ingest)
compare.py       digests of the published file and comparisons with tests/reference.py
environments.py  environments for the other programs a test starts: a stock Airflow, a throwaway venv
tier.py          how many examples a property test draws (`make test-fast` draws fewer)

tests/conftest.py holds only fixtures and pytest hooks; it imports what its fixtures need from here.
"""
