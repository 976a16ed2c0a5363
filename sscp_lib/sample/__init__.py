"""The synthetic sample: made-up agency files, shaped like the partnership's, for every run and test.

In: a seed, a scale and the data contract. Out: raw year folders (CSV, XLSX, an Annex A
workbook or a CIN census return on request) and `_sample.json`, the marker that makes every
output say it was made from synthetic data. Nothing here reads real data.

Modules: `generate` (the sample), `cin_census_writer` (a census return), `workbooks` (XLSX exports, through XlsxWriter).
"""
