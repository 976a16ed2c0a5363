"""The contract's CIN census mapping, compiled once: where each dataset's rows and values stand in a
census return. Read by the tree reader (`cin_census`) and the fast scanner (`cin_census_scan`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sscp_lib.contract import Contract


@dataclass
class RecordLevel:
    """A record element (or the <Child> itself, path ''), its own element paths and its sub-records."""

    path: str
    own: list[tuple[str, str]] = field(default_factory=list)  # (column path from Child, path from this element)
    datasets: list[str] = field(default_factory=list)  # datasets with one row per element at this level
    below: list[RecordLevel] = field(default_factory=list)


@dataclass(frozen=True)
class CensusLayout:
    """The contract's census mapping, compiled: where each dataset's rows and values are."""

    root: str
    container: str  # element under the root holding the children
    child: str  # the repeating element, one per child
    headings: dict[str, tuple[str, ...]]  # dataset -> column paths from Child, in contract order
    record_tags: dict[str, str]  # dataset -> tag of its record element
    date_headings: dict[str, tuple[str, ...]]
    top: RecordLevel
    # The DfE header: what a census return may hold before <Children>, and where it names its collection.
    header: str = "Header"
    collection_path: tuple[str, ...] = ("CollectionDetails", "Collection")
    collection: str = "CIN"

    @classmethod
    def from_contract(cls, contract: Contract) -> CensusLayout:
        spec = contract.cin_census
        container, child = spec["record_container"].split("/")
        levels: dict[str, RecordLevel] = {"": RecordLevel("")}
        headings, tags, dates = {}, {}, {}
        for name, dataset in contract.datasets.items():
            census = dataset.cin_census
            if not census:
                continue
            record = census["record"]
            parts = record.split("/")
            for depth in range(1, len(parts) + 1):
                path = "/".join(parts[:depth])
                if path not in levels:
                    levels[path] = RecordLevel(path)
                    levels["/".join(parts[: depth - 1])].below.append(levels[path])
            levels[record].datasets.append(name)
            headings[name] = tuple(census["columns"])
            tags[name] = parts[-1]
            dates[name] = tuple(p for p, c in census["columns"].items() if dataset.column(c).type == "date")
            for column_path in census["columns"]:
                level = max((p for p in levels if p and column_path.startswith(p + "/")), key=len, default="")
                relative = column_path[len(level) + 1 :] if level else column_path
                if (column_path, relative) not in levels[level].own:
                    levels[level].own.append((column_path, relative))
        return cls(spec["root"], container, child, headings, tags, dates, levels[""])
