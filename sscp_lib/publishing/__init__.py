"""Publishing: figures, charts and authored text in; the statement and the dashboard out.

In: `metrics.json`, the charts and their alt text, the partnership config and the year's
narrative; the quarter's dataset. Out: the assurance statement (HTML, PDF/UA-1), the Partnership
Dashboard (HTML, A4-landscape PDF/UA-1), dataset.json and dataset.xlsx, the reviewer pack's index.

Modules: `narrative` (authored text with metric placeholders; the statement's view model),
`consistency` (figures agree before anything is published), `rag` (ratings), `charts/` (house
style and each analysis stage's charts), `render` (HTML), `pdf`, `pdf_engine`, `tagged_pdf`
(the PDF and its tagging), `dashboard`, `dashboard_commentary`, `dashboard_page` (the dashboard's
words, authored commentary and page), `dataset_files` (dataset.json, dataset.xlsx), `templates/`.
"""
