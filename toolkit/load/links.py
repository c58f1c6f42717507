"""Fix links: which commits fixed which issues, with evidence and confidence.

Confidence
    ``explicit``  a non-merge commit message says ``fixes/fixed/fix/closes/closed/
                  resolves/resolved`` + the key, or (when no key follows such a word) its
                  subject line starts with one and names the key (``Fix charge order
                  (SHOP-10)``), or a merged pull request (``Merge
                  pull request #40``, or a squash commit naming ``#40``) whose body
                  closes the issue;
    ``reference`` a non-merge commit message names the key without such a word, or a
                  merged pull request is linked to the issue without closing it
                  (see ``issues.linked_prs``);
    A pull request exported with the issues is linked to its own merge commit
    (``explicit``) and to commits naming it, like an issue.
    ``heuristic`` (only with ``heuristic=True``) a commit within ``window_days`` after
                  the issue was created (and not after it was resolved) touching one
                  of the issue's tracker components, for bugs nothing else links.
Keys
    ``#123`` and ``GH-123`` match GitHub/GitLab/generic issues keyed ``#123``;
    ``PROJ-123`` matches Jira issues, for the projects present in ``issues``.
    Merge commits naming a key directly are not fix links (the fix is on the merged
    branch); such bugs appear in ``unlinked`` with that reason.

Everything is vectorised (one ``str.extractall`` over all messages, then merges),
so 100,000 commits x 100,000 issues link in seconds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from toolkit import schema
from toolkit.components import ComponentMap
from toolkit.load.history import change_components, history_paths

_KW = r"(?i:\b(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?)\b)"
_RANK = {"explicit": 0, "reference": 1, "heuristic": 2}


@dataclass(frozen=True)
class Links:
    """``links`` (schema ``links``), ``issue_components`` (schema ``issue_components``),
    ``unlinked`` (schema ``unlinked_issues``: bug issues without a fix link and why)."""

    links: pd.DataFrame
    issue_components: pd.DataFrame
    unlinked: pd.DataFrame


def _pattern(projects: list[str]) -> str:
    alts = [r"(?:\bGH-|(?<![\w/&])#)(?P<num>\d+)\b"]
    if projects:
        alts.append(r"\b(?P<jira>(?:" + "|".join(map(re.escape, sorted(projects, key=len, reverse=True))) + r")-\d+)\b")
    return rf"(?P<kw>{_KW}[ \t:]*)?(?P<ref>" + "|".join(alts) + ")"


def _references(messages: pd.Series, projects: list[str]) -> pd.DataFrame:
    """One row per key mention: (row, key, explicit, text)."""
    m = messages.astype("string").fillna("").str.extractall(_pattern(projects))
    if m.empty:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "key": pd.Series(dtype="string"),
                             "explicit": pd.Series(dtype=bool), "text": pd.Series(dtype="string")})
    jira = m["jira"] if "jira" in m.columns else pd.Series(pd.NA, index=m.index, dtype="string")
    key = ("#" + m["num"]).where(m["num"].notna(), jira)
    out = pd.DataFrame({
        "row": m.index.get_level_values(0),
        "key": key.astype("string").to_numpy(),
        "explicit": m["kw"].notna().to_numpy(),
        "text": (m["kw"].fillna("") + m["ref"]).str.strip().to_numpy(),
    })
    return out


def link_issues(
    issues: pd.DataFrame,
    commits: pd.DataFrame,
    *,
    file_changes: pd.DataFrame | None = None,
    components: ComponentMap | None = None,
    heuristic: bool = False,
    window_days: int = 7,
) -> Links:
    """Link ``issues`` (schema ``issues``) to ``commits`` (schema ``commits``); see the module docstring.

    ``file_changes`` (schema ``file_changes``) gives ``issue_components``: per issue
    and component, the non-test files its fix commits changed and their churn.
    ``components`` maps paths to components (default: derived from the changed paths).
    """
    iss = issues.reset_index(drop=True)
    com = commits.reset_index(drop=True)
    is_pr = iss["is_pull_request"].fillna(False).astype(bool) if "is_pull_request" in iss else pd.Series(False, index=iss.index)
    keys = iss["key"].astype("string")
    jira_keys = keys[iss["tracker"].eq("jira") & keys.str.fullmatch(r"[A-Z][A-Z0-9_]*-\d+").fillna(False)]
    projects = sorted(set(jira_keys.str.extract(r"^(.*)-\d+$", expand=False).dropna()))

    messages = com["message"].astype("string").fillna("")
    is_merge = com["is_merge"].fillna(False).astype(bool).to_numpy() if "is_merge" in com else \
        com["parents"].map(lambda p: len(p) > 1 if isinstance(p, list) else False).to_numpy()
    refs = _references(messages, projects)
    # "Fix charge before stock reservation (SHOP-10)": a subject starting with a fix word closes its keys too
    subject = messages.str.extract(r"^([^\n]*)", expand=False).fillna("")
    fix_subject = subject.str.contains(rf"^\s*{_KW}", regex=True).to_numpy(dtype=bool)
    if fix_subject.any():
        subj = _references(subject[fix_subject], projects)
        subj = pd.DataFrame({"row": subj["row"].to_numpy(), "key": subj["key"].to_numpy(), "in_fix_subject": True})
        refs = refs.merge(subj.drop_duplicates(), on=["row", "key"], how="left")
        # ...unless the message already puts a fix word right before a key ("resolved SHOP-7; also GH-12")
        direct_rows = refs.loc[refs["explicit"], "row"].unique()
        promote = (refs["in_fix_subject"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                   & ~refs["row"].isin(direct_rows).to_numpy())
        refs.loc[promote, "text"] = subject.to_numpy(dtype=object)[refs.loc[promote, "row"].to_numpy()]
        refs.loc[promote, "explicit"] = True
        refs = refs.drop(columns="in_fix_subject")
    refs["sha"] = com["sha"].astype("string").to_numpy()[refs["row"].to_numpy()]
    refs["is_merge"] = is_merge[refs["row"].to_numpy()]
    merge_pr = messages.str.extract(r"^Merge pull request #(\d+)\b", expand=False)
    merge_pr_key = ("#" + merge_pr).fillna("").to_numpy(dtype=object)[refs["row"].to_numpy()]
    refs = refs[refs["key"].fillna("").to_numpy(dtype=object) != merge_pr_key]

    direct = refs[~refs["is_merge"]].merge(pd.DataFrame({"issue_key": keys}), left_on="key", right_on="issue_key")
    direct = pd.DataFrame({
        "issue_key": direct["issue_key"], "sha": direct["sha"],
        "evidence": "message: " + direct["text"],
        "confidence": direct["explicit"].map({True: "explicit", False: "reference"}),
    })

    # pull requests: merged by "Merge pull request #N" or named by a squash commit "(#N)"
    pr_keys = keys[is_pr]
    pr_commits = pd.concat([
        pd.DataFrame({"sha": com["sha"].astype("string"), "pr": ("#" + merge_pr).astype("string"),
                      "how": "merge of PR "}).dropna(subset=["pr"]),
        refs[~refs["is_merge"] & refs["key"].isin(set(pr_keys))].rename(columns={"key": "pr"})
        .assign(how="commit names PR ")[["sha", "pr", "how"]],
    ], ignore_index=True)
    via_pr = _empty_links()
    if len(pr_commits):
        lp = iss.loc[~is_pr, ["key", "linked_prs"]].explode("linked_prs").dropna(subset=["linked_prs"])
        lp = pd.DataFrame({"issue_key": lp["key"].astype("string"),
                           "pr": ("#" + lp["linked_prs"].astype(str)).astype("string")})
        pairs = pr_commits.merge(lp, on="pr")
        if len(pairs):
            pr_bodies = iss.loc[is_pr, ["key", "body"]]
            closing = pr_bodies["body"].astype("string").fillna("").str.extractall(rf"{_KW}[ \t:]*#(?P<n>\d+)\b")
            closes = pd.DataFrame({
                "pr": pr_bodies["key"].astype("string").to_numpy()[
                    pr_bodies.index.get_indexer(closing.index.get_level_values(0))] if len(closing) else [],
                "issue_key": ("#" + closing["n"]).astype("string").to_numpy() if len(closing) else [],
                "closes": True,
            }).drop_duplicates()
            pairs = pairs.merge(closes, on=["pr", "issue_key"], how="left")
            pairs["closes"] = pairs["closes"].astype("boolean").fillna(False).astype(bool)
            via_pr = pd.DataFrame({
                "issue_key": pairs["issue_key"], "sha": pairs["sha"],
                "evidence": pairs["how"] + pairs["pr"] + pairs["closes"].map({True: " (closes ", False: " (names "})
                + pairs["issue_key"] + ")",
                "confidence": pairs["closes"].map({True: "explicit", False: "reference"}),
            })

    own = pr_commits[pr_commits["how"] == "merge of PR "].merge(pd.DataFrame({"pr": pr_keys}), on="pr")
    own = pd.DataFrame({"issue_key": own["pr"], "sha": own["sha"], "evidence": "merge of PR " + own["pr"],
                        "confidence": "explicit"})
    links = pd.concat([direct, via_pr, own], ignore_index=True)

    changes = None
    if file_changes is not None and len(file_changes):
        paths = history_paths(file_changes)  # the fix's files as they are named now: moves since don't lose them
        cmap = components or ComponentMap.from_files(list(paths.dropna().unique()))
        changes = pd.DataFrame({
            "sha": file_changes["sha"].astype("string"), "path": paths,
            "component": change_components(file_changes, cmap),
            "churn": file_changes["added"].fillna(0).astype("int64") + file_changes["deleted"].fillna(0).astype("int64"),
        }).dropna(subset=["component"])

    bug = iss["type"].eq("bug") & ~is_pr
    if heuristic and changes is not None and "components" in iss:
        linked = set(links["issue_key"])
        cand = iss[bug & ~keys.isin(linked) & iss["created"].notna()][["key", "components", "created", "resolved"]]
        cand = cand.explode("components").dropna(subset=["components"])
        if len(cand):
            cand["comp"] = cand["components"].astype(str).str.lower()
            touched = changes.assign(comp=changes["component"].str.lower())[["sha", "comp", "component"]].drop_duplicates()
            touched = touched.merge(pd.DataFrame({"sha": com["sha"].astype("string"), "ts": com["timestamp"]}), on="sha")
            hits = cand.merge(touched, on="comp")
            end = hits["created"] + pd.Timedelta(days=window_days)
            end = end.where(hits["resolved"].isna() | (hits["resolved"] > end), hits["resolved"])
            hits = hits[(hits["ts"] >= hits["created"]) & (hits["ts"] <= end)]
            links = pd.concat([links, pd.DataFrame({
                "issue_key": hits["key"].astype("string"), "sha": hits["sha"],
                "evidence": "touches " + hits["component"] + f" within {window_days} days of creation",
                "confidence": "heuristic",
            })], ignore_index=True)

    if len(links):
        links = (links.assign(_r=links["confidence"].map(_RANK)).sort_values(["_r"], kind="stable")
                 .drop_duplicates(["issue_key", "sha"]).drop(columns="_r")
                 .sort_values(["issue_key", "sha"], kind="stable").reset_index(drop=True))
    links = schema.conform(links, "links") if len(links) else schema.empty("links")

    if changes is not None and len(links):
        ic = links[["issue_key", "sha"]].merge(changes, on="sha")
        ic = (ic.groupby(["issue_key", "component"], as_index=False)
              .agg(files=("path", "nunique"), churn=("churn", "sum")))
        issue_components = schema.conform(ic, "issue_components")
    else:
        issue_components = schema.empty("issue_components")

    unl = keys[bug & ~keys.isin(set(links["issue_key"]))]
    merge_only = set(refs.loc[refs["is_merge"], "key"])
    reason = unl.map(lambda k: "mentioned only in merge commits" if k in merge_only else "no commit mentions it")
    unlinked = schema.conform(pd.DataFrame({"issue_key": unl.to_numpy(), "reason": reason.to_numpy()}), "unlinked_issues") \
        if len(unl) else schema.empty("unlinked_issues")
    return Links(links, issue_components, unlinked)


def _empty_links() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in ("issue_key", "sha", "evidence", "confidence")})
