"""A small, fast, byte-reproducible XLSX writer for the synthetic sample's workbooks.

openpyxl writes about 20,000 cells a second, too slow for the sample at larger scales, so the
sheet XML is built column-wise with vectorised string operations.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sscp_lib.errors import UserError

XLSX_MAX_ROWS = 1_048_576


def write_xlsx(path: Path, sheets, stamp: datetime, creator: str) -> None:
    """Write sheets (name, title rows, frame, date headings) as an xlsx workbook, byte-reproducibly.

    The sheet XML is built column-wise with vectorised string operations (openpyxl writes ~20,000
    cells a second, too slow for the larger scales). Dates are real date cells: serial numbers
    with a dd/mm/yyyy number format.
    """
    parts = {}
    for index, (_name, title_rows, frame, date_cols) in enumerate(sheets, start=1):
        if len(frame) + len(title_rows) + 1 > XLSX_MAX_ROWS:
            raise UserError(f"{path.name}: {len(frame):,} rows do not fit on an Excel sheet; use a smaller --scale")
        parts[f"xl/worksheets/sheet{index}.xml"] = _sheet_xml(title_rows, frame, date_cols)
    names = [name for name, *_ in sheets]
    created = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    sheet_overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1)
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{sheet_overrides}"
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>"
        ),
        "docProps/app.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            f"<Application>{creator}</Application></Properties>"
        ),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:creator>{creator}</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(
                f'<sheet name="{_xml_text(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, start=1)
            )
            + "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, len(names) + 1)
            )
            + f'<Relationship Id="rId{len(names) + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>'
        ),
        "xl/styles.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ),
    }
    files.update(parts)
    order = [
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/app.xml",
        "docProps/core.xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        *parts,
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in order:
            entry = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            archive.writestr(entry, files[name])
    path.write_bytes(buffer.getvalue())


_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")


def _xml_text(values):
    if isinstance(values, str):
        return values.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return (
        values.str.replace("&", "&amp;", regex=False)
        .str.replace("<", "&lt;", regex=False)
        .str.replace(">", "&gt;", regex=False)
    )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text_cell(ref: str, text: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{_xml_text(text)}</t></is></c>'


def _sheet_xml(title_rows: list[list[str]], frame: pd.DataFrame, date_cols: set[str]) -> str:
    head = []
    row_number = 0
    for title in title_rows:
        row_number += 1
        cells = "".join(
            _text_cell(f"{_column_letter(i)}{row_number}", str(v)) for i, v in enumerate(title) if v not in (None, "")
        )
        head.append(f'<row r="{row_number}">{cells}</row>')
    row_number += 1
    head.append(
        f'<row r="{row_number}">'
        + "".join(_text_cell(f"{_column_letter(i)}{row_number}", str(h), style=2) for i, h in enumerate(frame.columns))
        + "</row>"
    )
    first_data_row = row_number + 1
    numbers = pd.Series(np.arange(first_data_row, first_data_row + len(frame))).astype(str)
    body = '<row r="' + numbers + '">'
    for i, name in enumerate(frame.columns):
        ref = _column_letter(i) + numbers
        series = frame[name].reset_index(drop=True)
        if name in date_cols:
            days = np.asarray(series, dtype="datetime64[D]")
            present = ~np.isnat(days)
            serial = pd.Series((days - _EXCEL_EPOCH).astype(np.int64)).astype(str)
            cell = '<c r="' + ref + '" s="1"><v>' + serial + "</v></c>"
        elif pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            present = series.notna().to_numpy()
            cell = '<c r="' + ref + '"><v>' + series.astype(str) + "</v></c>"
        else:
            text = series.astype(object).where(series.notna(), "").astype(str)
            present = (text != "").to_numpy()
            cell = '<c r="' + ref + '" t="inlineStr"><is><t xml:space="preserve">' + _xml_text(text) + "</t></is></c>"
        body = body + cell.where(present, "")
    body = body + "</row>"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + "".join(head)
        + "".join(body.tolist())
        + "</sheetData></worksheet>"
    )
