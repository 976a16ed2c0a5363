"""Read a CIN census return's records by scanning its tags in bulk, without building elements.

The element tree (sscp_lib.ingest.cin_census) makes a Python object of every element and walks each
<Child> in Python: for a national-size return that was most of the clean stage's time. The scanner
gets the same values from a few whole-array operations per block of the file (numpy and Arrow, in
C). It finds every '<' and '>' in a block, so each tag is a head (the name, any attributes, the '/'
of an end or empty tag) and the text after it. From the heads it knows every element's name and
depth, so it finds each record's values as the tree does: the first direct child of a name
(Element.find and findtext), never a deeper element of the same name, and an element's text up to
its first child. Texts are unescaped as XML does (&amp;, &lt;, &#...;, line ends). The names it
looks for come from the contract, through CensusLayout; they may carry a prefix bound to the root's
namespace. It keeps a few bytes per element and the values' texts, never the file or a tree.

It gives exactly the tree's values only when the file is plain, so it reads a file only when:
- it is UTF-8 or ASCII (tags are found as bytes, texts read as UTF-8);
- nothing but an XML declaration, comments, processing instructions and space come before the root:
  a DOCTYPE may declare entities, which would change the text;
- there is no comment, CDATA section or processing instruction after the root's start tag: they may
  hold '<' or '>', which would be taken for a tag's;
- every '>' ends a tag: one in an attribute value would end a tag too early (one in text would do no
  harm, but telling the two apart costs more than reading such a rare file with the tree);
- no namespace is declared below the root, so an element's namespace is known from its prefix.
Anything else raises CannotScan, saying why, and the caller reads the file with the tree. So does
whatever the tree would report as not a census return (another root, another collection, no
<Children>, or more than one, no children or records), so that each message comes from one place.
The scanner does not check that the XML is well-formed: the caller checks that with expat first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from sscp_lib.ingest.census_layout import CensusLayout, RecordLevel

SCAN_BLOCK = 4 << 20  # bytes read at a time: larger blocks only hold more memory
PROLOG_LIMIT = 1 << 16  # the root's start tag is looked for this far into the file
# Encodings whose bytes are read as UTF-8 (as declared in the XML declaration; none means UTF-8).
SCAN_ENCODINGS = ("utf-8", "utf8", "us-ascii", "ascii")
# Before the root: a BOM, the XML declaration, comments, processing instructions and space (not a DOCTYPE).
_ROOT_START = re.compile(
    rb"""\A(?:\xef\xbb\xbf)?(?:<\?xml\s[^>]*\?>)?(?:\s|<!--(?:[^-]|-(?!-))*-->|<\?(?:[^?]|\?(?!>))*\?>)*"""
    rb"""<(?P<name>[^\s/>!?][^\s/>]*)(?P<attributes>(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(?P<empty>/?)>"""
)
_ATTRIBUTE = re.compile(rb"""([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REFERENCE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_OPEN, _CLOSE, _SLASH, _BANG, _QUESTION = b"<>/!?"
# Space within a tag comes before an attribute (which has '=') or just before '>' or '/>'.
_IS_SPACE = np.isin(np.arange(256), list(b" \t\r\n"))


class CannotScan(Exception):
    """The file holds something the scanner would not read exactly as the element tree does."""


@dataclass
class ScannedReturn:
    """What the scanner read: the root's namespace and each dataset's columns."""

    namespace: str  # '{uri}' when the root is in a namespace, else ''
    records: dict[str, list[pa.Array]]  # dataset -> raw text per column path (null where no element)

    def columns(self, name: str) -> list[pa.Array]:
        return self.records[name]


@dataclass(frozen=True)
class _Root:
    end: int  # offset just after the root's start tag
    namespace: str
    prefixes: tuple[str, ...]  # prefixes naming the root's namespace ('' for none)


def scan_return(path: Path, layout: CensusLayout, encoding: str) -> ScannedReturn:
    """The return's records, as the element tree would read them; CannotScan when unsure."""
    if encoding not in SCAN_ENCODINGS:
        raise CannotScan(f"it is encoded {encoding}, not UTF-8")
    with open(path, "rb") as fh:
        head = fh.read(PROLOG_LIMIT)
        root = _root(head, layout)
        first_tag = head.find(b"<", root.end)  # the root's own text is no value
        tags = _Tags(layout, root)
        for block in _tag_blocks(fh, head[first_tag:] if first_tag >= 0 else b""):
            tags.add(block)
    return tags.elements().read(layout, root.namespace)


def _root(head: bytes, layout: CensusLayout) -> _Root:
    """The root's start tag: its name must be the layout's, its namespace declarations say which prefixes count."""
    found = _ROOT_START.match(head)
    if found is None:
        before = "a DOCTYPE" if b"<!DOCTYPE" in head else "something other than an XML declaration or comments"
        raise CannotScan(f"{before} comes before the root element, or its start tag is not in the first bytes")
    if found["empty"]:
        raise CannotScan("the root element is empty")
    declared: dict[str, str] = {}
    for name, double, single in _ATTRIBUTE.findall(found["attributes"]):
        if name == b"xmlns" or name.startswith(b"xmlns:"):
            if b"&" in double + single:
                raise CannotScan("a namespace name holds a character reference")
            declared[name[len(b"xmlns:") :].decode()] = (double + single).decode()
    prefix, _, local = found["name"].decode().rpartition(":")
    if local != layout.root:
        raise CannotScan(f"its root element is <{local}>")
    uri = declared.get(prefix, "")
    prefixes = tuple(p for p in sorted(set(declared) | {""}) if declared.get(p, "") == uri)
    return _Root(found.end(), "{" + uri + "}" if uri else "", prefixes)


def _tag_blocks(fh: BinaryIO, first: bytes) -> Iterator[bytes]:
    """`first`, then the rest of the file, in blocks of whole tags: each starts at a '<' and ends before one."""
    carry = first
    while block := fh.read(SCAN_BLOCK):
        carry += block
        cut = carry.rfind(b"<")
        if cut > 0:
            yield carry[:cut]
            carry = carry[cut:]
    if carry:
        yield carry


class _Tags:
    """The start tags of every element down to the deepest the layout reads, block by block.

    For each: its depth (the root is 1) and its name's code (-1 for names the layout does not read);
    for elements whose text is a value (leaves), the text.
    """

    def __init__(self, layout: CensusLayout, root: _Root):
        self.names = _names(layout)
        qualified = [(c, f"{p}:{n}" if p else n) for c, n in enumerate(self.names) for p in root.prefixes]
        self.qualified = pa.array([q for _, q in qualified], pa.string())
        self.qualified_code = np.array([c for c, _ in qualified] + [-1], np.int16)  # -1: not a name read
        leaves = {_step(p, -1) for level in _levels(layout.top) for _, p in level.own}
        leaves.add(layout.collection_path[-1])
        self.is_leaf = np.array([n in leaves for n in self.names] + [False])
        self.deepest = _deepest(layout)
        self.depth = 1  # inside the root
        self.count = 0
        self.depths: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.leaf_elements: list[np.ndarray] = []
        self.leaf_texts: list[pa.Array] = []

    def add(self, block: bytes) -> None:
        if b"xmlns" in block:
            raise CannotScan("it declares a namespace below the root element")
        data = np.frombuffer(block, np.uint8)
        opens, closes, first = _tag_bounds(data)
        is_end = first == _SLASH
        empty = data[closes - 1] == _SLASH
        step = np.where(is_end, -1, np.where(empty, 0, 1)).astype(np.int32)
        after = self.depth + np.cumsum(step)
        depth = after - step + 1  # of a start tag: one below the element it is in
        if len(after):
            self.depth = int(after[-1])
        kept = np.flatnonzero(~is_end & (depth <= self.deepest))
        # A head is the name, then any attributes and space; an empty tag's '/' is left out.
        head_stops = closes[kept] - empty[kept]
        names = _spans(block, opens[kept] + 1, head_stops)
        if b"=" in block or _IS_SPACE[data[head_stops - 1]].any():
            names = pc.list_element(pc.ascii_split_whitespace(names, max_splits=1), 0)
        found = pc.fill_null(pc.index_in(names, value_set=self.qualified), len(self.qualified))
        code = self.qualified_code[found.to_numpy(zero_copy_only=False)]
        leaves = np.flatnonzero(self.is_leaf[code])
        tags = kept[leaves]
        text_starts = closes[tags] + 1
        # A leaf's text runs to the next tag; an empty tag has none (what follows it is another's).
        text_stops = np.where(empty[tags], text_starts, np.append(opens, len(block))[tags + 1])
        texts = _spans(block, text_starts, text_stops)
        try:
            texts.validate(full=True)
        except pa.ArrowInvalid:
            raise CannotScan("it holds bytes that are not UTF-8") from None
        self.depths.append(depth[kept].astype(np.int8))
        self.codes.append(code)
        self.leaf_elements.append(self.count + leaves)
        self.leaf_texts.append(_unescaped(texts))
        self.count += len(kept)

    def elements(self) -> _Elements:
        return _Elements(
            self.names,
            np.concatenate(self.depths) if self.depths else np.zeros(0, np.int8),
            np.concatenate(self.codes) if self.codes else np.zeros(0, np.int16),
            np.concatenate(self.leaf_elements) if self.leaf_elements else np.zeros(0, np.int64),
            pa.concat_arrays(self.leaf_texts) if self.leaf_texts else pa.array([], pa.string()),
        )


def _tag_bounds(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each tag's '<' and '>' are, and the byte after its '<'.

    CannotScan when a '<' starts something else than a tag, or a '>' does not end the tag its '<' starts.
    """
    opens = np.flatnonzero(data == _OPEN)
    first = data[np.minimum(opens + 1, len(data) - 1)]
    if ((first == _BANG) | (first == _QUESTION)).any():
        raise CannotScan("it holds a comment, CDATA section or processing instruction after the root's start")
    closes = np.flatnonzero(data == _CLOSE)
    if len(opens) != len(closes) or (closes < opens).any() or (closes[:-1] > opens[1:]).any():
        raise CannotScan("it holds a '>' that does not end a tag (in text or an attribute value)")
    return opens, closes, first


def _spans(block: bytes, starts: np.ndarray, stops: np.ndarray) -> pa.Array:
    """The strings block[start:stop] for spans in file order, read from the block where it lies."""
    if not len(starts):
        return pa.array([], pa.string())
    offsets = np.empty(2 * len(starts), np.int32)
    offsets[0::2], offsets[1::2] = starts, stops
    # Offsets start, stop, start, stop...: the spans are every other string, the rest what lies between.
    joined = pa.StringArray.from_buffers(len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(block))
    return joined.take(np.arange(0, len(offsets) - 1, 2))


def _unescaped(texts: pa.Array) -> pa.Array:
    """Texts as XML reads them: references replaced, line ends made '\\n' (as expat does)."""
    marked = pc.or_(pc.match_substring(texts, "&"), pc.match_substring(texts, "\r"))
    if not pc.any(marked).as_py():
        return texts
    values = texts.to_pylist()
    for i in np.flatnonzero(marked.to_numpy(zero_copy_only=False)):
        values[i] = _REFERENCE.sub(_referenced, values[i].replace("\r\n", "\n").replace("\r", "\n"))
    return pa.array(values, pa.string())


def _referenced(reference: re.Match) -> str:
    name = reference[1]
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    return chr(int(name[1:])) if name.startswith("#") else _ENTITIES[name]


class _Elements:
    """The scanned elements in document order, with each named element's parent."""

    def __init__(self, names: list[str], depth: np.ndarray, code: np.ndarray, leaves: np.ndarray, texts: pa.Array):
        self.code_of = {name: code for code, name in enumerate(names)}
        self.depth, self.code = depth, code
        self.leaves, self.texts = leaves, texts
        self.parent = self._parents()
        self._first: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _parents(self) -> np.ndarray:
        """The element each named element is in: the last one before it a level up."""
        parent = np.full(len(self.depth), -1, np.int32 if len(self.depth) < 1 << 31 else np.int64)
        for depth in range(3, int(self.depth.max(initial=0)) + 1):
            upper = np.flatnonzero(self.depth == depth - 1)
            these = np.flatnonzero((self.depth == depth) & (self.code >= 0))
            if len(upper) and len(these):
                parent[these] = upper[np.searchsorted(upper, these) - 1]
        return parent

    def first_child(self, elements: np.ndarray, name: str) -> np.ndarray:
        """Each element's first child called `name` (Element.find); -1 where it has none."""
        code = self.code_of[name]
        if code not in self._first:
            named = np.flatnonzero(self.code == code)
            owners, first = np.unique(self.parent[named], return_index=True)
            self._first[code] = owners, named[first]
        owners, children = self._first[code]
        if not len(owners):
            return np.full(len(elements), -1, np.int64)
        at = np.minimum(np.searchsorted(owners, elements), len(owners) - 1)
        return np.where((elements >= 0) & (owners[at] == elements), children[at], -1)

    def children_named(self, elements: np.ndarray, name: str) -> np.ndarray:
        """Every child called `name` of the (sorted) elements, in document order (Element.findall)."""
        named = np.flatnonzero(self.code == self.code_of[name])
        return named[np.isin(self.parent[named], elements)]

    def text(self, elements: np.ndarray) -> pa.Array:
        """The text of each leaf element; null where there is no element (-1)."""
        missing = elements < 0
        if missing.all():
            return pa.nulls(len(elements), pa.string())
        at = np.searchsorted(self.leaves, elements)
        return self.texts.take(pa.array(np.where(missing, 0, at), mask=missing))

    def read(self, layout: CensusLayout, namespace: str) -> ScannedReturn:
        children = self._children(layout)
        records: dict[str, list[pa.Array]] = {}
        self._read_level(layout, layout.top, children, {}, records)
        if not any(len(columns[0]) for columns in records.values() if columns):
            raise CannotScan("it has no records")
        return ScannedReturn(namespace, records)

    def _children(self, layout: CensusLayout) -> np.ndarray:
        """The elements in the first <Children>, after checking the root holds what the tree expects."""
        second = np.flatnonzero(self.depth == 2)
        is_container = self.code[second] == self.code_of[layout.container]
        if is_container.sum() != 1:
            raise CannotScan(f"it has {is_container.sum()} <{layout.container}> elements")
        at = int(np.argmax(is_container))
        if (self.code[second[:at]] != self.code_of[layout.header]).any():
            raise CannotScan(
                f"<{layout.root}> holds another element than <{layout.header}> before <{layout.container}>"
            )
        if at:
            self._check_collection(layout, second[:1])
        start, end = second[at], second[at + 1] if at + 1 < len(second) else len(self.depth)
        children = start + 1 + np.flatnonzero(self.depth[start + 1 : end] == 3)
        if not len(children):
            raise CannotScan(f"its <{layout.container}> is empty")
        return children

    def _check_collection(self, layout: CensusLayout, header: np.ndarray) -> None:
        found = header
        for name in layout.collection_path:
            found = self.first_child(found, name)
        collection = self.text(found)[0].as_py()
        if collection and collection.strip().upper() != layout.collection:
            raise CannotScan(f"its header names the {collection.strip()!r} collection")

    def _read_level(
        self,
        layout: CensusLayout,
        level: RecordLevel,
        elements: np.ndarray,
        inherited: dict[str, np.ndarray],
        records: dict[str, list[pa.Array]],
    ) -> None:
        """Values of a level's records (element numbers per column path), then the records below them."""
        values = dict(inherited)
        for column_path, relative in level.own:
            found = elements
            for name in relative.split("/"):
                found = self.first_child(found, name)
            values[column_path] = found
        for name in level.datasets:
            records[name] = [self.text(values[p]) for p in layout.headings[name]]
        for below in level.below:
            inner = self.children_named(elements, _step(below.path, -1))
            owner = np.searchsorted(elements, self.parent[inner])
            self._read_level(layout, below, inner, {p: v[owner] for p, v in values.items()}, records)


def _step(path: str, index: int) -> str:
    return path.split("/")[index]


def _levels(level: RecordLevel) -> Iterator[RecordLevel]:
    yield level
    for below in level.below:
        yield from _levels(below)


def _names(layout: CensusLayout) -> list[str]:
    """Every element name the scanner looks for: the header's, the records' and their values' paths."""
    names = [layout.header, layout.container, *layout.collection_path]
    for level in _levels(layout.top):
        if level.path:
            names.append(_step(level.path, -1))
        names += [name for _, relative in level.own for name in relative.split("/")]
    return list(dict.fromkeys(names))


def _deepest(layout: CensusLayout) -> int:
    """The depth of the deepest element read (the root is 1, <Children> 2, a child 3)."""
    header = 2 + len(layout.collection_path)
    records = [
        3
        + (len(level.path.split("/")) if level.path else 0)
        + max((len(r.split("/")) for _, r in level.own), default=0)
        for level in _levels(layout.top)
    ]
    return max([header, *records])
