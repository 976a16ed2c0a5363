"""Analysis: validated tables in, published tables and figures out, as pure functions.

In: the validated tables, the reporting year and the partnership config. Out: frozen results
(`analyse(tables, year, config)`) from which each stage names its metrics and draws its charts.

Modules: `common` (years, percentages, selecting a year's rows), `referrals` (referrals, child
protection and MASH), `assurance` (audits, reviews, training, the support team's trackers),
`indicators` (the quarterly partnership dataset: every indicator month by month and quarter by
quarter, `build_dataset`), `spc` (XmR charts and NHS Making Data Count rules), `received` (a
quarter's tables cut at its end; what has not yet arrived).
"""
