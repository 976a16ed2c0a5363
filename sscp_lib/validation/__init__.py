"""Validation: clean tables in, validated and quarantined tables and a validation report out.

In: the clean stage's tables and the data contract. Out: rows that passed every critical check
(`validated/`), rows that failed with the checks they failed (`quarantine/`) and every
expectation's result (`validation.json`), all through Great Expectations 1.x.

Modules: `suites` (the suites built from the contract, running them, the report),
`screens` (expectations that decide a table's per-column checks of one kind in one pass).
"""
