"""Reading the validated tables a stage analyses, checked against the processed schema."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from sscp_lib.contract import load_contract
from sscp_lib.errors import UserError
from sscp_lib.stages.context import StageContext


def load_validated(ctx: StageContext, dataset: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """One validated table (or some of its columns), checked against and cast to the processed schema."""
    path = ctx.location("validated", dataset)
    if not path.exists():
        raise UserError(f"{path}: validated table not found; run the validate stage for {ctx.year} first")
    return read_processed_table(path, dataset, columns)


def read_processed_table(path: Path, dataset: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A processed table's parquet file (or some of its columns), cast to the processed schema."""
    schema = load_contract().processed_schema(dataset)
    wanted = list(columns) if columns else list(schema)
    present = set(pq.read_schema(path).names)
    missing = [c for c in wanted if c not in present]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = pd.read_parquet(path, columns=wanted)
    return frame.astype({c: schema[c] for c in wanted})


def load_validated_tables(
    ctx: StageContext, datasets: Iterable[str], columns: Mapping[str, Iterable[str]] | None = None
) -> dict[str, pd.DataFrame]:
    """The validated tables by dataset name; `columns` prunes the reads of the tables it names."""
    columns = columns or {}
    return {name: load_validated(ctx, name, columns.get(name)) for name in datasets}
