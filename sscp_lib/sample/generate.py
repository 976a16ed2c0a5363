"""The synthetic sample: raw agency files for a fictional borough, shaped like real exports.

`generate_sample` writes one folder per reporting year with one file per dataset of the data
contract, plus `_sample.json` saying the data are synthetic. Everything comes from the seed:
the same seed gives byte-identical files. Columns, codes and identifier roles are read from the
contract; this module only decides volumes, distributions, the facts of the reference year and
how each agency formats its export (headings, dates, booleans, encodings, file types).

People are fictional. Child ids are raw council ids ("SMBC-000123") and the same child keeps
the same id in council, police and health files and across years, so pseudonymised ids link.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
import zlib
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sscp_lib.config import PartnershipConfig, ReportingYear, load_config
from sscp_lib.contract import Contract, Dataset, load_contract
from sscp_lib.errors import UserError
from sscp_lib.sample.cin_census_writer import SampleCensusReturns
from sscp_lib.sample.workbooks import write_xlsx
from sscp_lib.synthetic import SAMPLE_MARKER

GENERATOR = "sscp_lib.sample.generate"
# The year of the published statement whose facts the sample embodies.
REFERENCE_YEAR = "2023-24"
# The planted special-cause signal (docs/dashboard.md): an eight-month shift in health referrals.
HEALTH_SHIFT_MONTHS = ("2023-05", "2023-12")
HEALTH_SHIFT_RISE = 0.35  # extra referrals per referral the months would have had

# Child-level volumes of the reference year at scale 1 (a borough of ~50,000 children).
BASE_VOLUMES = {
    "mash_contacts": 15_000,
    "referrals": 2_600,
    "police_referrals": 3_000,
    "health_referrals": 900,
    "cp_plans": 250,
    # Early help assessments, school suspensions and exclusions, children's mental health referrals.
    "early_help": 1_700,
    "suspensions_exclusions": 2_300,
    "mental_health_referrals": 2_500,
}
# Volumes grow a little each year up to the reference year.
YEARLY_GROWTH = 0.04
# Children known to services in a year are drawn from a window of the child pool that slides
# a little each year, so many children appear in more than one year.
KNOWN_CHILDREN_PER_YEAR = 10_000
KNOWN_WINDOW_SHIFT = 2_500

FIRST_NAMES = np.array(
    [
        "Oliver",
        "Amelia",
        "George",
        "Isla",
        "Noah",
        "Ava",
        "Arthur",
        "Mia",
        "Leo",
        "Ivy",
        "Oscar",
        "Freya",
        "Harry",
        "Lily",
        "Muhammad",
        "Florence",
        "Jack",
        "Willow",
        "Charlie",
        "Rosie",
        "Jacob",
        "Sophia",
        "Alfie",
        "Isabella",
        "Theo",
        "Grace",
        "Zoë",
        "Chloé",
        "Renée",
        "José",
        "Siân",
        "Aoife",
        "Kai",
        "Maya",
        "Reuben",
        "Nia",
        "Ezra",
        "Aisha",
        "Finley",
        "Poppy",
        "Hamza",
        "Elsie",
    ]
)
SURNAMES = np.array(
    [
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Johnson",
        "Davies",
        "Patel",
        "Khan",
        "Wright",
        "Evans",
        "Thomas",
        "Roberts",
        "Walker",
        "Hughes",
        "Green",
        "Hall",
        "Lewis",
        "Clarke",
        "Jackson",
        "Ahmed",
        "Hussain",
        "Edwards",
        "Turner",
        "Collins",
        "Begum",
        "Morris",
        "Cooper",
        "Ward",
        "Kowalski",
        "O'Brien",
        "Nowak",
        "Okafor",
        "Singh",
        "Baker",
        "Price",
        "Kelly",
        "Bailey",
        "Murphy",
    ]
)
HEALTH_PROVIDERS = np.array(
    [
        "Birmingham Community Healthcare NHS Foundation Trust",
        "University Hospitals Birmingham NHS Foundation Trust",
        "Birmingham Women's and Children's NHS Foundation Trust",
        "Birmingham and Solihull Mental Health NHS Foundation Trust",
        "Solihull GP practices",
    ]
)
ATTENDEE_DOMAINS = {
    "COUNCIL": "solihull.gov.uk",
    "POLICE": "westmidlands.police.uk",
    "HEALTH": "nhs.net",
    "EDUCATION": "schools.solihull.sch.uk",
    "PROBATION": "justice.gov.uk",
    "VCS": "solihullvcs.org.uk",
    "OTHER": "example.org.uk",
}
TRAINING_MODULES = np.array(
    [
        "Working Together to Safeguard Children",
        "Neglect",
        "Sexual Abuse",
        "Domestic Abuse",
        "Child Exploitation",
        "Trauma Informed Practice",
        "Early Help",
        "Voice of the Child",
        "Parental Substance Misuse",
        "Professional Curiosity",
    ]
)
# Trained staff attending (attended = true) in quarters 1-4; the reference year has no Q4 yet.
# How contacts spread over referral source codes (relative weights; "10" is Unknown).
CONTACT_SOURCE_WEIGHTS = {
    "1A": 3,
    "1B": 5,
    "1C": 1,
    "1D": 1,
    "2A": 16,
    "2B": 2,
    "3A": 3,
    "3B": 3,
    "3C": 2,
    "3D": 1,
    "3E": 3,
    "3F": 2,
    "4": 3,
    "5A": 5,
    "5B": 3,
    "5C": 2,
    "5D": 1,
    "6": 24,
    "7": 3,
    "8": 5,
    "9": 2,
    "10": 1.5,
}

TRAINING_ATTENDED_BY_QUARTER = {
    "2021-22": (140, 130, 161, 150),
    "2022-23": (160, 150, 188, 172),
    "2023-24": (190, 180, 217),
}

# ---------------------------------------------------------------------------------------------
# How each agency formats its export.


@dataclass(frozen=True)
class FileFormat:
    kind: str  # csv | xlsx
    encoding: str = "utf-8"
    date_format: str = "iso"  # iso | dmy
    bools: tuple[str, str] = ("Y", "N")
    heading_style: str = "title"  # title | sentence | upper_snake | snake
    labels: tuple[str, ...] = ()  # code columns written as labels rather than codes
    line_terminator: str = "\n"


FILE_FORMATS: dict[str, FileFormat] = {
    "mash_contacts": FileFormat("csv", "utf-8", "dmy", ("Y", "N"), "title", ("contact_outcome",)),
    "referrals": FileFormat("csv", "utf-8", "dmy", ("Y", "N"), "title", ("referral_outcome", "abuse_category")),
    "police_referrals": FileFormat("csv", "utf-8-sig", "iso", ("TRUE", "FALSE"), "upper_snake", ("risk_level",)),
    "health_referrals": FileFormat("xlsx", heading_style="title", labels=("concern_category",)),
    "cp_plans": FileFormat("csv", "utf-8", "dmy", ("Y", "N"), "title"),
    "audits": FileFormat("csv", "utf-8", "dmy", ("Yes", "No"), "sentence", ("audit_type",)),
    "audit_cases": FileFormat("csv", "utf-8", "iso", ("Yes", "No"), "snake", ("grade",)),
    "audit_actions": FileFormat("csv", "utf-8", "dmy", ("Yes", "No"), "sentence", ("status",)),
    "business_plan_actions": FileFormat("csv", "utf-8", "iso", ("Yes", "No"), "sentence"),
    "case_reviews": FileFormat("csv", "utf-8", "dmy", ("Yes", "No"), "sentence", ("review_type",)),
    "review_actions": FileFormat("csv", "utf-8", "iso", ("Yes", "No"), "snake"),
    "training_attendance": FileFormat("csv", "cp1252", "dmy", ("Yes", "No"), "title", line_terminator="\r\n"),
    "meeting_attendance": FileFormat("csv", "utf-8", "iso", ("Y", "N"), "snake"),
    "communications": FileFormat("csv", "utf-8", "dmy", ("Yes", "No"), "title", ("item_type",)),
    "budget": FileFormat("csv", "utf-8", "iso", ("Yes", "No"), "snake"),
    "escalations": FileFormat("csv", "utf-8", "dmy", ("Yes", "No"), "title"),
    "early_help": FileFormat("csv", "utf-8", "dmy", ("Y", "N"), "title", ("lead_agency", "early_help_outcome")),
    "suspensions_exclusions": FileFormat("xlsx", heading_style="title", labels=("exclusion_category",)),
    "mental_health_referrals": FileFormat("csv", "utf-8-sig", "iso", ("Yes", "No"), "sentence", ("referral_source",)),
}
# The worksheet each agency's workbook holds its rows in.
XLSX_SHEETS = {"health_referrals": "Safeguarding referrals", "suspensions_exclusions": "Suspensions and exclusions"}
# Exports from the council's previous case-management system (before 2022-23): ISO dates and
# sources written as labels.
EARLIER_FORMATS: dict[tuple[str, str], FileFormat] = {
    ("referrals", "2021-22"): replace(
        FILE_FORMATS["referrals"], date_format="iso", labels=("referral_source", "referral_outcome", "abuse_category")
    ),
    ("mash_contacts", "2021-22"): replace(
        FILE_FORMATS["mash_contacts"], date_format="iso", labels=("contact_source", "contact_outcome")
    ),
}
# Aliases that name a different kind of value than the sample writes: 'Referral NFA?' holds
# Annex A's Yes/No, 'NHS number' a health identifier (the sample links on the council id).
UNSUITABLE_ALIASES = {"referral nfa?", "nhs number"}
# Words kept upper case in headings.
ACRONYMS = {
    "id",
    "dob",
    "mh",
    "urn",
    "upn",
    "ppn",
    "dara",
    "dash",
    "nhs",
    "mash",
    "lcs",
    "gbp",
    "sscp",
    "dsp",
    "cp",
    "a&e",
    "gp",
}
SMALL_WORDS = {"of", "to", "and", "at", "in", "the", "for"}

# Annex A (Ofsted) layout of the council's lists.
ANNEX_A_TITLES = {
    "mash_contacts": "Annex A - List 1: Contacts",
    "referrals": "Annex A - List 3: Referrals",
    "cp_plans": "Annex A - List 7: Child protection plans",
    "early_help": "Annex A - List 2: Early help assessments",
}
ANNEX_A_CATEGORY_LABELS = {"MUL": "Multiple/not recommended"}
ANNEX_A_GENDERS = np.array(["a) Male", "b) Female", "c) Not stated"])
ANNEX_A_ETHNICITIES = np.array(["WBRI", "WOTH", "MWBC", "AIND", "APKN", "BCRB", "BAFR", "CHNE", "OOTH", "NOBT"])


# ---------------------------------------------------------------------------------------------
# Public entry point.


def generate_sample(
    out_dir: Path,
    seed: int = 20240331,
    scale: float = 1.0,
    annex_a: bool = False,
    years=("2021-22", "2022-23", "2023-24"),
    config: PartnershipConfig | None = None,
    cin_xml: bool = False,
) -> list[Path]:
    """Write the synthetic raw files for each year under out_dir/<year>/; return the paths written.

    annex_a: the council's contacts, referrals and plans as an Annex A workbook; cin_xml: its
    referrals and plans as a CIN census return (sscp_lib.sample.cin_census_writer), which the clean stage
    prefers to the workbook's lists.
    """
    if not scale > 0:
        raise UserError(f"--scale must be above 0, not {scale}")
    contract = load_contract()
    config = config or load_config()
    out_dir = Path(out_dir)
    reporting_years = sorted(ReportingYear.parse(y) for y in years)
    generator = _Generator(contract, config, int(seed), float(scale), reporting_years)
    census = SampleCensusReturns(generator.pool, ANNEX_A_GENDERS, ANNEX_A_ETHNICITIES) if cin_xml else None
    counts = CouncilHistory() if annex_a else None
    written: list[Path] = []
    for year in reporting_years:
        folder = out_dir / year.label
        _prepare_folder(folder, contract, annex_a, cin_xml)
        # The marker goes first, so a folder left half-written is still known to be the sample's.
        marker = folder / SAMPLE_MARKER
        marker.write_text(
            json.dumps({"synthetic": True, "seed": int(seed), "scale": float(scale), "generator": GENERATOR}, indent=2)
            + "\n",
            encoding="utf-8",
        )
        written.append(marker)
        tables = generator.year_tables(year)
        if counts is not None:
            written.append(_write_annex_a(folder, year, counts.counted(tables), contract, generator.pool))
        if census:
            written.append(census.write(folder, year, tables))
        for name, frame in tables.items():
            dataset = contract.dataset(name)
            if (annex_a and dataset.annex_a) or (census and dataset.cin_census):
                continue
            written.append(
                _write_dataset(
                    folder, contract.dataset(name), frame, contract, generator.pool, generator.rng(year, name, "format")
                )
            )
    return written


def _prepare_folder(folder: Path, contract: Contract, annex_a: bool, cin_xml: bool = False) -> None:
    """Refuse to mix the sample with real exports; remove files of the other council layouts."""
    folder.mkdir(parents=True, exist_ok=True)
    data_files = [
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "_")) and p.suffix != ".md"
    ]
    if data_files and not (folder / SAMPLE_MARKER).exists():
        raise UserError(f"{folder} holds files that are not from the synthetic sample; choose an empty folder")
    council_patterns = [
        ds.file_pattern for ds in contract.datasets.values() if (annex_a and ds.annex_a) or (cin_xml and ds.cin_census)
    ]
    stale = [p for p in data_files if any(p.name.startswith(pat + ".") for pat in council_patterns)]
    if not annex_a:
        stale += [p for p in data_files if p.name.startswith(contract.annex_a["file_pattern"])]
    if not cin_xml:
        stale += [p for p in data_files if p.suffix.lower() == contract.cin_census["suffix"]]
    for path in stale:
        path.unlink()


# ---------------------------------------------------------------------------------------------
# Generation.


def _days(year: ReportingYear) -> np.ndarray:
    return np.arange(np.datetime64(year.start), np.datetime64(year.end) + 1, dtype="datetime64[D]")


def _d(text: str) -> np.datetime64:
    return np.datetime64(text, "D")


def _day_column(values) -> np.ndarray:
    """Dates (np.datetime64, ISO text or None) as a column pandas keeps: datetime64[s], NaT for none."""
    return pd.to_datetime(pd.Series(list(values), dtype=object)).to_numpy().astype("datetime64[s]")


def _year_code(year: ReportingYear) -> str:
    return f"{year.start_year % 100:02d}{(year.start_year + 1) % 100:02d}"


def _numbered(prefix: str, n: int, width: int) -> pd.Series:
    return prefix + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)


def _pick(rng: np.random.Generator, weights: dict, n: int) -> np.ndarray:
    keys = np.array(list(weights.keys()), dtype=object)
    p = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


class _ChildPool:
    """The borough's children: index -> council id, name, date of birth, gender, ethnicity."""

    def __init__(self, size: int, rng: np.random.Generator, born_from: date, born_to: date):
        self.size = size
        self.width = max(6, len(str(size)))
        self.first = rng.integers(0, len(FIRST_NAMES), size, dtype=np.int16)
        self.surname = rng.integers(0, len(SURNAMES), size, dtype=np.int16)
        span = (np.datetime64(born_to) - np.datetime64(born_from)).astype(int)
        self.dob = np.datetime64(born_from) + rng.integers(0, span + 1, size).astype("timedelta64[D]")
        self.gender = rng.choice(len(ANNEX_A_GENDERS), size, p=[0.49, 0.49, 0.02]).astype(np.int8)
        self.ethnicity = rng.choice(
            len(ANNEX_A_ETHNICITIES), size, p=[0.72, 0.04, 0.05, 0.04, 0.04, 0.02, 0.02, 0.01, 0.03, 0.03]
        ).astype(np.int8)

    def ids(self, idx: np.ndarray) -> pd.Series:
        return "SMBC-" + pd.Series(idx + 1).astype(str).str.zfill(self.width)

    def upns(self, idx: np.ndarray) -> pd.Series:
        """Unique Pupil Numbers: a letter, the LA number 334 and nine digits (a bijection of the index)."""
        letters = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
        digits = pd.Series((idx.astype(np.int64) * 7919) % 1_000_000_000).astype(str).str.zfill(9)
        return pd.Series(letters[idx % len(letters)]) + "334" + digits

    def nhs_numbers(self, idx: np.ndarray) -> pd.Series:
        """NHS numbers in the 999 range kept for test data: 999 and seven digits of the index."""
        return "999" + pd.Series(idx + 1).astype(str).str.zfill(7)

    def names(self, idx: np.ndarray) -> pd.Series:
        return pd.Series(FIRST_NAMES[self.first[idx]]) + " " + pd.Series(SURNAMES[self.surname[idx]])


class _Generator:
    def __init__(
        self, contract: Contract, config: PartnershipConfig, seed: int, scale: float, years: list[ReportingYear]
    ):
        self.contract, self.config, self.seed, self.scale, self.years = contract, config, seed, scale, years
        self.as_at = years[-1].end  # the sample is extracted at the end of the latest year
        self.nfa_changeover = np.datetime64(config.data_rule_date("nfa_changeover_date"))
        self.dara_correction = np.datetime64(config.data_rule_date("dara_correction_date"))
        self.multiple_retired = np.datetime64(config.data_rule_date("multiple_category_retired_from"))
        born_to = date.fromordinal(years[0].start.toordinal() - 1)
        born_from = date(years[-1].end.year - 18, 4, 1)  # still under 18 at the end of the latest year
        pool_size = max(int(round(config.child_population * scale)), 1000)
        self.pool = _ChildPool(pool_size, self.rng(None, "child_pool"), born_from, born_to)
        # Plans of the years generated so far (years are generated in order), so that a child
        # does not start a new plan while one is open.
        self.plan_ends: pd.DataFrame = pd.DataFrame(
            {"child": np.array([], dtype=np.int64), "end": np.array([], dtype="datetime64[D]")}
        )

    def rng(self, year: ReportingYear | None, *parts: str) -> np.random.Generator:
        words = [self.seed, year.start_year if year else 0] + [zlib.crc32(p.encode()) for p in parts]
        return np.random.default_rng(np.random.SeedSequence(words))

    def volume(self, name: str, year: ReportingYear) -> int:
        ref = ReportingYear.parse(REFERENCE_YEAR).start_year
        growth = 1 - YEARLY_GROWTH * (ref - year.start_year)
        return max(1, int(round(BASE_VOLUMES[name] * min(max(growth, 0.8), 1.1) * self.scale)))

    def scaled(self, n: float) -> int:
        return max(1, int(round(n * self.scale)))

    # -- child-level council, police and health records ------------------------------------------

    def year_tables(self, year: ReportingYear) -> dict[str, pd.DataFrame]:
        tables = self._child_records(year)
        tables.update(
            {
                "early_help": self._early_help(year, tables),
                "suspensions_exclusions": self._suspensions_exclusions(year, tables),
                "mental_health_referrals": self._mental_health_referrals(year, tables),
            }
        )
        audits, audit_cases, audit_actions = self._audits(year, tables["referrals"]["_child"].to_numpy())
        reviews, review_actions = self._case_reviews(year)
        tables.update(
            {
                "audits": audits,
                "audit_cases": audit_cases,
                "audit_actions": audit_actions,
                "business_plan_actions": self._business_plan(year),
                "case_reviews": reviews,
                "review_actions": review_actions,
                "training_attendance": self._training(year),
                "meeting_attendance": self._meetings(year),
                "communications": self._communications(year, audits),
                "budget": self._budget(year),
                "escalations": self._escalations(year),
            }
        )
        order = list(self.contract.datasets)
        return {name: tables[name] for name in order if name in tables}

    def _dates(self, rng, year: ReportingYear, n: int) -> np.ndarray:
        """Working-day-heavy dates in the year, quieter in August and over Christmas, sorted."""
        days = _days(year)
        weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        weight = np.where(weekday < 5, 1.0, 0.3)
        month = days.astype("datetime64[M]").astype(int) % 12 + 1
        day_of_month = (days - days.astype("datetime64[M]")).astype(int) + 1
        weight = weight * np.where(month == 8, 0.8, 1.0) * np.where((month == 12) & (day_of_month > 20), 0.5, 1.0)
        return np.sort(days[rng.choice(len(days), size=n, p=weight / weight.sum())])

    def _child_records(self, year: ReportingYear) -> dict[str, pd.DataFrame]:
        rng = self.rng(year, "child_records")
        codes = self.contract.code_lists
        end = np.datetime64(year.end)
        yc = _year_code(year)

        # MASH contacts
        n_contacts = self.volume("mash_contacts", year)
        contact_date = self._dates(rng, year, n_contacts)
        window = min(self.scaled(KNOWN_CHILDREN_PER_YEAR), self.pool.size)
        offset = (self.years.index(year) * self.scaled(KNOWN_WINDOW_SHIFT)) % self.pool.size
        child = (offset + rng.integers(0, window, n_contacts)) % self.pool.size
        if set(CONTACT_SOURCE_WEIGHTS) != set(codes["referral_source"].codes):
            raise ValueError("the contract's referral_source codes changed: update the sample's source mix")
        source = _pick(rng, CONTACT_SOURCE_WEIGHTS, n_contacts)

        # Referrals: contacts the MASH progressed, decided the same or the next day.
        n_referrals = min(self.volume("referrals", year), n_contacts)
        progressed = np.sort(rng.choice(n_contacts, size=n_referrals, replace=False))
        referral_date = np.minimum(
            contact_date[progressed] + rng.integers(0, 2, n_referrals).astype("timedelta64[D]"), end
        )
        referral_source = source[progressed].copy()
        spike = self._unknown_spike_months(year)
        if spike:
            # Unknown sources recorded in the spike months; the usual ~1.5% elsewhere.
            in_spike = np.isin(referral_date.astype("datetime64[M]"), spike)
            recoded = in_spike & (rng.random(n_referrals) < 0.16)
            referral_source[recoded] = "10"
            source[progressed[recoded]] = "10"
        outcome = np.empty(n_contacts, dtype=object)
        outcome[:] = _pick(rng, {"EARLY_HELP": 22, "ADVICE_INFO": 48, "CLOSED": 30}, n_contacts)
        outcome[progressed] = "REFERRAL"
        undecided = (contact_date > end - np.timedelta64(3, "D")) & (rng.random(n_contacts) < 0.4)
        outcome[undecided & (outcome != "REFERRAL")] = None
        contacts = pd.DataFrame(
            {
                "contact_id": _numbered(f"CON-{yc}-", n_contacts, 7),
                "_child": child,
                "contact_date": contact_date,
                "contact_source": source,
                "contact_outcome": outcome,
            }
        )

        referral_outcome = _pick(rng, {"ASSESSMENT": 50, "S47": 13, "EARLY_HELP": 7, "NFA": 30}, n_referrals)
        referral_outcome[(referral_outcome == "NFA") & (referral_date >= self.nfa_changeover)] = "ADVICE_INFO"
        category = _pick(rng, {"NEG": 46, "EMO": 34, "PHY": 17, "SAB": 3}, n_referrals)
        category[rng.random(n_referrals) < 0.35] = None
        from_police = referral_source == "6"
        da = rng.random(n_referrals) < np.where(from_police, 0.45, 0.18)
        da_flag = pd.array(da, dtype="boolean")
        da_flag[rng.random(n_referrals) < 0.03] = pd.NA
        referrals = pd.DataFrame(
            {
                "referral_id": _numbered(f"REF-{yc}-", n_referrals, 6),
                "_child": child[progressed],
                "referral_date": referral_date,
                "referral_source": referral_source,
                "referral_outcome": referral_outcome,
                "abuse_category": category,
                "domestic_abuse": da_flag,
            }
        )

        police = self._police_referrals(rng, year, contact_date, child, source)
        health = self._health_referrals(rng, year, contact_date, child, source)
        return {
            "mash_contacts": contacts,
            "referrals": referrals,
            "police_referrals": police,
            "health_referrals": health,
            "cp_plans": self._cp_plans(rng, year, referrals),
        }

    def _police_referrals(self, rng, year: ReportingYear, contact_date, child, source) -> pd.DataFrame:
        """Police referrals (PPNs): the police contacts, sent the same day."""
        police_rows = np.flatnonzero(source == "6")
        n_police = min(self.volume("police_referrals", year), len(police_rows))
        chosen = np.sort(rng.choice(police_rows, size=n_police, replace=False))
        p_date = contact_date[chosen]
        p_da = rng.random(n_police) < 0.45
        dara_rate = np.where(p_date < self.dara_correction, 0.35, 0.90)
        dara = pd.array(p_da & (rng.random(n_police) < dara_rate), dtype="boolean")
        dara_col = self.contract.dataset("police_referrals").column("dara_submitted")
        if dara_col.nullable:  # the form does not apply to other referrals: often left blank
            dara[(~p_da) & (rng.random(n_police) < 0.7)] = pd.NA
        risk = np.where(
            p_da,
            _pick(rng, {"STANDARD": 55, "MEDIUM": 33, "HIGH": 12}, n_police),
            _pick(rng, {"STANDARD": 80, "MEDIUM": 17, "HIGH": 3}, n_police),
        ).astype(object)
        risk[rng.random(n_police) < 0.02] = None
        police = pd.DataFrame(
            {
                "police_referral_id": _numbered(f"PPN/{year.start_year % 100:02d}/", n_police, 7),
                "_child": child[chosen],
                "referral_date": p_date,
                "domestic_abuse": p_da,
                "dara_submitted": dara,
                "risk_level": risk,
            }
        )
        return police

    def _health_referrals(self, rng, year: ReportingYear, contact_date, child, source) -> pd.DataFrame:
        """Health referrals: the contacts from health sources."""
        codes = self.contract.code_lists
        yc = _year_code(year)
        health_group = set(codes["referral_source"].groups["HEALTH"])
        health_rows = np.flatnonzero(np.isin(source, list(health_group)))
        n_health = min(self.volume("health_referrals", year), len(health_rows))
        chosen = np.sort(rng.choice(health_rows, size=n_health, replace=False))
        concern = _pick(rng, {"NEG": 40, "EMO": 25, "PHY": 20, "SAB": 5}, n_health)
        concern[rng.random(n_health) < 0.1] = None
        provider = HEALTH_PROVIDERS[rng.choice(len(HEALTH_PROVIDERS), n_health, p=[0.3, 0.3, 0.2, 0.1, 0.1])]
        # The planted shift's extra referrals come from a generator of their own, so the draws
        # above, and every table made after them, are what they were without it.
        extra = self._health_shift_extra(year, contact_date, health_rows, chosen)
        if len(extra):
            shift_rng = self.rng(year, "health_shift")
            extra_concern = _pick(shift_rng, {"NEG": 40, "EMO": 25, "PHY": 20, "SAB": 5}, len(extra))
            extra_provider = HEALTH_PROVIDERS[
                shift_rng.choice(len(HEALTH_PROVIDERS), len(extra), p=[0.3, 0.3, 0.2, 0.1, 0.1])
            ]
            order = np.argsort(np.concatenate([chosen, extra]), kind="stable")
            chosen = np.concatenate([chosen, extra])[order]
            concern = np.concatenate([concern, extra_concern])[order]
            provider = np.concatenate([provider, extra_provider])[order]
        health = pd.DataFrame(
            {
                "health_referral_id": _numbered(f"HR-{yc}-", len(chosen), 6),
                "_child": child[chosen],
                "referral_date": contact_date[chosen],
                "provider": provider,
                "concern_category": concern,
            }
        )
        return health

    def _health_shift_extra(self, year: ReportingYear, contact_date, health_rows, chosen) -> np.ndarray:
        """The planted special-cause signal: health referrals about a third higher for the eight
        months of the HEALTH_SHIFT_MONTHS (a new named-GP safeguarding lead, say), then back to
        their usual level. The statement reads no health referrals, so its figures are unchanged;
        the dashboard's XmR chart of health referrals should find it. Returns the indices of the
        health contacts that also became referrals in those months."""
        if year.label != REFERENCE_YEAR:
            return np.array([], dtype=np.int64)
        first, last = (np.datetime64(m, "M") for m in HEALTH_SHIFT_MONTHS)
        months = contact_date.astype("datetime64[M]")
        in_shift = (months[health_rows] >= first) & (months[health_rows] <= last)
        candidates = np.setdiff1d(health_rows[in_shift], chosen)
        already = int(np.isin(chosen, health_rows[in_shift]).sum())
        wanted = min(len(candidates), round(already * HEALTH_SHIFT_RISE))
        return np.sort(self.rng(year, "health_shift_rows").choice(candidates, size=wanted, replace=False))

    def _unknown_spike_months(self, year: ReportingYear) -> list[np.datetime64]:
        if year.label != REFERENCE_YEAR:
            return []
        return [np.datetime64("2023-10", "M"), np.datetime64("2023-11", "M")]

    def _cp_plans(self, rng, year: ReportingYear, referrals: pd.DataFrame) -> pd.DataFrame:
        """Plans start 10-20 days after a section 47 referral and last 6 to 18 months."""
        end = np.datetime64(year.end)
        target = self.volume("cp_plans", year)
        ranked = referrals.assign(
            _rank=np.where(
                referrals["referral_outcome"] == "S47", 0, np.where(referrals["referral_outcome"] == "ASSESSMENT", 1, 2)
            ),
            _random=rng.random(len(referrals)),
        )
        ranked = ranked[ranked["referral_date"] <= end - np.timedelta64(20, "D")]
        ranked = ranked.sort_values(["_rank", "_random"]).drop_duplicates("_child")
        ranked = ranked.assign(
            start=ranked["referral_date"] + pd.to_timedelta(rng.integers(10, 21, len(ranked)), unit="D")
        )
        # A child does not start a plan while an earlier plan is still open.
        previous = self.plan_ends.groupby("child", as_index=False)["end"].max()
        ranked = ranked.merge(
            previous.rename(columns={"child": "_child", "end": "_previous_end"}), on="_child", how="left"
        )
        ranked = ranked[ranked["_previous_end"].isna() | (ranked["_previous_end"] < ranked["start"])]
        plans = ranked.head(target).sort_values(["start", "_child"]).reset_index(drop=True)
        n = len(plans)
        start = plans["start"].to_numpy().astype("datetime64[D]")
        finish = start + rng.integers(182, 549, n).astype("timedelta64[D]")
        known_end = np.where(finish <= np.datetime64(self.as_at), finish, np.datetime64("NaT"))
        before_retirement = start < self.multiple_retired
        initial = np.where(
            before_retirement,
            _pick(rng, {"NEG": 46, "EMO": 31, "PHY": 10, "SAB": 3.5, "MUL": 9.5}, n),
            _pick(rng, {"NEG": 51, "EMO": 34, "PHY": 11, "SAB": 4}, n),
        ).astype(object)
        single = _pick(rng, {"NEG": 51, "EMO": 34, "PHY": 11, "SAB": 4}, n)
        latest = initial.copy()
        changed = rng.random(n) < 0.12
        latest[changed] = single[changed]
        # Plans with the retired category still open when it was removed were recategorised.
        reclassified = (initial == "MUL") & ~(finish < self.multiple_retired)
        latest[reclassified] = single[reclassified]
        self.plan_ends = pd.concat(
            [self.plan_ends, pd.DataFrame({"child": plans["_child"].to_numpy(), "end": finish})], ignore_index=True
        )
        return pd.DataFrame(
            {
                "cp_plan_id": _numbered(f"CPP-{_year_code(year)}-", n, 5),
                "_child": plans["_child"].to_numpy(),
                "cp_plan_start_date": start,
                "cp_plan_end_date": known_end,
                "initial_category": initial,
                "latest_category": latest,
            }
        )

    # -- early help, schools and children's mental health ------------------------------------------

    def _school_age(self, child: np.ndarray, on: date, low: int, high: int) -> np.ndarray:
        """Which of `child` are aged low..high (whole years) on a day."""
        age = (np.datetime64(on) - self.pool.dob[child]).astype(np.int64) / 365.25
        return (age >= low) & (age < high + 1)

    def _early_help(self, year: ReportingYear, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """Assessments after a referral stepped down to early help, after a contact the MASH passed to
        early help, and for children who came through a school or health visitor, not the front door."""
        rng = self.rng(year, "early_help")
        end, as_at = np.datetime64(year.end), np.datetime64(self.as_at)
        contacts, referrals = tables["mash_contacts"], tables["referrals"]
        target = self.volume("early_help", year)
        down = referrals[
            (referrals["referral_outcome"] == "EARLY_HELP").to_numpy() & (rng.random(len(referrals)) < 0.75)
        ]
        from_mash = contacts[(contacts["contact_outcome"] == "EARLY_HELP").to_numpy()]
        n_mash = min(int(target * 0.5), len(from_mash))
        from_mash = from_mash.iloc[np.sort(rng.choice(len(from_mash), n_mash, replace=False))]
        n_other = max(target - len(down) - n_mash, 0)
        child = np.concatenate(
            [down["_child"].to_numpy(), from_mash["_child"].to_numpy(), rng.integers(0, self.pool.size, n_other)]
        )
        after = np.concatenate(
            [
                down["referral_date"].to_numpy().astype("datetime64[D]") + rng.integers(3, 45, len(down)),
                from_mash["contact_date"].to_numpy().astype("datetime64[D]") + rng.integers(1, 30, n_mash),
                self._dates(rng, year, n_other),
            ]
        ).astype("datetime64[D]")
        keep = after <= end
        child, start = child[keep], after[keep]
        order = np.argsort(start, kind="stable")
        child, start = child[order], start[order]
        n = len(child)
        completed = start + rng.integers(10, 50, n).astype("timedelta64[D]")
        completed = np.where((completed <= as_at) & (rng.random(n) > 0.05), completed, np.datetime64("NaT"))
        # Support follows the assessment for two to seven months; the outcome is known once it ends.
        closed = completed + rng.integers(60, 210, n).astype("timedelta64[D]")
        ended = ~np.isnat(completed) & (closed <= as_at)
        referral_dates = referrals.groupby("_child")["referral_date"].apply(list)
        stepped_up = np.array(
            [
                any(s < np.datetime64(d, "D") <= s + np.timedelta64(182, "D") for d in referral_dates.get(c, []))
                for c, s in zip(child, start)
            ],
            dtype=bool,
        )
        outcome = np.where(
            stepped_up & (rng.random(n) < 0.85),
            "STEPPED_UP",
            _pick(rng, {"CLOSED": 72, "STEPPED_DOWN": 26, "STEPPED_UP": 2}, n),
        ).astype(object)
        outcome[~ended] = None
        return pd.DataFrame(
            {
                "early_help_id": _numbered(f"EHA-{_year_code(year)}-", n, 5),
                "_child": child,
                "assessment_start_date": start,
                "assessment_completion_date": completed,
                "lead_agency": _pick(rng, {"COUNCIL": 38, "EDUCATION": 36, "HEALTH": 18, "VCS": 8}, n),
                "early_help_outcome": outcome,
            }
        )

    def _school_days(self, year: ReportingYear) -> tuple[np.ndarray, np.ndarray]:
        """Term days of the reporting year (weekdays outside the holidays and half terms) and how
        likely a suspension is on each: more as each term goes on, fewest in the summer term."""
        days = _days(year)
        weekday = (days.astype(np.int64) + 3) % 7
        month = days.astype("datetime64[M]").astype(int) % 12 + 1
        day = (days - days.astype("datetime64[M]")).astype(int) + 1
        md = month * 100 + day
        holiday = (
            (md >= 722) & (md <= 903)  # summer
            | (md >= 1221)
            | (md <= 103)  # Christmas
            | ((md >= 329) & (md <= 412))  # Easter
            | ((md >= 1023) & (md <= 1031))  # October half term
            | ((md >= 212) & (md <= 218))  # February half term
            | ((md >= 527) & (md <= 602))  # May half term
        )
        term = (weekday < 5) & ~holiday
        # Summer term quieter (exams, Year 11 leaving); autumn busiest once it is under way.
        weight = np.select([(month >= 9) & (month <= 12), month <= 3], [1.25, 1.1], 0.8)
        return days[term], weight[term]

    def _suspensions_exclusions(self, year: ReportingYear, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """Suspensions in term time, mostly of secondary-age pupils; some pupils suspended several
        times; a share of the children are known to children's social care, some on a plan."""
        rng = self.rng(year, "suspensions_exclusions")
        target = self.volume("suspensions_exclusions", year)
        n_children = max(1, int(round(target / 1.8)))
        on = year.start
        plans = np.unique(tables["cp_plans"]["_child"].to_numpy())
        plans = plans[self._school_age(plans, on, 5, 15)]
        on_plan = plans[rng.random(len(plans)) < 0.3]
        known = np.unique(tables["mash_contacts"]["_child"].to_numpy())
        known = known[self._school_age(known, on, 5, 15)]
        n_known = min(int(n_children * 0.3), len(known))
        known = rng.choice(known, n_known, replace=False)
        others = rng.integers(0, self.pool.size, n_children * 3)
        others = others[self._school_age(others, on, 5, 15)][: max(n_children - len(on_plan) - n_known, 0)]
        pupils = np.unique(np.concatenate([on_plan, known, others]))
        times = rng.geometric(0.55, len(pupils))
        child = np.repeat(pupils, times)
        n = len(child)
        term_days, weight = self._school_days(year)
        start = term_days[rng.choice(len(term_days), n, p=weight / weight.sum())]
        order = np.lexsort((child, start))
        child, start = child[order], start[order]
        category = _pick(rng, {"FIXD": 96.5, "LNCH": 2.3, "PERM": 1.2}, n).astype(object)
        sessions = pd.array(
            _pick(rng, {1: 12, 2: 38, 3: 12, 4: 12, 5: 6, 6: 7, 8: 5, 10: 5, 16: 2, 20: 1}, n).astype(np.int64),
            dtype="Int64",
        )
        sessions[category == "LNCH"] = 1
        sessions[category == "PERM"] = pd.NA
        reason = _pick(
            rng,
            {
                "PD": 36,
                "VA": 12,
                "PP": 10,
                "VP": 8,
                "PA": 7,
                "DM": 4,
                "DA": 4,
                "OW": 3,
                "BU": 3,
                "RA": 2,
                "SM": 2,
                "MT": 3,
                "TH": 2,
                "LG": 1,
                "DS": 1,
                "WP": 0.5,
            },
            n,
        )
        secondary = np.array([f"{u}" for u in (136450, 136471, 137012, 137208, 138566, 139871, 140024, 141155)])
        primary = np.array([f"{104100 + 13 * k}" for k in range(30)])
        secondary_age = self._school_age(child, on, 11, 15)
        school = np.where(secondary_age, secondary[child % len(secondary)], primary[child % len(primary)])
        return pd.DataFrame(
            {
                "exclusion_id": _numbered(f"EIS-{_year_code(year)}-", n, 5),
                "_child": child,
                "school_urn": school,
                "exclusion_category": category,
                "start_date": start,
                "exclusion_reason": reason,
                "sessions": sessions,
            }
        )

    def _mental_health_referrals(self, year: ReportingYear, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """Referrals through the year (fewer in August), some after a referral to social care;
        about seven in ten accepted; waits with a long tail, some still waiting at the extract."""
        rng = self.rng(year, "mental_health_referrals")
        end, as_at = np.datetime64(year.end), np.datetime64(self.as_at)
        target = self.volume("mental_health_referrals", year)
        referrals = tables["referrals"]
        n_after = min(int(target * 0.1), len(referrals))
        rows = np.sort(rng.choice(len(referrals), n_after, replace=False))
        after_child = referrals["_child"].to_numpy()[rows]
        after_date = referrals["referral_date"].to_numpy().astype("datetime64[D]")[rows] + rng.integers(
            14, 300, n_after
        )
        after_child, after_date = after_child[after_date <= end], after_date[after_date <= end]
        known = np.unique(tables["mash_contacts"]["_child"].to_numpy())
        n_known = int(target * 0.15)
        n_other = max(target - len(after_child) - n_known, 0)
        others = rng.integers(0, self.pool.size, n_other * 2)
        others = others[self._school_age(others, year.start, 4, 16)][:n_other]
        child = np.concatenate([after_child, rng.choice(known, n_known), others])
        received = np.concatenate([after_date, self._dates(rng, year, len(child) - len(after_child))]).astype(
            "datetime64[D]"
        )
        order = np.argsort(received, kind="stable")
        child, received = child[order], received[order]
        from_care = order < len(after_child)  # sorted rows that came after a social care referral
        n = len(child)
        source = np.where(
            from_care & (rng.random(n) < 0.4),
            "SOCIAL_CARE",
            _pick(
                rng, {"GP": 35, "SCHOOL": 27, "SELF_OR_FAMILY": 12, "OTHER_HEALTH": 14, "SOCIAL_CARE": 5, "OTHER": 7}, n
            ),
        ).astype(object)
        accepted = rng.random(n) < 0.7
        wait = np.round(rng.lognormal(np.log(42), 0.8, n)).astype(np.int64) + 1
        wait[rng.random(n) < 0.03] += rng.integers(150, 300)
        first = received + wait.astype("timedelta64[D]")
        first = np.where(accepted & (first <= as_at), first, np.datetime64("NaT"))
        reason = _pick(
            rng,
            {
                "ANXIETY": 30,
                "LOW_MOOD": 20,
                "SELF_HARM": 12,
                "NEURODEVELOPMENTAL": 15,
                "EATING_DISORDER": 5,
                "BEHAVIOUR": 8,
                "TRAUMA": 5,
                "OTHER": 5,
            },
            n,
        ).astype(object)
        reason[rng.random(n) < 0.12] = None
        return pd.DataFrame(
            {
                "mh_referral_id": _numbered(f"SOLAR-{_year_code(year)}-", n, 5),
                "_child": child,
                "referral_date": received,
                "referral_source": source,
                "accepted": accepted,
                "first_appointment_date": first,
                "referral_reason": reason,
            }
        )

    # -- partnership records (SSCP support hub) --------------------------------------------------

    def _audits(self, year: ReportingYear, referral_children: np.ndarray):
        rng = self.rng(year, "audits")
        # Actions have their own stream: their number must not depend on the scaled case counts.
        action_rng = self.rng(year, "audit_actions")
        yc = _year_code(year)
        y0 = year.start_year
        programmes = {
            2021: [
                ("DOMESTIC_ABUSE", "MULTI_AGENCY", "Domestic abuse and the child's lived experience", "06-16", 10),
                ("NEGLECT", "MULTI_AGENCY", "Neglect: recognition and response", "09-22", 9),
                ("EARLY_HELP", "MULTI_AGENCY", "Step-down to early help", "12-09", 8),
                ("EXPLOITATION", "MULTI_AGENCY", "Children at risk of exploitation", "03-10", 7),
            ],
            2022: [
                ("NEGLECT", "MULTI_AGENCY", "Neglect: chronic and cumulative harm", "05-19", 8),
                ("EARLY_HELP", "MULTI_AGENCY", "Early help assessments", "07-14", 7),
                ("MASH", "DIP_SAMPLE", "MASH threshold decisions dip sample", "10-13", 16),
                ("VOICE_OF_CHILD", "MULTI_AGENCY", "Voice of the child in assessments", "01-19", 8),
                ("OTHER", "MULTI_AGENCY", "Disabled children and safeguarding", "03-16", 6),
            ],
            2023: [
                ("NEGLECT", "MULTI_AGENCY", "Neglect: use of the continuum of tools", "05-18", 8),
                ("DOMESTIC_ABUSE", "MULTI_AGENCY", "Domestic abuse: multi-agency response", "07-13", 8),
                ("VOICE_OF_CHILD", "MULTI_AGENCY", "Voice of the child in plans", "09-14", 8),
                ("SUPERVISION", "MULTI_AGENCY", "Supervision of frontline practitioners", "11-16", 7),
                ("EXPLOITATION", "MULTI_AGENCY", "Child exploitation: contextual safeguarding", "01-18", 8),
                (
                    "DOMESTIC_ABUSE",
                    "DIP_SAMPLE",
                    "MASH dip sample: police domestic abuse referrals and DARA forms",
                    "02-22",
                    18,
                ),
            ],
        }
        topics = list(self.contract.code_lists["audit_topic"].codes)
        programme = programmes.get(y0) or [
            (t, "MULTI_AGENCY", f"{self.contract.code_lists['audit_topic'].codes[t]} audit", f"{m:02d}-15", 8)
            for t, m in zip(rng.choice(topics[:5], 4, replace=False), (5, 8, 11, 2))
        ]
        rows, cases, actions = [], [], []
        grade_weights = {
            2021: {"OUTSTANDING": 4, "GOOD": 40, "REQUIRES_IMPROVEMENT": 42, "INADEQUATE": 14},
            2022: {"OUTSTANDING": 6, "GOOD": 45, "REQUIRES_IMPROVEMENT": 38, "INADEQUATE": 11},
        }
        grades = grade_weights.get(y0, {"OUTSTANDING": 8, "GOOD": 52, "REQUIRES_IMPROVEMENT": 33, "INADEQUATE": 7})
        end = np.datetime64(year.end)
        for i, (topic, kind, title, month_day, base_cases) in enumerate(programme, start=1):
            month = int(month_day[:2])
            audit_date = _d(f"{y0 if month >= 4 else y0 + 1}-{month_day}")
            audit_id = f"AUD-{yc}-{i:02d}"
            n_cases = min(self.scaled(base_cases), 500)
            brief = min(audit_date + np.timedelta64(int(rng.integers(21, 50)), "D"), end)
            # One early audit had no learning brief; briefs became routine later.
            if y0 == 2021 and i == 1:
                brief = np.datetime64("NaT")
            rows.append(
                {
                    "audit_id": audit_id,
                    "audit_title": title,
                    "topic": topic,
                    "audit_type": kind,
                    "audit_date": audit_date,
                    "cases_audited": n_cases,
                    "learning_brief_date": brief,
                }
            )
            width = max(3, len(str(n_cases)))
            cases.append(
                pd.DataFrame(
                    {
                        "audit_case_id": _numbered(f"{audit_id}-C", n_cases, width),
                        "audit_id": audit_id,
                        "_child": rng.choice(referral_children, n_cases, replace=len(referral_children) < n_cases),
                        "audit_date": audit_date,
                        "grade": _pick(rng, grades, n_cases),
                    }
                )
            )
            for j in range(int(action_rng.integers(3, 6))):
                raised = min(audit_date + np.timedelta64(int(action_rng.integers(7, 21)), "D"), end)
                due = min(raised + np.timedelta64(int(action_rng.integers(42, 100)), "D"), end)
                actions.append(
                    {
                        "audit_id": audit_id,
                        "raised_date": raised,
                        "due_date": due,
                        "action": AUDIT_ACTIONS[(i * 7 + j) % len(AUDIT_ACTIONS)].format(
                            topic=title.split(":")[0].lower()
                        ),
                        "owner_agency": ["COUNCIL", "POLICE", "HEALTH", "EDUCATION", "SSCP"][(i + j) % 5],
                    }
                )
        audits = pd.DataFrame(rows)
        audits["audit_date"] = _day_column(audits["audit_date"])
        audits["learning_brief_date"] = _day_column(audits["learning_brief_date"])
        audit_actions = pd.DataFrame(actions)
        audit_actions.insert(0, "audit_action_id", [f"AA-{yc}-{k:03d}" for k in range(1, len(actions) + 1)])
        # At year end: most done on time; in the reference year two late and two still overdue.
        n = len(audit_actions)
        late_n, overdue_n = (2, 2) if year.label == REFERENCE_YEAR else (max(1, n // 6), 1)
        order = action_rng.permutation(n)
        status = np.full(n, "COMPLETE", dtype=object)
        raised, due = audit_actions["raised_date"].to_numpy(), audit_actions["due_date"].to_numpy()
        completed = raised + ((due - raised) * action_rng.uniform(0.3, 1.0, n)).astype("timedelta64[D]")
        # Late and overdue actions are taken from those due well before year end.
        eligible = [k for k in order if due[k] <= end - np.timedelta64(30, "D")]
        for k in eligible[:late_n]:
            completed[k] = due[k] + np.timedelta64(int(action_rng.integers(5, 29)), "D")
        for k in eligible[late_n : late_n + overdue_n]:
            status[k], completed[k] = "OPEN", np.datetime64("NaT")
        audit_actions["completed_date"] = completed
        audit_actions["status"] = status
        audit_actions = audit_actions[
            [
                "audit_action_id",
                "audit_id",
                "action",
                "owner_agency",
                "raised_date",
                "due_date",
                "completed_date",
                "status",
            ]
        ]
        return audits, pd.concat(cases, ignore_index=True), audit_actions

    def _business_plan(self, year: ReportingYear) -> pd.DataFrame:
        rng = self.rng(year, "business_plan")
        yc = _year_code(year)
        # (source, workstream, priority, lead agency, actions, complete, delayed)
        plans = {
            2021: [
                ("IPBP", "Neglect", "NEGLECT", "COUNCIL", 10, 7, 2),
                ("IPBP", "Early Help", "EARLY_HELP", "COUNCIL", 10, 8, 1),
                ("IPBP", "Inspection and Peer Review Findings", "INSPECTION_FINDINGS", "POLICE", 8, 6, 2),
                ("IPBP", "Governance and Partnership Working", "NONE", "SSCP", 8, 7, 1),
                ("INSPECTION", "Inspection and Peer Review Findings", "INSPECTION_FINDINGS", "COUNCIL", 4, 3, 1),
                ("SCRUTINEER", "Independent Scrutiny", "NONE", "SSCP", 3, 2, 1),
            ],
            2022: [
                ("IPBP", "Neglect", "NEGLECT", "COUNCIL", 12, 10, 2),
                ("IPBP", "Early Help", "EARLY_HELP", "COUNCIL", 11, 9, 1),
                ("IPBP", "Inspection and Peer Review Findings", "INSPECTION_FINDINGS", "POLICE", 9, 7, 2),
                ("IPBP", "Learning and Improvement", "NONE", "SSCP", 8, 7, 1),
                ("JTAI", "JTAI Recommendations", "INSPECTION_FINDINGS", "POLICE", 4, 3, 1),
                ("NATIONAL_PANEL", "National Panel Recommendations", "INSPECTION_FINDINGS", "COUNCIL", 3, 2, 1),
                ("SCRUTINEER", "Independent Scrutiny", "NONE", "SSCP", 4, 3, 1),
            ],
            2023: [
                ("IPBP", "Neglect", "NEGLECT", "COUNCIL", 18, 18, 0),
                ("IPBP", "Early Help", "EARLY_HELP", "COUNCIL", 14, 13, 1),
                ("IPBP", "Inspection and Peer Review Findings", "INSPECTION_FINDINGS", "HEALTH", 10, 8, 1),
                ("IPBP", "Learning and Improvement", "NONE", "SSCP", 4, 4, 0),
                ("IPBP", "Workforce Development", "NONE", "POLICE", 4, 3, 1),
                ("JTAI", "JTAI Recommendations", "INSPECTION_FINDINGS", "POLICE", 6, 6, 0),
                ("NATIONAL_PANEL", "National Panel Recommendations", "INSPECTION_FINDINGS", "COUNCIL", 4, 4, 0),
                ("SCRUTINEER", "Independent Scrutiny", "NONE", "SSCP", 5, 5, 0),
            ],
        }
        plan = plans.get(year.start_year) or plans[2023]
        leads = ["COUNCIL", "POLICE", "HEALTH"]
        # Any: numpy's stubs cannot follow datetime64 arithmetic through min() and max().
        end: Any = np.datetime64(year.end)
        start: Any = np.datetime64(year.start)
        rows: list[dict] = []
        for source, workstream, priority, lead, n, n_complete, n_delayed in plan:
            for k in range(n):
                due = start + np.timedelta64(int(rng.integers(30, 365)), "D")
                if source == "NATIONAL_PANEL" and year.label == REFERENCE_YEAR:
                    due = min(due, _d("2023-12-15"))  # action plan shared with the Leader in December 2023
                raised = due - np.timedelta64(int(rng.integers(60, 300)), "D")
                status = "COMPLETE" if k < n_complete else ("DELAYED" if k < n_complete + n_delayed else "ON_TRACK")
                completed = (
                    due - np.timedelta64(int(rng.integers(0, 40)), "D")
                    if status == "COMPLETE"
                    else np.datetime64("NaT")
                )
                if status == "ON_TRACK":
                    due = end  # still in progress on the last day of the year
                response = np.datetime64("NaT")
                if source == "SCRUTINEER":
                    raised = start + np.timedelta64(int(rng.integers(10, 250)), "D")
                    response = raised + np.timedelta64(int(rng.integers(14, 36)), "D")
                    due = max(due, response + np.timedelta64(int(rng.integers(20, 60)), "D"))
                    due = min(due, end)
                    if status == "COMPLETE":
                        completed = min(due, response + np.timedelta64(int(rng.integers(7, 30)), "D"))
                rows.append(
                    {
                        "source": source,
                        "workstream": workstream,
                        "priority": priority,
                        "lead_agency": lead if k % 3 else leads[(k // 3) % 3],
                        "action": PLAN_ACTIONS[(len(rows) * 5) % len(PLAN_ACTIONS)].format(
                            workstream=workstream.lower()
                        ),
                        "raised_date": raised,
                        "due_date": due,
                        "status": status,
                        "completed_date": completed,
                        "response_date": response,
                    }
                )
        frame = pd.DataFrame(rows)
        frame = frame.iloc[rng.permutation(len(frame))].sort_values("due_date", kind="stable").reset_index(drop=True)
        frame.insert(0, "plan_action_id", [f"BP-{yc}-{k:03d}" for k in range(1, len(frame) + 1)])
        for col in ("raised_date", "due_date", "completed_date", "response_date"):
            frame[col] = _day_column(frame[col])
        return frame

    def _case_reviews(self, year: ReportingYear):
        rng = self.rng(year, "case_reviews")
        reviews = _reviews_of(year)
        frame = pd.DataFrame([{k: v for k, v in r.items() if k != "actions"} for r in reviews])
        for col in ("incident_date", "review_start_date", "notification_date", "published_date"):
            frame[col] = _day_column(frame[col])
        # Actions are raised when a rapid review reports or a CSPR is published: a CSPR started
        # in one year and published in the next has its actions in the later year.
        start, end = np.datetime64(year.start), np.datetime64(year.end)
        as_at = np.datetime64(self.as_at)
        owners = ["COUNCIL", "POLICE", "HEALTH", "EDUCATION", "SSCP"]
        earlier = [r for y in self.years if y <= year for r in _reviews_of(y)]
        actions: list[dict] = []
        for review in earlier:
            if review["review_type"] == "CSPR":
                if review["published_date"] is None:
                    continue
                raised = _d(review["published_date"]) + np.timedelta64(14, "D")
            else:
                raised = _d(review["review_start_date"]) + np.timedelta64(21, "D")
            if not start <= raised <= end:
                continue
            n = review["actions"]
            for k in range(n):
                due = raised + np.timedelta64(int(rng.integers(60, 200)), "D")
                # The action log is extracted at the end of the latest year: actions due by then are done.
                done = bool(due <= as_at or k == 0)
                # One CSPR action due in the reference year is still open at its end.
                if year.label == REFERENCE_YEAR and review["review_type"] == "CSPR" and k == n - 1:
                    due, done = min(due, end - np.timedelta64(40, "D")), False
                completed = (
                    min(raised + np.timedelta64(int(rng.integers(20, 120)), "D"), due, as_at)
                    if done
                    else np.datetime64("NaT")
                )
                actions.append(
                    {
                        "review_id": review["review_id"],
                        "action": REVIEW_ACTIONS[(len(actions) * 3 + k) % len(REVIEW_ACTIONS)],
                        "owner_agency": owners[(k + len(actions)) % len(owners)],
                        "raised_date": raised,
                        "due_date": due,
                        "completed_date": completed,
                        "status": "COMPLETE" if done else "OPEN",
                    }
                )
        columns = ["review_id", "action", "owner_agency", "raised_date", "due_date", "completed_date", "status"]
        review_actions = pd.DataFrame(actions, columns=columns)
        review_actions.insert(
            0, "review_action_id", [f"RA-{_year_code(year)}-{k:03d}" for k in range(1, len(review_actions) + 1)]
        )
        for col in ("raised_date", "due_date", "completed_date"):
            review_actions[col] = _day_column(review_actions[col])
        return frame, review_actions

    def _training(self, year: ReportingYear) -> pd.DataFrame:
        rng = self.rng(year, "training")
        per_quarter = TRAINING_ATTENDED_BY_QUARTER.get(year.label, (170, 160, 200, 180))
        days = _days(year)
        weekday = (days.astype(np.int64) + 3) % 7
        quarter = np.minimum(
            (days.astype("datetime64[M]").astype(int) - np.datetime64(year.start, "M").astype(int)) // 3, 3
        )
        frames = []
        for q, attended_n in enumerate(per_quarter):
            attended_n = self.scaled(attended_n)
            no_show = int(round(attended_n * 0.07))
            total = attended_n + no_show
            candidates = days[(quarter == q) & (weekday < 5)]
            n_sessions = max(1, -(-total // 18))
            session_day = np.sort(rng.choice(candidates, n_sessions, replace=len(candidates) < n_sessions))
            module_weights = np.ones(len(TRAINING_MODULES))
            if year.label == REFERENCE_YEAR:
                module_weights[list(TRAINING_MODULES).index("Sexual Abuse")] = 2.0  # heavily promoted
            session_module = TRAINING_MODULES[
                rng.choice(len(TRAINING_MODULES), n_sessions, p=module_weights / module_weights.sum())
            ]
            session = rng.integers(0, n_sessions, total)
            attended = np.zeros(total, dtype=bool)
            attended[rng.permutation(total)[:attended_n]] = True
            frames.append(
                pd.DataFrame(
                    {"course_date": session_day[session], "module": session_module[session], "attended": attended}
                )
            )
        frame = (
            pd.concat(frames, ignore_index=True)
            .sort_values(["course_date", "module"], kind="stable")
            .reset_index(drop=True)
        )
        n = len(frame)
        first = FIRST_NAMES[rng.integers(0, len(FIRST_NAMES), n)]
        first[0] = "Zoë"  # every file carries a name that needs its encoding
        surname = SURNAMES[rng.integers(0, len(SURNAMES), n)]
        agency = _pick(
            rng, {"COUNCIL": 30, "HEALTH": 25, "EDUCATION": 22, "POLICE": 10, "VCS": 8, "PROBATION": 3, "OTHER": 2}, n
        )
        local = (
            pd.Series([_ascii(f) for f in first]).str.lower()
            + "."
            + pd.Series([_ascii(s) for s in surname]).str.lower()
        )
        frame.insert(0, "attendance_id", _numbered(f"TRN-{_year_code(year)}-", n, 6))
        frame.insert(1, "attendee_name", pd.Series(first) + " " + pd.Series(surname))
        frame.insert(2, "attendee_email", local + "@" + pd.Series(agency).map(ATTENDEE_DOMAINS))
        frame.insert(5, "attendee_agency", agency)
        return frame

    def _meetings(self, year: ReportingYear) -> pd.DataFrame:
        rng = self.rng(year, "meetings")
        agencies = list(self.contract.code_lists["agency"].codes)
        series = {  # months of the year (1 = April) and expected agencies
            "ARG": (range(1, 13), agencies),
            "EXECUTIVE": ((1, 3, 5, 7, 9, 11), ["COUNCIL", "POLICE", "HEALTH", "EDUCATION", "SSCP"]),
            "AUDIT": ((2, 5, 8, 11), ["COUNCIL", "POLICE", "HEALTH", "EDUCATION", "SSCP"]),
            "EDUCATION": ((2, 6, 10), ["EDUCATION", "COUNCIL", "HEALTH", "SSCP"]),
            "CSPR_PANEL": ((2, 4, 6, 8, 10, 12), ["COUNCIL", "POLICE", "HEALTH", "SSCP"]),
            "TRAINING": ((1, 4, 7, 10), ["COUNCIL", "POLICE", "HEALTH", "EDUCATION", "VCS", "SSCP"]),
        }
        absence = {"2021-22": 0.15, "2022-23": 0.12}.get(year.label, 0.06)
        rows = []
        for name, (months, expected) in series.items():
            for m in months:
                first_of_month = np.datetime64(year.start, "M") + np.timedelta64(m - 1, "M")
                day = first_of_month.astype("datetime64[D]")
                # Second Tuesday of the month (ARG), other series on the third Thursday.
                target_weekday, week = (1, 1) if name == "ARG" else (3, 2)
                shift = (target_weekday - (day.astype(np.int64) + 3) % 7) % 7
                meeting_date = day + np.timedelta64(int(shift + 7 * week), "D")
                for agency in expected:
                    rows.append(
                        {
                            "meeting_series": name,
                            "meeting_date": meeting_date,
                            "agency": agency,
                            "attended": agency == "SSCP" or rng.random() >= absence,
                            "meeting_format": self._meeting_format(name, meeting_date),
                        }
                    )
        frame = pd.DataFrame(rows)
        frame["meeting_date"] = _day_column(frame["meeting_date"])
        if year.label == REFERENCE_YEAR:
            # ARG representation of 91 out of 96 expected attendances (95%).
            arg = frame.index[frame["meeting_series"] == "ARG"]
            frame.loc[arg, "attended"] = True
            absent = rng.choice(
                frame.index[(frame["meeting_series"] == "ARG") & (frame["agency"] != "SSCP")], 5, replace=False
            )
            frame.loc[absent, "attended"] = False
        return frame.sort_values(["meeting_date", "meeting_series"], kind="stable").reset_index(drop=True)

    @staticmethod
    def _meeting_format(series: str, day: np.datetime64) -> str:
        if series == "ARG":
            return "FACE_TO_FACE" if day >= _d("2023-11-01") else "VIRTUAL"
        if series == "EXECUTIVE":
            return "FACE_TO_FACE" if day >= _d("2022-09-01") else "VIRTUAL"
        return "VIRTUAL"

    def _communications(self, year: ReportingYear, audits: pd.DataFrame) -> pd.DataFrame:
        rng = self.rng(year, "communications")
        y0 = year.start_year
        items = []
        if year.label == REFERENCE_YEAR:
            items += [
                (
                    "LEARNING_EVENT",
                    "Learning from our published CSPR: parental alcohol and drug use (virtual session)",
                    "2023-05-17",
                    None,
                    None,
                    None,
                    140,
                    90,
                ),
                (
                    "BRIEFING",
                    "Learning brief: parental alcohol and drug use and the 'Who's in Charge?' materials",
                    "2023-10-19",
                    "Who's in Charge?",
                    None,
                    None,
                    None,
                    None,
                ),
                (
                    "NEWSLETTER",
                    "SSCP Newsletter - Autumn 2023",
                    "2023-11-09",
                    "Who's in Charge?",
                    1401,
                    103,
                    None,
                    None,
                ),
                ("NEWSLETTER", "SSCP Newsletter - Winter 2023", "2023-12-14", "Who's in Charge?", 1006, 44, None, None),
            ]
            forum_attendance: tuple[int, ...] = (64, 58, 71)
        else:
            campaign = {2021: "Safer Sleep", 2022: "Think Family"}.get(y0, "Safer Sleep")
            for k, (month, day) in enumerate(((6, 10), (9, 16), (12, 9), (3, 10))):
                when = f"{y0 if month >= 4 else y0 + 1}-{month:02d}-{day:02d}"
                opens = int(rng.integers(700, 1150))
                featured = campaign if k in (1, 2) else None
                items.append(
                    (
                        "NEWSLETTER",
                        f"SSCP Newsletter - {['Summer', 'Autumn', 'Winter', 'Spring'][k]} {y0 if month >= 4 else y0 + 1}",
                        when,
                        featured,
                        opens,
                        int(rng.integers(25, 90)) if featured else None,
                        None,
                        None,
                    )
                )
            forum_attendance = tuple(int(v) for v in rng.integers(40, 70, 3))
        for k, (month, people) in enumerate(zip((6, 10, 2), forum_attendance)):
            when = f"{y0 if month >= 4 else y0 + 1}-{month:02d}-{20 + k:02d}"
            items.append(
                (
                    "LEARNING_EVENT",
                    f"Safeguarding Practice Forum ({['summer', 'autumn', 'winter'][k]})",
                    when,
                    None,
                    None,
                    None,
                    people,
                    int(rng.integers(10, 40)),
                )
            )
        for audit in audits.dropna(subset=["learning_brief_date"]).itertuples():
            items.append(
                (
                    "BRIEFING",
                    f"Learning brief: {audit.audit_title}",
                    str(audit.learning_brief_date)[:10],
                    None,
                    None,
                    None,
                    None,
                    None,
                )
            )
        frame = pd.DataFrame(
            items,
            columns=[
                "item_type",
                "title",
                "item_date",
                "campaign",
                "opens",
                "campaign_clicks",
                "attendees",
                "later_views",
            ],
        )
        frame["item_date"] = _day_column(frame["item_date"])
        for col in ("opens", "campaign_clicks", "attendees", "later_views"):
            frame[col] = frame[col].astype("Int64")
        frame = frame.sort_values(["item_date", "title"], kind="stable").reset_index(drop=True)
        frame.insert(0, "item_id", [f"COM-{_year_code(year)}-{k:02d}" for k in range(1, len(frame) + 1)])
        return frame

    def _budget(self, year: ReportingYear) -> pd.DataFrame:
        rng = self.rng(year, "budget")
        uplift = 1 + 0.03 * (year.start_year - 2023)
        # (line, type, partner, budget, actual/budget)
        lines: list[tuple[str, str, str | None, float, float]] = [
            ("Support hub staffing", "EXPENDITURE", None, 268_000, 0.987),
            ("Multi-agency training programme", "EXPENDITURE", None, 18_500, 0.962),
            ("Independent Scrutineer", "EXPENDITURE", None, 31_000, 1.0),
            ("Case reviews (rapid reviews and CSPRs)", "EXPENDITURE", None, 24_000, 1.071),
            ("Website and communications", "EXPENDITURE", None, 8_500, 0.941),
        ]
        contributions = 350_000
        lines += [
            ("Partner contribution - local authority", "INCOME", "COUNCIL", contributions * 0.5, 1.0),
            ("Partner contribution - police", "INCOME", "POLICE", contributions * 0.25, 1.0),
            ("Partner contribution - health", "INCOME", "HEALTH", contributions * 0.25, 1.0),
        ]
        rows = []
        for line, kind, partner, budget, ratio in lines:
            budget = round(budget * uplift, -2)
            wobble = 1.0 if kind == "INCOME" or year.label == REFERENCE_YEAR else float(rng.uniform(0.95, 1.05))
            rows.append(
                {
                    "financial_year_end": np.datetime64(year.end),
                    "budget_line": line,
                    "line_type": kind,
                    "partner": partner,
                    "budget_amount": float(budget),
                    "actual_amount": round(budget * ratio * wobble, 2),
                }
            )
        frame = pd.DataFrame(rows)
        frame["financial_year_end"] = _day_column(frame["financial_year_end"])
        return frame

    def _escalations(self, year: ReportingYear) -> pd.DataFrame:
        by_year = {
            2021: [
                (
                    "2021-06-08",
                    "Attendance of health partners at the Assurance and Review Group",
                    "COUNCIL",
                    "EXECUTIVE",
                    "2021-09-14",
                ),
                ("2021-10-19", "Timeliness of strategy discussions out of hours", "HEALTH", "DSP", "2022-01-25"),
                ("2022-02-02", "Sharing of police intelligence with schools", "EDUCATION", "EXECUTIVE", "2022-03-22"),
            ],
            2022: [
                ("2022-05-24", "Capacity of the MASH to meet demand", "POLICE", "DSP", "2022-09-06"),
                ("2022-11-15", "Funding formula for the partnership budget", "HEALTH", "LSP", "2023-02-28"),
            ],
            2023: [
                ("2023-05-16", "The 'one leader' role in the MASH", "POLICE", "LSP", "2023-10-10"),
                (
                    "2023-09-12",
                    "Health input into the MASH: proposed operating model relying on one health provider",
                    "COUNCIL",
                    "LSP",
                    "2024-01-23",
                ),
            ],
        }
        spec = by_year.get(year.start_year) or [
            (
                f"{year.start_year}-09-12",
                "Partnership data sharing agreement",
                "COUNCIL",
                "DSP",
                f"{year.start_year}-12-12",
            )
        ]
        frame = pd.DataFrame(
            [
                {
                    "escalation_id": f"ESC-{_year_code(year)}-{i:02d}",
                    "raised_date": raised,
                    "topic": topic,
                    "raised_by": by,
                    "escalation_level": level,
                    "status": "RESOLVED",
                    "resolved_date": resolved,
                }
                for i, (raised, topic, by, level, resolved) in enumerate(spec, start=1)
            ]
        )
        for col in ("raised_date", "resolved_date"):
            frame[col] = _day_column(frame[col])
        return frame


# Rapid reviews and CSPRs by the start year of their reporting year: (type, incident, review
# start, notification, Panel decision, published, themes, number of actions).
CASE_REVIEWS: dict[int, list[tuple]] = {
    2021: [
        (
            "RAPID_REVIEW",
            "2021-07-30",
            "2021-08-17",
            "2021-08-04",
            "AGREED_NO_CSPR",
            None,
            "Neglect; school attendance and children missing education",
            5,
        ),
        (
            "RAPID_REVIEW",
            "2021-12-20",
            "2022-01-11",
            "2022-01-05",
            "AGREED_NO_CSPR",
            None,
            "Safer sleep; information sharing between health and children's services",
            4,
        ),
    ],
    2022: [
        (
            "RAPID_REVIEW",
            "2022-04-27",
            "2022-05-17",
            "2022-05-04",
            "AGREED_CSPR",
            None,
            "Parental alcohol and drug use; professional curiosity",
            5,
        ),
        (
            "CSPR",
            "2022-04-27",
            "2022-07-05",
            None,
            None,
            "2023-04-25",
            "Parental alcohol and drug use; who is in charge of the household; professional curiosity",
            6,
        ),
        (
            "RAPID_REVIEW",
            "2022-10-03",
            "2022-10-20",
            "2022-10-06",
            "NOT_NOTIFIED",
            None,
            "Adolescent self-harm; transition to adult mental health services",
            5,
        ),
    ],
    2023: [
        (
            "RAPID_REVIEW",
            "2023-07-02",
            "2023-07-20",
            "2023-07-06",
            "NOT_NOTIFIED",
            None,
            "Medical neglect; missed health appointments",
            4,
        ),
        (
            "RAPID_REVIEW",
            "2023-11-28",
            "2023-12-12",
            "2023-12-20",
            "AGREED_NO_CSPR",
            None,
            "Trauma informed practice; medical neglect",
            4,
        ),
    ],
}


def _reviews_of(year: ReportingYear) -> list[dict]:
    y0 = year.start_year
    spec = CASE_REVIEWS.get(y0) or [
        ("RAPID_REVIEW", f"{y0}-10-02", f"{y0}-10-20", f"{y0}-10-06", "PENDING", None, "Information sharing", 4)
    ]
    keys = (
        "review_type",
        "incident_date",
        "review_start_date",
        "notification_date",
        "panel_decision",
        "published_date",
        "themes",
        "actions",
    )
    return [
        {"review_id": f"CR-{_year_code(year)}-{i:02d}", **dict(zip(keys, row))} for i, row in enumerate(spec, start=1)
    ]


AUDIT_ACTIONS = [
    "Share the {topic} learning brief with all frontline teams",
    "Refresh practice guidance on {topic} and circulate to partners",
    "Include {topic} in the next multi-agency training programme",
    "Re-audit a sample of cases in six months to evidence improvement",
    "Add a {topic} indicator to the Partnership Dashboard",
    "Brief designated safeguarding leads in schools on the findings",
    "Review supervision templates so that {topic} is discussed",
    "Report progress on the findings to the Assurance and Review Group",
]
PLAN_ACTIONS = [
    "Agree and publish the partnership approach to {workstream}",
    "Deliver a practitioner briefing programme on {workstream}",
    "Embed the continuum of tools in {workstream} practice",
    "Report {workstream} performance measures to the Executive quarterly",
    "Review multi-agency procedures for {workstream}",
    "Evaluate the impact of the {workstream} work with frontline staff",
    "Complete a task and finish review of {workstream}",
]
REVIEW_ACTIONS = [
    "Deliver trauma informed practice training to frontline staff",
    "Issue guidance on recognising medical neglect, including missed appointments",
    "Share a learning brief on parental alcohol and drug use",
    "Strengthen information sharing between GPs and children's social care",
    "Review the escalation policy and remind practitioners of it",
    "Audit the quality of chronologies in a sample of cases",
    "Promote the 'Who's in Charge?' materials across the workforce",
]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "")


# ---------------------------------------------------------------------------------------------
# Writing files in each agency's format.


def _heading(text: str, style: str) -> str:
    words = re.split(r"[\s_]+", text.strip())
    if style == "upper_snake":
        return "_".join(w.upper() for w in words)
    if style == "snake":
        return "_".join(w.lower() for w in words)
    out = []
    for i, w in enumerate(words):
        lower = w.lower()
        if lower in ACRONYMS:
            out.append(lower.upper())
        elif style == "title" and (i == 0 or lower not in SMALL_WORDS):
            out.append(lower[:1].upper() + lower[1:])
        elif style == "sentence" and i == 0:
            out.append(lower[:1].upper() + lower[1:])
        else:
            out.append(lower)
    return " ".join(out)


def _headings(dataset: Dataset, fmt: FileFormat, rng: np.random.Generator) -> dict[str, str]:
    """Raw heading for each column: the contract name or one of its aliases, in the agency's style."""
    headings = {}
    for col in dataset.columns:
        options = [col.name] + [a for a in col.aliases if a.lower() not in UNSUITABLE_ALIASES]
        choice = options[0] if rng.random() < 0.4 else options[int(rng.integers(0, len(options)))]
        headings[col.name] = _heading(choice, fmt.heading_style)
    if fmt.heading_style == "title":  # exports often carry a stray space in a heading
        victim = dataset.columns[int(rng.integers(0, len(dataset.columns)))].name
        headings[victim] += " "
    return headings


def _date_strings(values, style: str) -> np.ndarray:
    """Dates as the agency writes them ('' for none); each distinct date is formatted once."""
    days = np.asarray(values, dtype="datetime64[D]")
    distinct, inverse = np.unique(days, return_inverse=True)
    iso = np.datetime_as_string(distinct, unit="D")
    if style == "dmy":
        text = [f"{t[8:10]}/{t[5:7]}/{t[:4]}" for t in iso]
    else:
        text = list(iso)
    formatted = np.array(["" if np.isnat(d) else t for d, t in zip(distinct, text)], dtype=object)
    return formatted[inverse.reshape(-1)]


def _per_child(child: np.ndarray, make) -> np.ndarray:
    """A child attribute as text, worked out once per distinct child."""
    distinct, inverse = np.unique(child, return_inverse=True)
    return np.asarray(make(distinct), dtype=object)[inverse.reshape(-1)]


def _render(
    dataset: Dataset, frame: pd.DataFrame, fmt: FileFormat, contract: Contract, pool: _ChildPool, for_excel: bool
) -> pd.DataFrame:
    """Canonical values -> the agency's raw values, one column per contract column, in contract order."""
    out = {}
    child = frame["_child"].to_numpy() if "_child" in frame else None
    for col in dataset.columns:
        if col.name == "child_id" and child is not None:
            values = _per_child(child, lambda c: pool.ids(c).to_numpy(dtype=object))
        elif col.name == "child_name" and child is not None:
            values = _per_child(child, lambda c: pool.names(c).to_numpy(dtype=object))
        elif col.name == "upn" and child is not None:
            values = _per_child(child, lambda c: pool.upns(c).to_numpy(dtype=object))
        elif col.name == "nhs_number" and child is not None:
            values = _per_child(child, lambda c: pool.nhs_numbers(c).to_numpy(dtype=object))
        elif col.name == "date_of_birth" and child is not None:
            values = pool.dob[child]
        else:
            values = frame[col.name]
        if col.type == "date":
            days = np.asarray(values, dtype="datetime64[D]")
            out[col.name] = (
                pd.Series(days.astype("datetime64[ms]"))
                if for_excel
                else pd.Series(_date_strings(days, fmt.date_format), dtype=object)
            )
        elif col.type == "bool":
            flags = pd.array(values, dtype="boolean")
            text = np.where(flags.fillna(False).to_numpy(dtype=bool), fmt.bools[0], fmt.bools[1]).astype(object)
            text[flags.isna()] = ""
            out[col.name] = pd.Series(text, dtype=object)
        elif col.type == "code" and col.name in fmt.labels:
            labels = contract.codes_for(col).codes
            out[col.name] = pd.Series(np.asarray(values, dtype=object), dtype=object).map(labels).fillna("")
        elif col.type in ("int", "float"):
            out[col.name] = pd.Series(values).reset_index(drop=True)
        else:
            # Object columns: the CSV writer needs Python strings anyway.
            out[col.name] = pd.Series(np.asarray(values, dtype=object), dtype=object).fillna("")
    return pd.DataFrame(out)


def _write_dataset(
    folder: Path, dataset: Dataset, frame: pd.DataFrame, contract: Contract, pool: _ChildPool, rng: np.random.Generator
) -> Path:
    # An optional column the generator does not make (the Annex A counts) is not written.
    made = [c for c in dataset.columns if c.required or c.role or c.name in frame.columns]
    dataset = replace(dataset, columns=tuple(made))
    fmt = EARLIER_FORMATS.get((dataset.name, folder.name), FILE_FORMATS[dataset.name])
    headings = _headings(dataset, fmt, rng)
    raw = _render(dataset, frame, fmt, contract, pool, for_excel=fmt.kind == "xlsx")
    raw.columns = [headings[c] for c in raw.columns]
    if fmt.kind == "xlsx":
        path = folder / f"{dataset.file_pattern}.xlsx"
        date_headings = {headings[c.name] for c in dataset.columns if c.type == "date"}
        sheet = XLSX_SHEETS.get(dataset.name, dataset.description[:31])
        write_xlsx(path, [(sheet, [], raw, date_headings)], _export_stamp(folder), GENERATOR)
        return path
    path = folder / f"{dataset.file_pattern}.csv"
    _write_csv(path, raw, fmt.line_terminator, fmt.encoding)
    return path


def _csv_field(values: pd.Series) -> pd.Series:
    """Values as CSV fields: quoted only when they hold a comma, quote or line break (as csv.QUOTE_MINIMAL)."""
    if pd.api.types.is_float_dtype(values.dtype):
        values = values.map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    elif pd.api.types.is_integer_dtype(values.dtype):
        values = values.map(lambda v: "" if pd.isna(v) else str(int(v)))
    text = pd.Series(values, dtype="str").fillna("")
    special = text.str.contains(r'[,"\r\n]', regex=True)
    if special.any():
        text = text.where(~special, '"' + text.str.replace('"', '""', regex=False) + '"')
    return text


CSV_CHUNK_ROWS = 200_000


def _write_csv(path: Path, frame: pd.DataFrame, line_terminator: str, encoding: str) -> None:
    """Write the frame as CSV, built column-wise a chunk at a time (faster than DataFrame.to_csv,
    and memory stays bounded at the largest scales)."""
    header = _csv_field(pd.Series(list(frame.columns), dtype="str"))
    encoder = codecs.getincrementalencoder(encoding)()  # writes a byte-order mark once, if any
    with open(path, "wb") as out:
        out.write(encoder.encode(",".join(header.tolist()) + line_terminator))
        for first in range(0, len(frame), CSV_CHUNK_ROWS):
            chunk = frame.iloc[first : first + CSV_CHUNK_ROWS]
            fields = [_csv_field(chunk[name].reset_index(drop=True)) for name in chunk.columns]
            rows = fields[0].str.cat(fields[1:], sep=",") if len(fields) > 1 else fields[0]
            out.write(encoder.encode(line_terminator.join(rows.tolist()) + line_terminator))


def _annex_a_frame(dataset: Dataset, frame: pd.DataFrame, contract: Contract, pool: _ChildPool) -> pd.DataFrame:
    """One Annex A list: official headings (from the contract) plus the columns the contract ignores."""
    child = frame["_child"].to_numpy()
    period = np.asarray(frame[dataset.period_column], dtype="datetime64[D]")
    dob = pool.dob[child]
    values = {"child_id": pool.ids(child), "date_of_birth": pd.Series(dob.astype("datetime64[ms]"))}
    annex = dataset.annex_a or {}
    out = {}
    for heading, column in annex["columns"].items():
        col = dataset.column(column)
        if column in values:
            series = values[column]
        elif col.type == "int":
            series = pd.Series(frame[column].to_numpy(), dtype="Int64")
        elif col.type == "date":
            series = pd.Series(np.asarray(frame[column], dtype="datetime64[D]").astype("datetime64[ms]"))
        elif column in annex.get("values", {}):
            # Annex A's Yes/No: 'Yes' for outcomes the contract reads back as no further action.
            mapping = annex["values"][column]
            yes = next(k for k, v in mapping.items() if v == "NFA" and len(k) > 1)
            no = next(k for k, v in mapping.items() if v != "NFA" and len(k) > 1)
            nfa_like = frame[column].isin(["NFA", "ADVICE_INFO"]).to_numpy()
            series = pd.Series(np.where(nfa_like, yes, no))
        else:
            series = _annex_a_codes(frame[column], contract.codes_for(col))
        out[heading] = series.reset_index(drop=True)
        if column == "date_of_birth":
            out["Gender"] = pd.Series(ANNEX_A_GENDERS[pool.gender[child]])
            out["Ethnicity"] = pd.Series(ANNEX_A_ETHNICITIES[pool.ethnicity[child]])
            age = ((period - dob).astype(np.int64) // 365.25).astype(np.int64)
            out["Age of Child (Years)"] = pd.Series(age, dtype="Int64")
    return pd.DataFrame(out)


def _annex_a_codes(values: pd.Series, codes) -> pd.Series:
    """Codes as Annex A writes them: 'a) Neglect', 'v) 10: Unknown' (letters in code-list order)."""
    lettered = {}
    for i, (code, label) in enumerate(codes.codes.items()):
        label = ANNEX_A_CATEGORY_LABELS.get(code, label) if codes.name == "abuse_category" else label
        text = f"{code}: {label}" if codes.name == "referral_source" else label
        lettered[code] = f"{chr(ord('a') + i)}) {text}"
    return values.reset_index(drop=True).map(lettered)


class CouncilHistory:
    """What the council's system counts from its earlier records, for Annex A: each referral's
    referrals of the child in the 12 months before it, each plan's earlier plans of the child.
    Years are passed in order; earlier years' records count."""

    def __init__(self):
        empty = {"_child": pd.Series(dtype="int64"), "date": pd.Series(dtype="datetime64[s]")}
        self.referrals, self.plans = pd.DataFrame(empty), pd.DataFrame(empty)

    @staticmethod
    def _history(before: pd.DataFrame, frame: pd.DataFrame, column: str) -> pd.DataFrame:
        now = pd.DataFrame({"_child": frame["_child"].to_numpy(), "date": frame[column].to_numpy()})
        return pd.concat([before, now.astype(before.dtypes)], ignore_index=True)

    def counted(self, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        tables = dict(tables)
        referrals = self._history(self.referrals, tables["referrals"], "referral_date")
        ordered = referrals.sort_values(["_child", "date"], kind="stable")
        dates = ordered["date"].to_numpy(dtype="datetime64[D]")
        children = ordered["_child"].to_numpy()
        counts = np.zeros(len(ordered), dtype=np.int64)
        # Per child, the referrals dated in the 365 days before each one (same-day ones not counted).
        starts = np.flatnonzero(np.r_[True, children[1:] != children[:-1]])
        for first, end in zip(starts, np.r_[starts[1:], len(ordered)]):
            own = dates[first:end]
            counts[first:end] = np.searchsorted(own, own, side="left") - np.searchsorted(
                own, own - np.timedelta64(365, "D"), side="left"
            )
        in_order = pd.Series(counts, index=ordered.index).sort_index().to_numpy()
        tables["referrals"] = tables["referrals"].assign(referrals_last_12_months=in_order[len(self.referrals) :])
        plans = self._history(self.plans, tables["cp_plans"], "cp_plan_start_date")
        earlier = plans.sort_values(["_child", "date"], kind="stable").groupby("_child").cumcount().sort_index()
        tables["cp_plans"] = tables["cp_plans"].assign(previous_cp_plans=earlier.to_numpy()[len(self.plans) :])
        self.referrals, self.plans = referrals, plans
        return tables


def _write_annex_a(folder: Path, year: ReportingYear, tables: dict, contract: Contract, pool: _ChildPool) -> Path:
    sheets = []
    for name, frame in tables.items():
        dataset = contract.dataset(name)
        if not dataset.annex_a:
            continue
        raw = _annex_a_frame(dataset, frame, contract, pool)
        date_headings = {h for h, c in dataset.annex_a["columns"].items() if dataset.column(c).type == "date"}
        sheets.append(
            (dataset.annex_a["sheet"], [[ANNEX_A_TITLES.get(name, dataset.description)], []], raw, date_headings)
        )
    sheets.sort(key=lambda sheet: int(str(sheet[0]).split()[-1]))  # List 1, 2, 3, 7 as Ofsted orders them
    path = folder / f"{contract.annex_a['file_pattern']}_{year.label}.xlsx"
    write_xlsx(path, sheets, _export_stamp(folder), GENERATOR)
    return path


def _export_stamp(folder: Path) -> datetime:
    """The fixed creation time written into workbooks: the day after the year folder's year end."""
    year = ReportingYear.parse(folder.name)
    return datetime(year.end.year, 4, 2, 9, 0, 0)
