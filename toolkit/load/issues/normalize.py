"""Shared normalisation for every issue tracker: type, environment, dates, reporter, duplicates.

Each tracker loader builds a raw frame with the ``issues`` columns it knows
(``type`` holding the tracker's own issue type name, ``environment`` the raw
Environment field, ``created``/``resolved``/``updated`` already parsed) and
hands it to :func:`finish`, so that the definitions below hold for all trackers.

Type
    ``bug``, ``feature``, ``task``, ``improvement``, ``question`` or ``other``:
    the tracker's issue type when it names one of these (in en/es/fr/de/pt),
    else the first label that does (``bug``, ``type: bug``, ``kind/bug``).
Environment (``environment_evidence`` says which rule applied)
    1. ``field``: the tracker's Environment field, 2. ``label``: a label such as
    ``env:production`` or ``production``, 3. ``body``: a body line
    ``Environment: ...``, 4. ``text``: a distinctive word (``production``,
    ``staging``, ``uat``, ...) in title or body; else ``unknown``/``none``.
    Values go through :func:`toolkit.environments.normalize`.
Dates
    Jira CSV dates are localised (``24/Nov/26 3:04 PM``, ``10/nov/25``,
    ``10/oct./16 11:54 AM``, ``06/août/15``) and carry no zone; they are read as
    UTC. :func:`parse_dates` is vectorised: a regex split, a month-name table, and
    one ``pd.to_datetime`` over the parts.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import pandas as pd

from toolkit import environments, schema
from toolkit.errors import InputError, Skip, report_skip

# ---------------------------------------------------------------- types
_TYPE_WORDS = {
    "bug": (
        "bug", "bugs", "defect", "defecto", "bogue", "anomalie", "fehler", "defeito", "erro", "error", "fallo",
        "incident", "regression", "crash", "fault", "type-bug", "kind-bug", "problème", "problema", "bugfix",
    ),
    "feature": (
        "feature", "new feature", "feature request", "story", "user story", "historia", "récit", "epic", "épopée",
        "epopeya", "nouvelle fonctionnalité", "nueva función", "nueva funcionalidad", "funktion", "neue funktion",
        "nova funcionalidade", "história", "épico", "funcionalidade", "fonctionnalité",
    ),
    "improvement": ("improvement", "enhancement", "amélioration", "mejora", "verbesserung", "melhoria", "refactor"),
    "task": (
        "task", "sub-task", "subtask", "tâche", "sous-tâche", "tarea", "subtarea", "sub-tarea", "aufgabe",
        "unteraufgabe", "tarefa", "subtarefa", "chore", "maintenance", "mco",
    ),
    "question": ("question", "support", "help", "pregunta", "support request", "frage", "pergunta", "help wanted"),
}
_TYPE_LOOKUP = {w: t for t, words in _TYPE_WORDS.items() for w in words}
TYPES = ("bug", "feature", "task", "improvement", "question", "other")


def type_of(name: object) -> str | None:
    """The canonical type a tracker type or label names (``type: bug`` -> bug), or None."""
    if name is None or name is pd.NA or (isinstance(name, float) and np.isnan(name)):
        return None
    text = str(name).strip().lower()
    if not text:
        return None
    if text in _TYPE_LOOKUP:
        return _TYPE_LOOKUP[text]
    tail = re.split(r"[:/]", text)[-1].strip(" -_")
    tail = re.sub(r"[^\w\s-]", "", tail).strip()
    return _TYPE_LOOKUP.get(tail)


# ---------------------------------------------------------------- environment
_STRONG_ENV_WORDS = ("production", "prod", "prd", "staging", "stg", "preprod", "pre-prod", "pre-production", "uat")
_WORD_RE = r"(?i)\b(" + "|".join(re.escape(w) for w in sorted(_STRONG_ENV_WORDS, key=len, reverse=True)) + r")\b"
_BODY_LINE_RE = r"(?im)^[ \t>*_-]*(?:environment|env|entorno|environnement|umgebung|ambiente)[*_ \t]*[:=][ \t]*(.+?)[ \t]*$"
_ENV_LABEL = re.compile(r"^(?:env|environment|entorno|environnement)\s*[:/=]\s*(.+)$", re.I)


def _label_env(labels: object) -> tuple[str, str] | None:
    if not isinstance(labels, list):
        return None
    for lab in labels:
        text = str(lab).strip()
        m = _ENV_LABEL.match(text)
        if m:
            env = environments.normalize(m.group(1))
        elif text.lower() in environments._LOOKUP:
            env = environments._LOOKUP[text.lower()]
        else:
            continue
        if env != environments.UNKNOWN:
            return env, text
    return None


def _map_unique(values: pd.Series, fn) -> pd.Series:
    uniq = values.dropna().unique()
    return values.map(dict(zip(uniq, map(fn, uniq)))).astype(object)


def infer_environment(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(environment, environment_evidence) per row, by the four rules in the module docstring."""
    n = len(df)
    env = pd.Series([environments.UNKNOWN] * n, index=df.index, dtype=object)
    evidence = pd.Series(["none"] * n, index=df.index, dtype=object)
    open_ = pd.Series(True, index=df.index)

    field = df["environment"].astype("string").str.strip()
    field = field.where(field != "")
    fenv = _map_unique(field, environments.normalize)
    hit = fenv.notna() & (fenv != environments.UNKNOWN)
    env[hit] = fenv[hit]
    evidence[hit] = "field: " + field[hit].str.slice(0, 60)
    open_ &= ~hit

    if open_.any():
        lab = df.loc[open_, "labels"].map(_label_env)
        hit_idx = lab.dropna().index
        env[hit_idx] = [v[0] for v in lab[hit_idx]]
        evidence[hit_idx] = ["label: " + v[1] for v in lab[hit_idx]]
        open_[hit_idx] = False

    body = df["body"].astype("string").fillna("")
    if open_.any():
        line = body[open_].str.extract(_BODY_LINE_RE, expand=False)
        lenv = _map_unique(line, environments.normalize)
        hit = lenv.notna() & (lenv != environments.UNKNOWN)
        hit_idx = hit[hit].index
        env[hit_idx] = lenv[hit_idx]
        evidence[hit_idx] = "body: Environment: " + line[hit_idx].str.slice(0, 60)
        open_[hit_idx] = False

    if open_.any():
        text = df.loc[open_, "title"].astype("string").fillna("") + "\n" + body[open_]
        word = text.str.extract(_WORD_RE, expand=False).str.lower()
        hit_idx = word.dropna().index
        env[hit_idx] = word[hit_idx].map(environments.normalize)
        evidence[hit_idx] = "text: " + word[hit_idx]
    return env, evidence


# ---------------------------------------------------------------- dates
_MONTHS = {
    1: "jan january janv janvier ene enero januar jän jänner janeiro",
    2: "feb february fév févr fevr février fevrier febrero februar fev fevereiro",
    3: "mar march mars marzo mär märz mrz marco março",
    4: "apr april avr avril abr abril",
    5: "may mai mayo maio",
    6: "jun june juin junio juni junho",
    7: "jul july juil juillet julio juli julho",
    8: "aug august août aout ago agosto",
    9: "sep sept september septembre septiembre setiembre set setembro",
    10: "oct october octobre octubre okt oktober out outubro",
    11: "nov november novembre noviembre novembro",
    12: "dec december déc décembre decembre dic diciembre dez dezember dezembro",
}
MONTHS = {unicodedata.normalize("NFC", w): m for m, words in _MONTHS.items() for w in words.split()}
_LOCAL_DATE = re.compile(
    r"^\s*(\d{1,2})[/.\- ]([^\W\d_]+)\.?[/.\- ](\d{2}|\d{4})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap])?\.?\s*(?:m\.?)?)?\s*$",
    re.I,
)


def parse_dates(values: pd.Series, *, column: str, path: str) -> pd.Series:
    """Parse a column of tracker dates (Jira localised, ISO 8601, ``YYYY/MM/DD``) to UTC.

    Empty cells are NaT. A non-empty value no format reads raises
    :class:`InputError` naming the column and a sample value.
    """
    s = values.astype("string").str.strip()
    s = s.where(s != "")
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    todo = s.notna()
    if not todo.any():
        return out
    sub = s[todo]
    parts = sub.str.extract(_LOCAL_DATE)
    local = parts[0].notna()
    if local.any():
        p = parts[local]
        month = p[1].str.lower().str.normalize("NFC").map(MONTHS)
        ok = month.notna()
        year = p[2].astype(int)
        year = year.where(year >= 100, year + np.where(year < 70, 2000, 1900))
        hour = p[3].fillna("0").astype(int)
        ampm = p[6].str.lower().fillna("")
        hour = hour.where(~((ampm == "p") & (hour < 12)), hour + 12)
        hour = hour.where(~((ampm == "a") & (hour == 12)), 0)
        frame = pd.DataFrame(
            {
                "year": year, "month": month.fillna(1).astype(int), "day": p[0].astype(int),
                "hour": hour, "minute": p[4].fillna("0").astype(int), "second": p[5].fillna("0").astype(int),
            }
        )
        parsed = pd.to_datetime(frame, errors="coerce").dt.tz_localize("UTC")
        parsed[~ok] = pd.NaT
        out[parsed.index] = parsed
    rest = sub[~local | out[sub.index].isna()]
    rest = rest[~rest.index.isin(out.dropna().index)]
    if len(rest):
        iso = pd.to_datetime(rest.str.replace("/", "-", regex=False), errors="coerce", utc=True, format="ISO8601")
        out[iso.index] = iso
        if iso.isna().any():
            mixed = pd.to_datetime(rest[iso.isna()], errors="coerce", utc=True, format="mixed")
            out[mixed.index] = mixed
    bad = s.notna() & out.isna()
    if bad.any():
        sample = s[bad].iloc[0]
        raise InputError(
            path,
            f"column {column!r}: unknown date format, e.g. {sample!r}",
            hint="expected a Jira date like '24/Nov/26 3:04 PM' (en/es/fr/de/pt month names) or ISO 8601",
        )
    return out


# ---------------------------------------------------------------- reporter
DEFAULT_SALT = "seamscope"


def pseudonym(name: str, salt: str) -> str:
    """A stable pseudonym ``user-3f9a1c`` for ``name`` (SHA-256 of salt and name)."""
    return "user-" + hashlib.sha256(f"{salt}\0{name}".encode()).hexdigest()[:6]


# ---------------------------------------------------------------- finishing
def finish(raw: pd.DataFrame, *, pseudonymize: bool | str = False) -> pd.DataFrame:
    """Apply the shared rules to a tracker loader's raw frame; returns schema ``issues`` (+ ``updated``, ``milestone``)."""
    df = raw.copy()
    for col in ("title", "body", "environment", "type", "status", "resolution", "priority", "reporter", "url", "milestone"):
        if col not in df.columns:
            df[col] = pd.Series(pd.NA, index=df.index, dtype="string")
    for col in ("labels", "components", "linked_prs"):
        if col not in df.columns:
            df[col] = pd.Series([[] for _ in range(len(df))], index=df.index, dtype=object)
    if "is_pull_request" not in df.columns:
        df["is_pull_request"] = False
    for col in ("created", "resolved", "updated"):
        if col not in df.columns:
            df[col] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")

    tracker_type = _map_unique(df["type"].astype(object), type_of)
    need = tracker_type.isna()
    if need.any():
        from_labels = df.loc[need, "labels"].map(
            lambda labs: next((t for t in map(type_of, labs) if t), None) if isinstance(labs, list) else None
        )
        tracker_type[need] = from_labels.astype(object)
    df["type"] = tracker_type.fillna("other")
    env, evidence = infer_environment(df)
    df["environment"] = env
    df["environment_evidence"] = evidence
    if pseudonymize:
        salt = pseudonymize if isinstance(pseudonymize, str) else DEFAULT_SALT
        df["reporter"] = _map_unique(df["reporter"].astype(object), lambda n: pseudonym(str(n), salt))
    df["is_pull_request"] = df["is_pull_request"].fillna(False).astype(bool)
    out = schema.conform(df, "issues")
    return out[schema.columns("issues")]


def deduplicate(df: pd.DataFrame, skips: list[Skip] | None) -> pd.DataFrame:
    """Keep one row per (tracker, key): the one updated last (ties: the later page); report the others as Skips."""
    if df.empty:
        return df
    order = df.assign(_pos=np.arange(len(df)), _upd=df["updated"].fillna(pd.Timestamp.min.tz_localize("UTC")))
    order = order.sort_values(["_upd", "_pos"], kind="stable")
    dup = order.duplicated(["tracker", "key"], keep="last")
    if dup.any():
        kept = order[~dup].set_index(["tracker", "key"])["source"]
        for _, row in order[dup].iterrows():
            report_skip(
                skips, row["source"],
                f"duplicate issue {row['key']}: kept the copy updated last (from {kept[(row['tracker'], row['key'])]})",
            )
    return order[~dup].sort_values("_pos").drop(columns=["_pos", "_upd"]).reset_index(drop=True)
