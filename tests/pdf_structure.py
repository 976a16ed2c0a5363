"""Reading a tagged PDF's logical structure for the tests: the structure tree in order (pikepdf),
and the text each structure element marks (pypdf, per marked-content id)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pypdf import PdfReader


@dataclass
class Element:
    role: str  # e.g. "H2", "Figure", "TH"
    depth: int
    obj: pikepdf.Dictionary
    page: int | None
    mcids: list[tuple[int, int]] = field(default_factory=list)  # (page index, mcid) marked directly by it

    def attribute(self, name: str):
        attributes = self.obj.get("/A")
        if isinstance(attributes, pikepdf.Array):
            attributes = next((a for a in attributes if isinstance(a, pikepdf.Dictionary) and name in a), None)
        return attributes.get(name) if isinstance(attributes, pikepdf.Dictionary) else None


@dataclass
class Structure:
    pdf: pikepdf.Pdf
    elements: list[Element]  # depth-first, in the tree's order: the reading order
    text_by_mcid: dict[tuple[int, int], str]

    def text_of(self, element_index: int) -> str:
        """All text marked by an element and its descendants."""
        start = self.elements[element_index]
        parts = []
        for element in self.elements[element_index:]:
            if element is not start and element.depth <= start.depth:
                break
            parts += [self.text_by_mcid.get(key, "") for key in element.mcids]
        return _squash(" ".join(parts))

    def reading_order_text(self) -> str:
        return _squash(" ".join(self.text_by_mcid.get(k, "") for e in self.elements for k in e.mcids))

    def roles(self, role: str) -> list[int]:
        return [i for i, e in enumerate(self.elements) if e.role == role]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_structure(path: Path | str) -> Structure:
    pdf = pikepdf.open(str(path))
    page_index = {page.objgen: i for i, page in enumerate(pdf.pages)}
    elements: list[Element] = []

    def visit(node: pikepdf.Dictionary, depth: int, page: int | None) -> None:
        if "/Pg" in node:
            page = page_index.get(node.Pg.objgen, page)
        element = Element(str(node.get("/S"))[1:], depth, node, page)
        elements.append(element)
        kids = node.get("/K")
        kids = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
        for kid in kids:
            if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/StructElem":
                visit(kid, depth + 1, page)
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                kid_page = page_index.get(kid.Pg.objgen, page) if "/Pg" in kid else page
                element.mcids.append((kid_page, int(kid.MCID)))
            elif isinstance(kid, pikepdf.Dictionary):
                continue  # an object reference (annotation)
            else:
                element.mcids.append((page, int(kid)))

    for top in pdf.Root.StructTreeRoot.get("/K", []):
        visit(top, 0, None)
    return Structure(pdf, elements, _text_by_mcid(path))


def _text_by_mcid(path: Path | str) -> dict[tuple[int, int], str]:
    """Text drawn inside each marked-content sequence with an MCID, by (page index, MCID)."""
    texts: dict[tuple[int, int], list[str]] = {}
    for index, page in enumerate(PdfReader(str(path)).pages):
        stack: list[int | None] = []

        def before(operator, operands, cm, tm, stack=stack):
            if operator in (b"BDC", b"BMC"):
                props = operands[1] if operator == b"BDC" and len(operands) > 1 else None
                stack.append(props.get("/MCID") if hasattr(props, "get") else None)
            elif operator == b"EMC" and stack:
                stack.pop()

        def text(value, cm, tm, font, size, stack=stack, index=index):
            if value and stack and stack[-1] is not None:
                texts.setdefault((index, int(stack[-1])), []).append(value)

        page.extract_text(visitor_operand_before=before, visitor_text=text)
    return {key: "".join(parts) for key, parts in texts.items()}


def artifact_text(path: Path | str) -> list[str]:
    """Text drawn inside /Artifact marked content, page by page."""
    found = []
    for page in PdfReader(str(path)).pages:
        stack: list[bool] = []
        parts: list[str] = []

        def before(operator, operands, cm, tm, stack=stack):
            if operator in (b"BDC", b"BMC"):
                stack.append(str(operands[0]) == "/Artifact")
            elif operator == b"EMC" and stack:
                stack.pop()

        def text(value, cm, tm, font, size, stack=stack, parts=parts):
            if value.strip() and any(stack):
                parts.append(value)

        page.extract_text(visitor_operand_before=before, visitor_text=text)
        found.append(_squash(" ".join(parts)))
    return found
