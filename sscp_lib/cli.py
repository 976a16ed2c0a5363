"""The `sscp` command: make the sample, make a key, run the chain, inspect raw files, write the
data-collection templates, regenerate the generated docs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sscp_lib.errors import UserError


def _cmd_sample(args) -> int:
    from sscp_lib.sample.generate import generate_sample

    written = generate_sample(
        out_dir=Path(args.out), seed=args.seed, scale=args.scale, annex_a=args.annex_a, cin_xml=args.cin_xml
    )
    print(f"synthetic sample written to {args.out}: {len(written)} files")
    return 0


def _cmd_keygen(args) -> int:
    from sscp_lib.ingest.pseudonymise import ensure_key_file, key_file_path

    path = key_file_path()
    created = ensure_key_file(path)
    print(("created" if created else "using existing") + f" pseudonymisation key {path}")
    return 0


def _cmd_kernel(args) -> int:
    from sscp_lib.chain.kernels import install_kernel

    print(f"registered Jupyter kernel 'sscp': {install_kernel()}")
    return 0


def _cmd_run(args) -> int:
    from sscp_lib.chain.kernels import chain_kernel_pool

    # The kernel zygote starts importing while this process loads the chain's own modules.
    kernels = chain_kernel_pool()
    try:
        from sscp_lib.chain.pipeline import run_chain
    except BaseException:
        kernels.close()
        raise
    return run_chain(
        kernels=kernels,
        year=args.year,
        raw=args.raw,
        processed=args.processed,
        reports=args.reports,
        config=args.config,
        pdf=not args.no_pdf,
        start_from=args.start_from,
        quarter=args.quarter,
        wait=args.wait,
        fresh=args.fresh,
    )


# --- review ---
def _year_report_lock(args, command: str):
    """The year's lock on the reports folder, so that a run's swap never meets a diff or an approval."""
    from sscp_lib.chain.year_lock import year_lock
    from sscp_lib.config import Paths, ReportingYear

    try:
        label = ReportingYear.parse(args.year).label
    except ValueError as exc:
        raise UserError(str(exc)) from None
    reports = Paths.with_overrides(reports=Path(args.reports).resolve() if args.reports else None).reports
    return year_lock([reports], label, command=f"sscp {command} --year {label}", wait=args.wait)


def _cmd_diff(args) -> int:
    from sscp_lib.review.workflow import diff

    with _year_report_lock(args, "diff"):
        text = diff(
            args.year,
            reports=args.reports,
            against=args.against,
            run=args.run,
            config=args.config,
            quarter=args.quarter,
        )
        print(text, end="")
    return 0


def _cmd_approve(args) -> int:
    from sscp_lib.review.workflow import approve

    with _year_report_lock(args, "approve"):
        text = approve(args.year, args.by, on=args.date, reports=args.reports, config=args.config, quarter=args.quarter)
        print(text, end="")
    return 0


# --- exploration ---
def _cmd_lab(args) -> int:
    from sscp_lib.explore.lab import main as lab

    return lab(args.jupyter_args)


# --- inspect ---
def _cmd_inspect(args) -> int:
    from sscp_lib.config import load_config
    from sscp_lib.ingest.inspection import inspect_path
    from sscp_lib.ingest.inspection_report import format_inspection

    try:
        config = load_config(args.config)
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from None
    inspection = inspect_path(args.path, dataset=args.dataset, year=args.year, config=config)
    print(format_inspection(inspection), end="")
    return 0 if inspection.ok else 1


def _cmd_contract_docs(args) -> int:
    from sscp_lib.ingest.contract_docs import write_contract_docs

    path = write_contract_docs(Path(args.out) if args.out else None)
    print(f"wrote {path}")
    return 0


def _cmd_stage_docs(args) -> int:
    from sscp_lib.stages.docs import write_architecture_doc

    print(f"wrote {write_architecture_doc()}")
    return 0


def _cmd_templates(args) -> int:
    from sscp_lib.config import ReportingYear
    from sscp_lib.ingest.collection_workbooks import write_templates

    try:
        year = ReportingYear.parse(args.year) if args.year else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    written = write_templates(Path(args.out), year=year)
    print(f"data-collection templates written to {args.out}: " + ", ".join(p.name for p in written))
    return 0


WAIT_HELP = "if another command is working on the year, wait for it to finish (default: stop at once)"


def build_parser() -> argparse.ArgumentParser:
    from sscp_lib.stages import STAGE_NAMES

    parser = argparse.ArgumentParser(prog="sscp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="write the synthetic sample of raw agency files")
    p.add_argument("--out", default="data/raw", help="folder for <year>/ sub-folders (default data/raw)")
    p.add_argument("--seed", type=int, default=20240331)
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply record volumes (1 = a borough of ~50,000 children)"
    )
    p.add_argument(
        "--annex-a",
        action="store_true",
        help="write the council's contacts, referrals and CP plans as an Ofsted Annex A workbook",
    )
    p.add_argument(
        "--cin-xml",
        action="store_true",
        help="write the council's referrals and CP plans as a DfE CIN census return (XML)",
    )
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("keygen", help="create the local pseudonymisation key if there is none")
    p.set_defaults(func=_cmd_keygen)

    p = sub.add_parser("kernel", help="register this environment's Jupyter kernel 'sscp'")
    p.set_defaults(func=_cmd_kernel)

    p = sub.add_parser("run", help="run the notebook chain for a reporting year, or a quarter's dashboard")
    p.add_argument("--year", required=True, help="reporting year, e.g. 2023-24")
    p.add_argument(
        "--quarter",
        help="1-4: the Partnership Dashboard for that quarter (data up to its end) in reports/<year>-Q<n>; "
        "without it, the year's statement and its Q4 dashboard",
    )
    p.add_argument("--raw", help="raw data folder (default data/raw)")
    p.add_argument("--processed", help="processed data folder (default data/processed)")
    p.add_argument("--reports", help="reports folder (default reports)")
    p.add_argument("--config", help="partnership config (default config/partnership.yaml)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    p.add_argument("--from", dest="start_from", choices=STAGE_NAMES, help="resume from this stage")
    p.add_argument("--wait", action="store_true", help=WAIT_HELP)
    p.add_argument(
        "--fresh",
        action="store_true",
        help="rebuild every clean and validated table (by default a table whose inputs are unchanged is reused)",
    )
    p.set_defaults(func=_cmd_run)

    # --- review ---
    p = sub.add_parser("diff", help="what changed between two runs of a year (figures, inputs, config, narrative)")
    p.add_argument("--year", required=True, help="reporting year, e.g. 2023-24")
    p.add_argument("--quarter", help="1-4: the quarter's dashboard run rather than the year's")
    p.add_argument("--against", help="an earlier run's folder (default: the last run kept in the year's history)")
    p.add_argument("--run", help="the newer run's folder (default reports/<year>)")
    p.add_argument("--reports", help="reports folder (default reports)")
    p.add_argument("--config", help="partnership config (default: the one the run used)")
    p.add_argument("--wait", action="store_true", help=WAIT_HELP)
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("approve", help="record the signatories' approval of the year's current run")
    p.add_argument("--year", required=True, help="reporting year, e.g. 2023-24")
    p.add_argument("--quarter", help="1-4: approve the quarter's dashboard run rather than the year's")
    p.add_argument("--by", action="append", required=True, metavar="ROLE", help="a signatory's role (repeatable)")
    p.add_argument("--date", help="date of the approval, e.g. 2024-06-30 (default today)")
    p.add_argument("--reports", help="reports folder (default reports)")
    p.add_argument("--config", help="partnership config (default: the one the run used)")
    p.add_argument("--wait", action="store_true", help=WAIT_HELP)
    p.set_defaults(func=_cmd_approve)

    # --- exploration ---
    p = sub.add_parser(
        "lab",
        help="JupyterLab at the repository root on your working copy of the exploration notebook",
        description="Other arguments (e.g. --no-browser --port 8899) are passed on to jupyter lab.",
    )
    p.set_defaults(func=_cmd_lab, jupyter_args=[])

    # --- inspect ---
    p = sub.add_parser(
        "inspect",
        help="show how a raw file or a year's folder maps to the data contract, with a mapping to paste",
        description="Which dataset each file is taken for, how each heading maps, values that map to no code, "
        "date spellings, row counts, and a source mapping to paste into the config. Prints counts and masked "
        "shapes, never identifiers, names or dates of birth. Exits 1 while a required column is unmatched.",
    )
    p.add_argument("path", help="a raw file, or a year's folder (e.g. data/raw/2023-24)")
    p.add_argument("--dataset", help="take the file for this dataset (with a folder: show only its files)")
    p.add_argument("--year", help="reporting year, e.g. 2023-24 (default: from the folder name)")
    p.add_argument("--config", help="partnership config (default config/partnership.yaml)")
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser("templates", help="write Excel data-collection templates for the support team's trackers")
    p.add_argument("--out", default="data/templates", help="folder for the workbooks (default data/templates)")
    p.add_argument("--year", help="reporting year the example rows are dated in (default: the current one)")
    p.set_defaults(func=_cmd_templates)

    p = sub.add_parser("contract-docs", help="regenerate docs/data-contract.md from the contract")
    p.add_argument("--out", help="output file (default docs/data-contract.md)")
    p.set_defaults(func=_cmd_contract_docs)

    p = sub.add_parser("stage-docs", help="regenerate the stage table in docs/ARCHITECTURE.md from the registry")
    p.set_defaults(func=_cmd_stage_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    from sscp_lib.chain import lean_imports

    lean_imports.install()  # before any command imports Great Expectations or jsonschema
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "lab":  # only `sscp lab` passes arguments on (to jupyter lab)
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "lab":
        args.jupyter_args = extra
    try:
        return args.func(args)
    except UserError as exc:
        print(f"sscp: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sscp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
