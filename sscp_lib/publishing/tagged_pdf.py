"""Finishing touches to WeasyPrint's tagged PDF (PDF/UA-1), made before the file is written.

WeasyPrint 70 builds the structure tree from the HTML. Two things it leaves undone are done here:

- Table header cells carry the HTML's `scope` as the structure attribute /Scope (Column or Row),
  so a screen reader can tell row headers from column headers without working them out.
- The page margins (running title, protective marking, page numbers) are pagination artifacts.
  WeasyPrint marks their text as content of structure elements that it keeps out of the tree
  (its issue #1836), so a reader sees them nowhere and a checker cannot tell them from lost
  content; here they become /Artifact marked content of type /Pagination instead.

Both work on WeasyPrint's structure objects (pydyf dictionaries) through `write_pdf(finisher=...)`;
tests/test_pdf_accessibility.py checks the result with pikepdf and pdfua, so a WeasyPrint upgrade
that changes them fails loudly rather than quietly.
"""

from __future__ import annotations

import pydyf

_SCOPES = {"col": "/Column", "colgroup": "/Column", "row": "/Row", "rowgroup": "/Row"}


def finish_tagged_pdf(document, pdf: pydyf.PDF) -> None:
    """The finisher: header-cell scopes, then margin content as artifacts."""
    if "StructTreeRoot" not in pdf.catalog:
        return  # not a tagged PDF: nothing to finish
    scope_header_cells(document)
    margin_content_as_artifacts(pdf)


def _descendants(box):
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _descendants(child)


def scope_header_cells(document) -> int:
    """Copy each <th scope> into its structure element's attributes; returns how many."""
    done = 0
    for page in document.pages:
        for box in _descendants(page._page_box):
            element = getattr(box, "mark", None)  # WeasyPrint keeps a cell's StructElem here
            if element is None or getattr(box, "element_tag", None) != "th":
                continue
            scope = _SCOPES.get(str(box.element.attrib.get("scope", "")).lower())
            if scope:
                element["A"]["Scope"] = scope
                done += 1
    return done


def _number(reference: bytes | bytearray) -> int:
    """The object number of a pydyf reference (b"12 0 R")."""
    return int(bytes(reference).split()[0])


def margin_content_as_artifacts(pdf: pydyf.PDF) -> int:
    """Turn marked content whose structure element is outside the tree into pagination
    artifacts and drop it from the parent tree; returns how many sequences were changed."""
    objects = {obj.number: obj for obj in pdf.objects if hasattr(obj, "number") and obj.number is not None}
    root = objects[_number(pdf.catalog["StructTreeRoot"])]
    reachable: set[int] = set()
    stack = [_number(ref) for ref in root["K"]]
    while stack:
        number = stack.pop()
        if number in reachable:
            continue
        reachable.add(number)
        kids = objects[number].get("K", ())
        stack += [_number(k) for k in kids if isinstance(k, (bytes, bytearray))]

    nums = objects[_number(root["ParentTree"])]["Nums"]
    pages = [objects[number] for number in pdf.pages["Kids"][::3]]  # Kids holds "n 0 R" as three items
    changed = 0
    for i in range(0, len(nums), 2):
        key, value = nums[i], nums[i + 1]
        if not isinstance(value, pydyf.Array) or key >= len(pages):
            continue  # annotations map to one element each, not to a page's content
        orphan_mcids = {mcid for mcid, ref in enumerate(value) if ref is not None and _number(ref) not in reachable}
        if not orphan_mcids:
            continue
        stream = objects[_number(pages[key]["Contents"])]
        ops = stream.stream
        for j, op in enumerate(ops):
            if isinstance(op, pydyf.Dictionary) and op.get("MCID") in orphan_mcids and j + 1 < len(ops):
                if ops[j + 1] == b"BDC" and isinstance(ops[j - 1], str) and ops[j - 1].startswith("/"):
                    ops[j - 1] = "/Artifact"
                    ops[j] = pydyf.Dictionary({"Type": "/Pagination"})
                    changed += 1
        for mcid in orphan_mcids:
            value[mcid] = "null"
    return changed
