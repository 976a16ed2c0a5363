"""The clean stage's floor: what reading the same raw files and writing tables costs with nothing
else done, in one process on one core.

- read: every CSV file of the reporting year and earlier year folders with Arrow's CSV reader
  (every column as text, as clean reads them); the XLSX files with calamine, timed apart (they
  are not CSV);
- hash: HMAC-SHA256 (the project's construction, `pseudonymise._hmac_hex_digests`) of each
  distinct identifier once: per pseudonym column (child_pid, referral_pid, ...) across every
  dataset and year, spaces trimmed and upper-cased as clean compares them;
- write: each CSV table as read, to parquet.

The floor is read + hash + write. Clean does more than this on purpose (headings mapped,
every value parsed and checked, rows rejected with reasons, duplicates found, derived columns,
a clean log) and on two cores at scale; benchmarks/README.md says what keeps it above the floor.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sscp_lib.config import ReportingYear
from sscp_lib.contract import load_contract, normalise_header
from sscp_lib.ingest.pseudonymise import _hmac_hex_digests

KEY = bytes.fromhex("be" * 32)


def _year_files(raw: Path, year: str) -> list[Path]:
    last = ReportingYear.parse(year)
    files = []
    for folder in sorted(p for p in raw.iterdir() if p.is_dir()):
        try:
            if ReportingYear.parse(folder.name) <= last:
                files.extend(sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith(("_", "."))))
        except ValueError:
            continue
    return files


def measure(raw: Path, year: str) -> dict:
    contract = load_contract()
    # Normalised heading -> pseudonym column, from every pseudonymised column's name and aliases.
    id_headings: dict[str, str] = {}
    for dataset in contract.datasets.values():
        for column in dataset.columns:
            if column.role == "pseudonymise":
                for heading in (column.name, *column.aliases):
                    id_headings[normalise_header(heading)] = column.canonical_name
    files = _year_files(Path(raw), year)
    csvs = [f for f in files if f.suffix.lower() == ".csv"]
    xlsxs = [f for f in files if f.suffix.lower() in (".xlsx", ".xlsm")]

    started = time.perf_counter()
    tables = []
    for path in csvs:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            names = next(csv.reader(fh), [])
        convert = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
        try:
            table = pacsv.read_csv(path, convert_options=convert)
        except pa.ArrowInvalid:  # a Windows-1252 export, as clean finds by sniffing
            table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(encoding="cp1252"), convert_options=convert)
        tables.append((path, table))
    read_seconds = time.perf_counter() - started

    started = time.perf_counter()
    from python_calamine import CalamineWorkbook

    xlsx_rows = 0
    for path in xlsxs:
        book = CalamineWorkbook.from_path(str(path))
        for sheet in book.sheet_names:
            xlsx_rows += len(book.get_sheet_by_name(sheet).to_python())
    xlsx_seconds = time.perf_counter() - started

    ids: dict[str, list[pa.Array]] = {}
    for _, table in tables:
        for name in table.column_names:
            field = id_headings.get(normalise_header(name))
            if field:
                values = pc.utf8_upper(pc.utf8_trim_whitespace(table.column(name).combine_chunks()))
                ids.setdefault(field, []).append(values)
    distinct = {field: pc.unique(pa.concat_arrays(parts)).drop_null() for field, parts in ids.items()}
    started = time.perf_counter()
    hashed = 0
    for field, values in distinct.items():
        texts = [v for v in values.to_pylist() if v]
        _hmac_hex_digests(KEY, f"{field}:".encode(), texts)
        hashed += len(texts)
    hash_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for i, (_, table) in enumerate(tables):
            pq.write_table(table, Path(folder) / f"{i}.parquet")
    write_seconds = time.perf_counter() - started
    rows = sum(t.num_rows for _, t in tables)
    return {
        "csv_files": len(csvs),
        "csv_rows": rows,
        "csv_mb": round(sum(p.stat().st_size for p in csvs) / 1e6, 1),
        "xlsx_files": len(xlsxs),
        "xlsx_rows": xlsx_rows,
        "read_csv_seconds": round(read_seconds, 2),
        "read_xlsx_seconds": round(xlsx_seconds, 2),
        "distinct_ids": {field: len(v) for field, v in distinct.items()},
        "hmac_count": hashed,
        "hmac_seconds": round(hash_seconds, 2),
        "write_parquet_seconds": round(write_seconds, 2),
        "floor_seconds": round(read_seconds + xlsx_seconds + hash_seconds + write_seconds, 2),
    }


def results_lines(results: dict[str, dict]) -> list[str]:
    lines = [
        "",
        "## The clean stage against its floor (one core: Arrow CSV read + calamine XLSX read + HMAC of distinct ids + parquet write)",
        "",
        "| scale | clean stage s (chain, first run) | floor s | read CSV s | read XLSX s | HMACs | HMAC s | write s | stage / floor |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scale, r in results.items():
        f = r.get("clean_floor")
        if not f:
            continue
        stage = r["clean_stage_seconds"]
        lines.append(
            f"| {scale}x | {stage} | {f['floor_seconds']} | {f['read_csv_seconds']} | {f['read_xlsx_seconds']} | "
            f"{f['hmac_count']:,} | {f['hmac_seconds']} | {f['write_parquet_seconds']} | {stage / f['floor_seconds']:.2f} |"
        )
    return lines
