"""Publishing: figures, charts and authored text in; the statement's HTML and tagged PDF out.

In: `metrics.json`, the charts and their alt text, the partnership config and the year's
narrative. Out: the assurance statement (HTML, PDF/UA-1), the reviewer pack's index and its pages.

Modules: `narrative` (authored text with metric placeholders; the statement's view model),
`consistency` (figures agree before anything is published), `rag` (ratings), `charts/` (house
style and each analysis stage's charts), `render` (HTML), `pdf`, `pdf_engine`, `tagged_pdf`
(the PDF and its tagging), `templates/`.
"""
