"""Input: an agency's files in, canonical pseudonymous tables out.

In: the raw year folders (CSV, XLSX, Ofsted Annex A workbooks, DfE CIN census XML), the data
contract and the partnership's source mappings. Out: one parquet table per dataset with every
identifier pseudonymised (keyed hash) and names and dates of birth dropped, a clean log (one row
per file) and the rejected rows (file, row, column, reason). Also `sscp inspect` (what a folder
holds, before a run), the support team's collection templates and the generated data-contract doc.

Modules: `sources` (which file is which dataset, and each partnership's spellings), `readers`
(CSV, XLSX, Annex A), `census_layout`, `cin_census`, `cin_census_scan`, `xml_check` (the census
return), `clean` (the clean stage's work), `pseudonymise`, `inspection` and `inspection_report`,
`collection_templates` and `collection_workbooks`, `contract_docs`, `comparators` (England, region
and statistical neighbours from DfE's Explore Education Statistics files).
"""
