"""The chain: a year's raw folder in, the published report folder out.

In: the run's arguments (year, folders, config). Out: `reports/<year>/` swapped in whole
(statement, executed and rendered stage notebooks, index, metrics, manifest, history), or the
previous report left untouched and one message naming the stage that failed.

Modules: `pipeline` (the run's story: staging, stages in order, statement, publishing), `run`
(the run's context: the config read once, the inputs hashed once), `scheduling` (what runs beside
the stages: kernels warmed ahead, the PDF's process, the render thread), `failures` (the one
message a failed run ends with), `manifest`, `kernels` and `kernel_zygote` (warm Jupyter kernels
for papermill), `stage_report` (each stage report's summary, failure banner and provenance), and
`lean_imports` (installed by the `sscp` command and the zygote, not by `import sscp_lib`),
`year_lock` (one run, approval or diff of a year at a time), `dashboard_run` (a quarter's run:
its period, its stages, publishing the dashboard).
"""
