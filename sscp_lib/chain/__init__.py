"""The chain: a year's raw folder in, the published report folder out.

In: the run's arguments (year, folders, config). Out: `reports/<year>/` swapped in whole
(statement, executed and rendered stage notebooks, index, metrics, manifest, history), or the
previous report left untouched and one message naming the stage that failed.

Modules: `pipeline` (the run: staging, stages in order, publishing, manifest), `kernels` and
`kernel_zygote` (warm Jupyter kernels for papermill), `stage_report` (each stage report's
summary, failure banner and provenance).
"""
