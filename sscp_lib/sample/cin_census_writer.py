"""Write referrals and child protection plans as a DfE Children in Need census return (XML).

Used by `sscp sample --cin-xml` (the sample's council data as the return a council would send) and
by the benchmark. The return has the elements each schema version requires of a child, an episode
and a plan, in schema order: ChildIdentifiers (LAchildID, PersonBirthDate, GenderCurrent up to
2023-24 or Sex from 2024-25), ChildCharacteristics (Ethnicity), CINdetails (CINreferralDate,
ReferralSource, ReferralNFA as 1/0) and ChildProtectionPlans (start, end when known, categories,
NumberOfPreviousCPP). Each plan sits in the child's latest episode that started on or before it.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from sscp_lib.config import ReportingYear

# The first collection year whose schema has <Sex> (M/F/U) where earlier ones have <GenderCurrent>.
FIRST_YEAR_WITH_SEX = ReportingYear.parse("2024-25")
GENDER_CURRENT = {"M": "1", "F": "2", "U": "0"}
# The sample records NFA as Advice and Information from the changeover; the census flags both as NFA.
NFA_OUTCOMES = ("NFA", "ADVICE_INFO")
WRITE_CHILDREN = 20_000  # children built into text between writes


def _iso(values) -> np.ndarray:
    days = np.asarray(values, dtype="datetime64[D]")
    text = np.datetime_as_string(days, unit="D").astype(object)
    text[np.isnat(days)] = ""
    return text


def _element(name: str, text: str, indent: str) -> str:
    return f"{indent}<{name}>{text}</{name}>\n" if text else ""


def write_cin_census(
    path: Path, year: ReportingYear, episodes: pd.DataFrame, plans: pd.DataFrame, children: pd.DataFrame
) -> Path:
    """Write the return for `year`.

    episodes: child_id, referral_date, referral_source (code), referral_nfa (bool), one row per referral.
    plans: child_id, start_date, end_date (NaT while open), initial_category, latest_category, previous_plans.
    children: indexed by child_id: birth_date, sex (M, F or U), ethnicity (census code).
    """
    episodes = episodes.sort_values(["child_id", "referral_date"], kind="stable").reset_index(drop=True)
    episodes["_episode"] = np.arange(len(episodes))
    plan_rows = _plans_in_episodes(episodes, plans)
    sex_element = "Sex" if year >= FIRST_YEAR_WITH_SEX else "GenderCurrent"

    child_ids = episodes["child_id"].to_numpy(dtype=object)
    ref_date, source = _iso(episodes["referral_date"]), episodes["referral_source"].to_numpy(dtype=object)
    nfa = np.where(episodes["referral_nfa"].to_numpy(dtype=bool), "1", "0")
    births = children.reindex(pd.unique(child_ids))
    birth_text = dict(zip(births.index, _iso(births["birth_date"])))
    sexes = births["sex"].fillna("U")
    sex_text = dict(zip(births.index, sexes if sex_element == "Sex" else sexes.map(GENDER_CURRENT)))
    ethnicity = dict(zip(births.index, births["ethnicity"].fillna("NOBT")))
    plans_of = plan_rows.groupby("_episode", sort=False).indices if len(plan_rows) else {}
    p_start, p_end = _iso(plan_rows["start_date"]), _iso(plan_rows["end_date"])
    p_initial = plan_rows["initial_category"].to_numpy(dtype=object)
    p_latest = plan_rows["latest_category"].to_numpy(dtype=object)
    p_previous = plan_rows["previous_plans"].to_numpy(dtype=np.int64)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<Message>\n  <Header>\n    <CollectionDetails>\n'
            f"      <Collection>CIN</Collection>\n      <Year>{year.end.year}</Year>\n"
            f"      <ReferenceDate>{year.end.isoformat()}</ReferenceDate>\n"
            "    </CollectionDetails>\n  </Header>\n  <Children>\n"
        )
        parts: list[str] = []
        starts = np.flatnonzero(np.r_[True, child_ids[1:] != child_ids[:-1]]) if len(child_ids) else np.array([], int)
        bounds = list(zip(starts, [*starts[1:], len(child_ids)]))
        for count, (first, stop) in enumerate(bounds, start=1):
            child = child_ids[first]
            parts.append(
                "    <Child>\n      <ChildIdentifiers>\n"
                f"        <LAchildID>{escape(str(child))}</LAchildID>\n"
                + _element("PersonBirthDate", birth_text[child], "        ")
                + f"        <{sex_element}>{sex_text[child]}</{sex_element}>\n"
                "      </ChildIdentifiers>\n      <ChildCharacteristics>\n"
                f"        <Ethnicity>{ethnicity[child]}</Ethnicity>\n      </ChildCharacteristics>\n"
            )
            for e in range(first, stop):
                parts.append(
                    "      <CINdetails>\n"
                    f"        <CINreferralDate>{ref_date[e]}</CINreferralDate>\n"
                    f"        <ReferralSource>{source[e]}</ReferralSource>\n"
                    f"        <ReferralNFA>{nfa[e]}</ReferralNFA>\n"
                )
                for p in plans_of.get(e, ()):
                    parts.append(
                        "        <ChildProtectionPlans>\n"
                        f"          <CPPstartDate>{p_start[p]}</CPPstartDate>\n"
                        + _element("CPPendDate", p_end[p], "          ")
                        + f"          <InitialCategoryOfAbuse>{p_initial[p]}</InitialCategoryOfAbuse>\n"
                        f"          <LatestCategoryOfAbuse>{p_latest[p]}</LatestCategoryOfAbuse>\n"
                        f"          <NumberOfPreviousCPP>{p_previous[p]}</NumberOfPreviousCPP>\n"
                        "        </ChildProtectionPlans>\n"
                    )
                parts.append("      </CINdetails>\n")
            parts.append("    </Child>\n")
            if count % WRITE_CHILDREN == 0:
                out.write("".join(parts))
                parts.clear()
        out.write("".join(parts) + "  </Children>\n</Message>\n")
    return path


def _plans_in_episodes(episodes: pd.DataFrame, plans: pd.DataFrame) -> pd.DataFrame:
    """Plans with the episode each sits in: the child's latest episode started on or before the plan
    (else the child's first episode). A plan for a child with no episode in the return is an error."""
    if plans.empty:
        return plans.assign(_episode=pd.Series(dtype="int64"))
    left = plans.sort_values("start_date", kind="stable").reset_index(drop=True)
    right = episodes[["child_id", "referral_date", "_episode"]].sort_values("referral_date", kind="stable")
    joined = pd.merge_asof(
        left.astype({"start_date": "datetime64[ns]"}),
        right.astype({"referral_date": "datetime64[ns]"}),
        left_on="start_date",
        right_on="referral_date",
        by="child_id",
        direction="backward",
    )
    first = episodes.groupby("child_id", sort=False)["_episode"].min()
    joined["_episode"] = joined["_episode"].fillna(joined["child_id"].map(first))
    if joined["_episode"].isna().any():
        raise ValueError("a child protection plan belongs to a child with no referral in the return")
    return joined.astype({"_episode": "int64"}).sort_values(["_episode", "start_date"], kind="stable")


class SampleCensusReturns:
    """The synthetic sample's referrals and plans as one census return per year, years in order.

    `pool` is the sample's child pool (ids, dates of birth, gender and ethnicity by child index);
    `genders` are the labels its gender indexes stand for; `ethnicities` the census codes.
    NumberOfPreviousCPP counts the child's plans in the years written so far.
    """

    def __init__(self, pool, genders, ethnicities):
        self.pool = pool
        words = [str(label).lower() for label in genders]
        self.sexes = np.array(["F" if "female" in w else "M" if "male" in w else "U" for w in words], dtype=object)
        self.ethnicities = np.asarray(ethnicities, dtype=object)
        self.plan_starts = pd.DataFrame({"_child": pd.Series(dtype="int64"), "start": pd.Series(dtype="datetime64[s]")})

    def _ids(self, index) -> np.ndarray:
        return self.pool.ids(np.asarray(index)).to_numpy(dtype=object)

    def write(self, folder: Path, year: ReportingYear, tables: dict[str, pd.DataFrame]) -> Path:
        referrals, cp_plans = tables["referrals"], tables["cp_plans"]
        episodes = pd.DataFrame(
            {
                "child_id": self._ids(referrals["_child"]),
                "referral_date": referrals["referral_date"].to_numpy(),
                "referral_source": referrals["referral_source"].to_numpy(dtype=object),
                "referral_nfa": referrals["referral_outcome"].isin(NFA_OUTCOMES).to_numpy(),
            }
        )
        starts = pd.DataFrame({"_child": cp_plans["_child"].to_numpy(), "start": cp_plans["cp_plan_start_date"]})
        history = pd.concat([self.plan_starts, starts.astype(self.plan_starts.dtypes)], ignore_index=True)
        # Plans of the child that started earlier, in this year or the years already written.
        earlier = history.sort_values(["_child", "start"], kind="stable").groupby("_child").cumcount()
        plans = pd.DataFrame(
            {
                "child_id": self._ids(cp_plans["_child"]),
                "start_date": cp_plans["cp_plan_start_date"].to_numpy(),
                "end_date": cp_plans["cp_plan_end_date"].to_numpy(),
                "initial_category": cp_plans["initial_category"].to_numpy(dtype=object),
                "latest_category": cp_plans["latest_category"].to_numpy(dtype=object),
                "previous_plans": earlier.sort_index().to_numpy()[len(self.plan_starts) :],
            }
        )
        self.plan_starts = history
        index = np.unique(np.concatenate([referrals["_child"].to_numpy(), cp_plans["_child"].to_numpy()]))
        children = pd.DataFrame(
            {
                "birth_date": self.pool.dob[index],
                "sex": self.sexes[self.pool.gender[index]],
                "ethnicity": self.ethnicities[self.pool.ethnicity[index]],
            },
            index=self._ids(index),
        )
        return write_cin_census(folder / f"cin_census_{year.label}.xml", year, episodes, plans, children)
