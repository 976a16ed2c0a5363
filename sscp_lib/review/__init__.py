"""Review: a run's figures and inputs in; what changed, who approved and the runs kept out.

In: this run's and earlier runs' `metrics.json` and `manifest.json`, the signatories in the
config. Out: `history/` (earlier runs kept under the report), `changes.html` and `sscp diff`
(every figure, input, config and narrative change), `approvals.json` (draft until approved).

Modules: `history`, `changes`, `changes_report`, `approvals`, `workflow` (the chain's review
steps, `sscp diff`, `sscp approve`).
"""
