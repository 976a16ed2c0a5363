"""Figures that agree with each other: checks over a run's metrics.json and its rendered statement.

On the metrics, from the relations the catalogue declares beside each metric:
- a part (`part_of`) is never larger than its whole;
- a share (`share_of: {part, whole}`) equals 100 * part / whole, within rounding.
Both hold for this year's values and, where both are there, for the previous year's.

On the statement (every figure the narrative quotes is a `<span data-metric>`, every key-figures
row a `<tr data-metric>`):
- a figure quoted in the prose is the metric's value as metrics.json holds it, and the same as
  that metric's row in the key-figures table;
- a paragraph that quotes a share together with its part also quotes its whole, so the reader
  is told what the percentage is of and does not take it to be of another count nearby;
- two counts set side by side in one sentence count the same kind of thing (the catalogue's
  `counts:` of each count metric), or else the sentence says what each counts: a wording of each
  one's `counts:` stands within a few words of its figure ("6 audits ... 40 cases", not "6 audits
  ... 40 of them").

Suppressed ("c") and missing values are not compared: they state nothing to disagree with.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from numbers import Number

from sscp_lib.formatting import format_metric

# How near a count's figure its noun must stand when counts of different kinds share a sentence:
# within this many words after the figure ("587 people attended") or before it ("became
# referrals: 2,600"), never reaching past another quoted figure.
WORDS_AFTER, WORDS_BEFORE = 5, 3

# Shares are stored to 6 decimal places by the metric store, or to 1 by some analyses: half a
# unit of the coarser rounding, and a little room for float arithmetic.
SHARE_TOLERANCE = 0.05 + 1e-6


def _number(value):
    return value if isinstance(value, Number) and not isinstance(value, bool) else None


def _wholes(spec: dict) -> list[str]:
    wholes = spec.get("part_of") or []
    return [wholes] if isinstance(wholes, str) else list(wholes)


def check_metrics(metrics: dict, catalogue: dict) -> list[str]:
    """Every part larger than its whole and every share that is not its part over its whole."""
    problems = []
    for name, spec in catalogue["metrics"].items():
        if name not in metrics:
            continue
        for which in ("value", "previous"):
            value = _number(metrics[name].get(which))
            if value is None:
                continue
            year = "" if which == "value" else " (previous year)"
            for whole_name in _wholes(spec):
                whole = _number((metrics.get(whole_name) or {}).get(which))
                if whole is not None and value > whole:
                    problems.append(f"{name} = {value:g} is larger than its whole {whole_name} = {whole:g}{year}")
            share = spec.get("share_of")
            if share:
                part = _number((metrics.get(share["part"]) or {}).get(which))
                whole = _number((metrics.get(share["whole"]) or {}).get(which))
                if part is not None and whole:
                    expected = 100 * part / whole
                    if abs(value - expected) > SHARE_TOLERANCE:
                        problems.append(
                            f"{name} = {value:g}% is not {share['part']} / {share['whole']} = "
                            f"{part:g} / {whole:g} = {expected:.1f}%{year}"
                        )
    return problems


# --- The rendered statement --------------------------------------------------------------------

_BLOCKS = {"p", "li", "td", "th", "caption", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6"}


class _StatementReader(HTMLParser):
    """Quoted figures by paragraph, with the paragraph's text, and key-figures rows, of a rendered statement."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[_Paragraph] = []
        self.rows: dict[str, str] = {}  # metric -> this year's cell in its key-figures row
        self._spans: list[list] = []  # open data-metric spans: [metric, text, depth, start in block text]
        self._depth = 0
        self._block: _Paragraph | None = None
        self._block_tag = ""
        self._row: list | None = None  # [metric, 1 while in the value cell (else 0 or 2), its text]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in _BLOCKS and self._block is None and self._row is None:
            self._block = _Paragraph()
            self._block_tag = tag
        if tag == "tr" and attrs.get("data-metric"):
            self._row = [attrs["data-metric"], 0, None]
        if tag == "td" and self._row is not None:
            # This year's cell: the one marked data-this-year (the previous year's comes first), else the first.
            self._row[1] = 1 if "data-this-year" in attrs or (self._row[1] == 0 and self._row[2] is None) else 2
            if self._row[1] == 1:
                self._row[2] = ""
        self._depth += 1
        if tag == "span" and attrs.get("data-metric"):
            start = len(self._block.text) if self._block is not None else 0
            self._spans.append([attrs["data-metric"], "", self._depth, start])

    def handle_endtag(self, tag):
        if tag == "span" and self._spans and self._spans[-1][2] == self._depth:
            metric, text, _, start = self._spans.pop()
            if self._block is not None:
                self._block.figures.append(_Figure(metric, _squash(text), start, len(self._block.text)))
        self._depth -= 1
        if tag == "tr" and self._row is not None:
            self.rows[self._row[0]] = _squash(self._row[2] or "")
            self._row = None
        if self._block is not None and tag == self._block_tag:
            if self._block.figures:
                self.paragraphs.append(self._block)
            self._block = None

    def handle_data(self, data):
        for span in self._spans:
            span[1] += data
        if self._block is not None:
            self._block.text += data
        if self._row is not None and self._row[1] == 1:
            self._row[2] += data


@dataclass
class _Figure:
    """A quoted figure: its metric, the text shown, and where it stands in its paragraph's text."""

    metric: str
    shown: str
    start: int
    end: int


@dataclass
class _Paragraph:
    text: str = ""
    figures: list[_Figure] = field(default_factory=list)

    def sentences(self) -> list[tuple[int, int, list[_Figure]]]:
        """The paragraph cut into sentences: each one's start and end in the text, and its figures."""
        cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(self.text)] + [len(self.text)]
        return [(a, b, [f for f in self.figures if a <= f.start < b]) for a, b in zip(cuts, cuts[1:]) if a < b]


# A sentence ends at . ! or ? followed by a space and a capital, a digit or an opening bracket; "3.3%" and
# "e.g. a" do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z0-9(“\"])")
_WORD = re.compile(r"[a-z][a-z'’-]*")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def check_statement(page: str, metrics: dict, catalogue: dict) -> list[str]:
    """Problems with the figures a rendered statement quotes (see the module's docstring)."""
    reader = _StatementReader()
    reader.feed(page)
    reader.close()
    problems = []
    specs = catalogue["metrics"]
    for paragraph in reader.paragraphs:
        quoted = {figure.metric for figure in paragraph.figures}
        for figure in paragraph.figures:
            name, shown = figure.metric, figure.shown
            entry = metrics.get(name)
            if entry is None:
                problems.append(f"the statement quotes {name}, which metrics.json does not hold")
                continue
            expected = format_metric(entry)
            if shown != _squash(expected):
                problems.append(f"the statement quotes {name} as {shown!r}; metrics.json gives {expected!r}")
            row = reader.rows.get(name)
            if row is not None and row.lower() != shown.lower():
                problems.append(f"{name} reads {shown!r} in the text but {row!r} in the key figures")
        for name in sorted(quoted):
            share = (specs.get(name) or {}).get("share_of")
            if share and share["part"] in quoted and share["whole"] not in quoted:
                problems.append(
                    f"a paragraph quotes {name} with its part {share['part']} but not its whole "
                    f"{share['whole']}: say what the percentage is of ({_excerpt(paragraph)})"
                )
        for start, end, figures in paragraph.sentences():
            problems += _counts_side_by_side(paragraph.text[start:end], start, figures, specs)
    return problems


def counted(spec: dict) -> list[str]:
    """The wordings of what a count metric counts (its catalogue `counts:`), the kind first."""
    counts = spec.get("counts") or []
    return [counts] if isinstance(counts, str) else list(counts)


def _counts_side_by_side(sentence: str, offset: int, figures: list[_Figure], specs: dict) -> list[str]:
    """Counts of different kinds in one sentence, one of them without its noun nearby.

    `offset` is where the sentence starts in its paragraph's text (the figures' positions are in
    the paragraph); a noun is looked for in this sentence only."""
    # The schema gives every count of the catalogue its `counts:`.
    counts = [f for f in figures if counted(specs.get(f.metric) or {})]
    kinds = {f.metric: counted(specs[f.metric])[0] for f in counts}
    if len(set(kinds.values())) < 2:
        return []
    problems = []
    for i, figure in enumerate(counts):
        after_end = counts[i + 1].start - offset if i + 1 < len(counts) else len(sentence)
        before_start = counts[i - 1].end - offset if i else 0
        after = _words(sentence[figure.end - offset : after_end])[:WORDS_AFTER]
        before = _words(sentence[before_start : figure.start - offset])[-WORDS_BEFORE:]
        wordings = counted(specs[figure.metric])
        if not any(_says(after, w) or _says(before, w) for w in wordings):
            others = ", ".join(f"{f.metric} ({kinds[f.metric]})" for f in counts if f is not figure)
            problems.append(
                f"a sentence sets {figure.metric} = {figure.shown} ({kinds[figure.metric]}) beside {others} "
                f"without saying what it counts: put {' or '.join(repr(w) for w in wordings)} next to it "
                f"({_squash(sentence)!r})"
            )
    return problems


def _words(text: str) -> list[str]:
    return [_singular(w) for w in _WORD.findall(text.lower())]


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _says(words: list[str], wording: str) -> bool:
    """Whether the words hold the wording (a noun or noun phrase, singular or plural) in order."""
    phrase = _words(wording)
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def _excerpt(paragraph: _Paragraph) -> str:
    return ", ".join(f"{f.metric} {f.shown}" for f in paragraph.figures)


def check_run(metrics: dict, page: str, catalogue: dict) -> list[str]:
    """Both checks on one run: its merged metrics and its rendered statement."""
    return check_metrics(metrics, catalogue) + check_statement(page, metrics, catalogue)
