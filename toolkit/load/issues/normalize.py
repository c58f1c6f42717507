"""Shared normalisation for every issue tracker: type, environment, dates, reporter, duplicates.

Each tracker loader builds a raw frame with the ``issues`` columns it knows
(``type`` holding the tracker's own issue type name, ``environment`` the raw
Environment field, ``created``/``resolved``/``updated`` already parsed) and
hands it to :func:`finish`, so that the definitions below hold for all trackers.

Type
    ``bug``, ``feature``, ``task``, ``improvement``, ``question`` or ``other``:
    the tracker's issue type when it names one of these (in en/es/fr/de/pt),
    else the first label that does (``bug``, ``type: bug``, ``kind/bug``;
    GitHub's ``enhancement`` is a feature request, ``testing``/``docs`` are tasks).
Environment (``environment_evidence`` says which rule applied)
    1. ``field``: the tracker's Environment field, 2. ``label``: ``env:<name>``,
    or a bare label that can only name a place (``production``, ``staging``,
    ``uat``; not ``testing`` or ``ci``, which name work), 3. ``body``: a body line
    ``Environment: ...``, 4. ``text``: a distinctive word (``production``,
    ``staging``, ``uat``, ...) in title or body; else ``unknown``/``none``.
    Values go through :func:`toolkit.vocab.environments.normalize`.
Dates
    Jira CSV dates are localised (``24/Nov/26 3:04 PM``, ``10/nov/25``,
    ``10/oct./16 11:54 AM``, ``06/août/15``) and carry no zone; they are read as
    UTC. :func:`parse_dates` is vectorised in Arrow/NumPy: one RE2 extraction,
    a month-name lookup (en/es/fr/de/pt), integer date arithmetic; ISO 8601 as fallback.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from itertools import chain, repeat, starmap

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit.vocab import environments, schema
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
        "enhancement",  # GitHub's default label: "New feature or request"
    ),
    "improvement": ("improvement", "amélioration", "mejora", "verbesserung", "melhoria", "refactor"),
    "task": (
        "task", "sub-task", "subtask", "tâche", "sous-tâche", "tarea", "subtarea", "sub-tarea", "aufgabe",
        "unteraufgabe", "tarefa", "subtarefa", "chore", "maintenance", "mco", "test", "testing", "tests",
        "documentation", "docs",
    ),
    "question": ("question", "support", "help", "pregunta", "support request", "frage", "pergunta", "help wanted"),
}
_TYPE_LOOKUP = {w: t for t, words in _TYPE_WORDS.items() for w in words}


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
_WORD_RE = r"(?i)\b(?P<w>" + "|".join(re.escape(w) for w in sorted(_STRONG_ENV_WORDS, key=len, reverse=True)) + r")\b"
_BODY_LINE_RE = (r"(?im)^[ \t>*_-]*(?:environment|env|entorno|environnement|umgebung|ambiente)[*_ \t]*[:=][ \t]*"
                 r"(?P<v>[^\r\n]*[^\s])")
_ENV_LABEL = re.compile(r"^(?:env|environment|entorno|environnement)\s*[:/=]\s*(.+)$", re.I)


def _label_env(label: str) -> str:
    m = _ENV_LABEL.match(label.strip())
    if m:
        return environments.normalize(m.group(1))
    word = label.strip().lower()
    # a bare "testing"/"ci"/"unit" label names work, not a place: only distinctive words count
    return environments._LOOKUP[word] if word in _STRONG_ENV_WORDS else environments.UNKNOWN


def _first_label_codes(labels: pd.Series, fn, none: object, rows: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, list, list[str]]:
    """(rows hit, their distinct-label number, ``fn`` per distinct label, distinct labels): per row of ``rows``, its
    first label with ``fn(label) != none``.

    Vectorised over the flattened labels: ``fn`` runs once per distinct label.
    """
    nothing = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), [], [])
    where = np.flatnonzero(rows)  # only the rows asked about are flattened
    lists = [v if isinstance(v, list) else [] for v in labels.to_numpy(dtype=object)[where]]
    try:  # flattened and factorised in Arrow when every label is text (always, from the loaders)
        nested = pa.array(lists, type=pa.list_(pa.string()))
        coded = pc.dictionary_encode(nested.flatten())
        if coded.null_count:
            raise pa.ArrowInvalid("a null label")
        if not len(coded):
            return nothing
        codes = coded.indices.to_numpy(zero_copy_only=False)
        uniq = coded.dictionary.to_pylist()
        row = where[pc.list_parent_indices(nested).to_numpy(zero_copy_only=False)]
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        lens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        if not lens.sum():
            return nothing
        flat = np.fromiter(chain.from_iterable(lists), dtype=object, count=int(lens.sum()))
        row = where[np.repeat(np.arange(len(lists)), lens)]
        codes, uniq = pd.factorize(flat)
    found = [fn(str(v)) for v in uniq]
    hit = np.fromiter((v != none for v in found), dtype=bool, count=len(found))
    keep = hit[codes] & rows[row]
    if not keep.any():
        return nothing
    rows_hit, first = np.unique(row[keep], return_index=True)
    return rows_hit, codes[keep][first], found, [str(u) for u in uniq]


def _map_unique(values: pd.Series, fn) -> pd.Series:
    """``fn`` of every value (<NA> stays <NA>), computed once per distinct value."""
    codes, uniq = pd.factorize(values)
    mapped = np.empty(len(uniq) + 1, dtype=object)
    mapped[:-1] = [fn(u) for u in uniq]
    mapped[-1] = np.nan
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _arrow(values: pd.Series, rows: np.ndarray | None = None) -> pa.Array:
    """``values`` (only ``rows``, a boolean mask, when given) as an Arrow string array, "" for missing.

    Arrow-backed text (long descriptions) is taken without a pandas copy and filtered in Arrow.
    """
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        arr = pa.array(values.array)
        if rows is not None:  # before combining chunks: only the rows kept are copied
            arr = pc.filter(arr, pa.array(rows))
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return pc.fill_null(arr.cast(pa.string()), "")
    if rows is not None:
        values = values[rows]
    return pa.array(values.astype("string").fillna(""), type=pa.string())


def _extract(values: pd.Series, pattern: str, group: str, rows: np.ndarray | None = None) -> pd.Series:
    """First match of ``pattern``'s ``group`` per row (of ``rows`` when given; <NA> where none), vectorised in
    Arrow (RE2 syntax)."""
    index = values.index if rows is None else values.index[rows]
    st = pc.extract_regex(_arrow(values, rows), pattern)
    if not len(st):
        return pd.Series([], index=index, dtype="string")
    got = pc.struct_field(st, group)
    return pd.Series(pd.arrays.ArrowStringArray(got.cast(pa.large_string())), index=index).astype("string")


class _Vocabulary:
    """Distinct strings numbered in order of first use: a result column is kept as integer codes per row and
    becomes Arrow strings once at the end (no per-row Python objects)."""

    def __init__(self, first: str) -> None:
        self.words: list[str] = [first]
        self.numbers: dict[str, int] = {first: 0}

    def codes(self, words: list[str]) -> np.ndarray:
        return np.fromiter((self.numbers.setdefault(w, len(self.numbers)) for w in words), dtype=np.int32,
                           count=len(words))

    def series(self, codes: np.ndarray, index: pd.Index) -> pd.Series:
        self.words.extend(list(self.numbers)[len(self.words):])
        text = pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()),
                                              pa.array(self.words, type=pa.large_string()))
        return pd.Series(pd.arrays.ArrowStringArray(text.cast(pa.large_string())), index=index, copy=False)


def _by_value(values: pd.Series, prefix: str, known_only: bool, envs: _Vocabulary, notes: _Vocabulary
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ok, environment code, evidence code) per row of ``values``, computed once per distinct value.

    environment = ``environments.normalize(value)``, evidence = ``prefix`` + the value's first 60
    characters; ok where the value is present (and, when ``known_only``, names a known environment).
    """
    codes, uniq = pd.factorize(values)
    words = [str(u) for u in uniq]
    env = [environments.normalize(w) for w in words]
    ok = np.fromiter((e != environments.UNKNOWN if known_only else w != "" for w, e in zip(words, env)),
                     dtype=bool, count=len(words))
    # the last slot is for missing values (code -1)
    ok = np.append(ok, False)[codes]
    env_codes = np.append(envs.codes(env), 0)[codes]
    note_codes = np.append(notes.codes([prefix + w[:60] for w in words]), 0)[codes]
    return ok, env_codes, note_codes


def infer_environment(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(environment, environment_evidence) per row, by the four rules in the module docstring."""
    n = len(df)
    envs, notes = _Vocabulary(environments.UNKNOWN), _Vocabulary("none")
    env = np.zeros(n, dtype=np.int32)
    evidence = np.zeros(n, dtype=np.int32)
    open_ = np.ones(n, dtype=bool)

    def settle(pos: np.ndarray, env_codes: np.ndarray, evidence_codes: np.ndarray) -> None:
        env[pos] = env_codes
        evidence[pos] = evidence_codes
        open_[pos] = False

    field = df["environment"].astype("string").str.strip()
    hit, fenv, fevidence = _by_value(field.where(field != ""), "field: ", True, envs, notes)
    settle(hit, fenv[hit], fevidence[hit])

    pos, which, found, names = _first_label_codes(df["labels"], _label_env, environments.UNKNOWN, open_)
    if len(pos):
        settle(pos, envs.codes(found)[which], notes.codes(["label: " + name for name in names])[which])

    if open_.any():
        # environment, environnement, env, entorno, umgebung, ambiente: one case-insensitive pass over the bodies
        # of the rows still open only
        body = _arrow(df["body"], open_)
        has_env = pc.match_substring_regex(body, "env|entorno|umgebung|ambiente", ignore_case=True)
        open_line = np.zeros(n, dtype=bool)
        open_line[open_] = has_env.to_numpy(zero_copy_only=False)
    if open_.any() and open_line.any():
        ok, lenv, levidence = _by_value(_extract(df["body"], _BODY_LINE_RE, "v", open_line),
                                        "body: Environment: ", True, envs, notes)
        settle(np.flatnonzero(open_line)[ok], lenv[ok], levidence[ok])

    for col in ("title", "body"):
        if open_.any():
            ok, wenv, wevidence = _by_value(_extract(df[col], _WORD_RE, "w", open_).str.lower(), "text: ",
                                            False, envs, notes)
            settle(np.flatnonzero(open_)[ok], wenv[ok], wevidence[ok])
    return envs.series(env, df.index), notes.series(evidence, df.index)


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
_MONTH_NAMES = pa.array(list(MONTHS))
_MONTH_NUMS = np.array(list(MONTHS.values()) + [0], dtype="int64")  # index -1 (unknown) -> 0
def _split(arr: pa.Array, sep: str, parts: int) -> list[pa.Array]:
    """The first ``parts`` fields of ``arr`` split on ``sep`` ("" where missing; the last keeps the rest).

    Padding with separators first guarantees every list is long enough, so no
    per-row length check (a costly Arrow ``if_else`` on lists) is needed.
    """
    padded = pc.binary_join_element_wise(arr, sep * (parts - 1), "")
    lists = pc.split_pattern(padded, sep, max_splits=parts - 1)
    out = [pc.list_element(lists, k) for k in range(parts)]
    out[-1] = pc.utf8_rtrim(out[-1], characters=sep)
    return out


def _digits(arr: pa.Array, default: int) -> tuple[np.ndarray, np.ndarray]:
    """(ok, value): decimal strings to int64 (empty -> ``default``)."""
    empty = pc.equal(arr, "")
    ok = pc.or_(empty, pc.and_(pc.ascii_is_decimal(arr), pc.less_equal(pc.utf8_length(arr), 4)))
    clean = pc.if_else(ok, pc.if_else(empty, str(default), arr), "0")
    return ok.to_numpy(zero_copy_only=False), pc.cast(clean, pa.int64()).to_numpy(zero_copy_only=False)


def _parse_local(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(ok mask, datetime64[ns]) for Jira-style ``dd/Mon/yy [h:mm[:ss] [AM|PM]]`` strings.

    Literal splits in Arrow (several times faster than a capturing regex), a
    month-name lookup and integer date arithmetic in NumPy; no Python loop.
    """
    low = pc.utf8_lower(arr)
    if not pc.all(pc.string_is_ascii(low)).as_py():
        low = pc.utf8_normalize(low, "NFC")
    day_s, mon_s, rest = _split(low, "/", 3)
    mon_s = pc.utf8_rtrim(mon_s, characters=".")
    year_s, time_s = _split(pc.utf8_trim_whitespace(rest), " ", 2)
    time_s = pc.utf8_trim_whitespace(time_s)
    hm_s, ampm = _split(time_s, " ", 2)
    ampm = pc.replace_substring(pc.replace_substring(ampm, ".", ""), " ", "")
    ampm = ampm.to_numpy(zero_copy_only=False).astype(str)
    colons = pc.count_substring(hm_s, ":").to_numpy(zero_copy_only=False)
    hour_s, minute_s, second_s = _split(hm_s, ":", 3)
    has_time = pc.not_equal(time_s, "").to_numpy(zero_copy_only=False)
    three = pc.equal(pc.count_substring(low, "/"), 2).to_numpy(zero_copy_only=False)

    month = _MONTH_NUMS[pc.fill_null(pc.index_in(mon_s, value_set=_MONTH_NAMES), -1).to_numpy()]
    ok_d, day = _digits(day_s, 0)
    ok_y, year = _digits(year_s, -1)
    ok_y &= pc.not_equal(year_s, "").to_numpy(zero_copy_only=False)
    ok_h, hour = _digits(hour_s, 0)
    ok_m, minute = _digits(minute_s, 0)
    ok_s, second = _digits(second_s, 0)
    year = np.where(year >= 100, year, np.where(year < 70, year + 2000, year + 1900))
    hour = np.where((ampm == "pm") & (hour < 12), hour + 12, np.where((ampm == "am") & (hour == 12), 0, hour))
    ok_time = ~has_time | (((colons == 1) | (colons == 2)) & np.isin(ampm, ("", "am", "pm")))
    month_start = (np.clip(year, 1678, 2261) - 1970) * 12 + (np.clip(month, 1, 12) - 1)
    first = month_start.astype("datetime64[M]").astype("datetime64[D]")
    days_in_month = ((month_start + 1).astype("datetime64[M]").astype("datetime64[D]") - first).astype(int)
    ok = (three & ok_d & ok_y & ok_h & ok_m & ok_s & ok_time & (month > 0) & (day >= 1) & (day <= days_in_month)
          & (hour < 24) & (minute < 60) & (second < 60) & (year >= 1678) & (year <= 2261))
    stamp = (first + (np.clip(day, 1, 31) - 1).astype("timedelta64[D]")).astype("datetime64[ns]") + (
        hour * 3600 + minute * 60 + second).astype("timedelta64[s]")
    return ok, stamp


_EPOCH_DAY = "01/jan/70 "


def _split_first_space(arr: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(before, after) the first space of each string ("" after when there is none).

    One ``split_pattern`` and a take of the second parts: no padded copy and no per-row length
    check, ~1.5x faster than :func:`_split` (callers trim the second part).
    """
    lists = pc.split_pattern(arr, " ", max_splits=1)
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    parts = pa.concat_arrays([lists.values, pa.array([""], type=lists.type.value_type)])
    second = np.where(lengths == 2, lists.offsets.to_numpy()[:-1] + 1, len(parts) - 1)
    return pc.list_element(lists, 0), pc.take(parts, pa.array(second))


def _parse_local_parts(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_parse_local` of many distinct timestamps through their few distinct parts.

    Exports hold tens of thousands of distinct timestamps but only thousands of
    distinct days and ~1,440 distinct times of day: each value is split at its
    first space, the distinct day parts and time parts are parsed once each, and
    the stamps are sums. A value whose parts do not parse is parsed whole, so the
    result is exactly :func:`_parse_local`'s.
    """
    if len(arr) < 2048:
        return _parse_local(arr)
    day_s, time_s = _split_first_space(arr)
    day_codes = pc.dictionary_encode(day_s)
    time_codes = pc.dictionary_encode(pc.utf8_trim_whitespace(time_s))
    ok_d, stamp_d = _parse_local(day_codes.dictionary)
    times = time_codes.dictionary
    ok_t, stamp_t = _parse_local(pc.binary_join_element_wise(_EPOCH_DAY, times, ""))
    di = day_codes.indices.to_numpy(zero_copy_only=False)
    ti = time_codes.indices.to_numpy(zero_copy_only=False)
    ok = ok_d[di] & ok_t[ti]
    stamp = stamp_d[di] + (stamp_t[ti] - np.datetime64(0, "ns"))
    bad = np.flatnonzero(~ok)
    if len(bad):
        ok_b, stamp_b = _parse_local(pc.take(arr, pa.array(bad)))
        ok[bad] = ok_b
        stamp[bad] = stamp_b
    return ok, stamp


def parse_dates(values: pd.Series, *, column: str, path: str) -> pd.Series:
    """Parse a column of tracker dates (Jira localised, ISO 8601, ``YYYY/MM/DD``) to UTC.

    Empty cells are NaT. A non-empty value no format reads raises
    :class:`InputError` naming the column and a sample value.
    """
    return pd.Series(_parse_array(_trimmed(values), column, path), index=values.index).dt.tz_localize("UTC")


def parse_date_columns(columns: dict[str, pd.Series], *, path: str) -> dict[str, pd.Series]:
    """:func:`parse_dates` of several columns (header -> values) in one pass over their values.

    Created, Updated and Resolved share days and times of day, so each distinct day and time of day is
    parsed once for all of them. An unreadable value raises as :func:`parse_dates` of its column would.
    """
    if len(columns) < 2:
        return {c: parse_dates(v, column=c, path=path) for c, v in columns.items()}
    arrays = [_trimmed(v) for v in columns.values()]
    try:
        full = _parse_array(pa.concat_arrays(arrays), "", path)
    except InputError:
        for c, v in columns.items():  # raises naming the first column with an unreadable value
            parse_dates(v, column=c, path=path)
        raise
    ends = np.cumsum([len(a) for a in arrays])
    return {c: pd.Series(part, index=v.index).dt.tz_localize("UTC")
            for (c, v), part in zip(columns.items(), np.split(full, ends[:-1]))}


def _trimmed(values: pd.Series) -> pa.Array:
    arr = pc.utf8_trim_whitespace(_arrow(values))
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _parse_array(arr: pa.Array, column: str, path: str) -> np.ndarray:
    """:func:`parse_dates` of trimmed Arrow strings, as naive UTC ``datetime64[ns]``."""
    full = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[ns]")
    present = pc.not_equal(arr, "").to_numpy(zero_copy_only=False)
    where = np.flatnonzero(present)
    if len(where):
        # distinct timestamps are nearly as many as rows: no dedupe of whole values, _parse_local_parts
        # parses each distinct day and time of day once
        given = arr if len(where) == len(arr) else pc.filter(arr, pa.array(present))
        ok, stamp = _parse_local_parts(given)
        full[where[ok]] = stamp[ok]
        if not ok.all():  # only values the Jira formats do not read reach Python objects, each distinct one once
            coded = pc.dictionary_encode(pc.filter(given, pa.array(~ok)))
            sub = pd.Series(coded.dictionary.to_numpy(zero_copy_only=False), dtype="string")
            iso = pd.to_datetime(sub.str.replace("/", "-", regex=False), errors="coerce", utc=True, format="ISO8601")
            if iso.isna().any():
                iso = iso.fillna(pd.to_datetime(sub[iso.isna()], errors="coerce", utc=True, format="mixed"))
            if iso.isna().any():
                sample = sub[iso.isna().to_numpy()].iloc[0]
                raise InputError(
                    path,
                    f"column {column!r}: unknown date format, e.g. {sample!r}",
                    hint="expected a Jira date like '24/Nov/26 3:04 PM' (en/es/fr/de/pt month names) or ISO 8601",
                )
            parsed = iso.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
            full[where[~ok]] = parsed[coded.indices.to_numpy(zero_copy_only=False)]
    return full


def parse_iso(values: pd.Series, *, field: str, path: str, tracker: str) -> pd.Series:
    """ISO 8601 strings (JSON APIs) -> UTC; anything else non-null raises InputError naming the field."""
    bad = values.map(lambda v: v is not None and not isinstance(v, str) and not (isinstance(v, float) and np.isnan(v)))
    if bad.any():
        raise InputError(path, f"{tracker} field {field!r} is not a date string: {values[bad].iloc[0]!r}",
                         record=int(np.flatnonzero(bad.to_numpy())[0]))
    text = values.astype("string").str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True)
    try:
        return pd.to_datetime(text, utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(path, f"{tracker} field {field!r} is not an ISO 8601 date ({exc})") from None


def tracker_frame(rows: list[dict], columns: list[str], *, tracker: str, name: str, path: str) -> pd.DataFrame:
    """The raw frame of a JSON tracker's ``rows``: ISO dates parsed (:func:`parse_iso`), ``tracker`` and ``source``
    set, ``merged`` (when a column) nullable boolean."""
    df = pd.DataFrame(rows, columns=columns)
    if "merged" in df.columns:
        df["merged"] = df["merged"].astype("boolean")
    for col in ("created", "resolved", "updated"):
        df[col] = parse_iso(df[col], field=col, path=path, tracker=name)
    df["tracker"] = tracker
    df["source"] = path
    return df


# ---------------------------------------------------------------- reporter
DEFAULT_SALT = "seamscope"


def pseudonym(name: str, salt: str) -> str:
    """A stable pseudonym ``user-3f9a1c`` for ``name`` (SHA-256 of salt and name)."""
    return "user-" + hashlib.sha256(f"{salt}\0{name}".encode()).hexdigest()[:6]


# ---------------------------------------------------------------- finishing
def empty_lists(n: int) -> list[list]:
    """``n`` distinct empty lists (each cell its own object, safe to append to), ~3x faster than a comprehension."""
    return list(starmap(list, repeat((), n)))


def finish(raw: pd.DataFrame, *, pseudonymize: bool | str = False) -> pd.DataFrame:
    """Apply the shared rules to a tracker loader's raw frame; returns schema ``issues`` (+ ``updated``, ``milestone``)."""
    df = raw.copy(deep=False)  # copy-on-write: columns are replaced below, never written in place
    for col in ("title", "body", "environment", "type", "status", "resolution", "priority", "reporter", "url", "milestone",
                "merge_sha"):
        if col not in df.columns:
            df[col] = pd.Series(pd.NA, index=df.index, dtype="string")
    for col in ("labels", "components", "linked_prs", "closes"):
        if col not in df.columns:
            df[col] = pd.Series(empty_lists(len(df)), index=df.index, dtype=object)
    if "is_pull_request" not in df.columns:
        df["is_pull_request"] = False
    for col in ("created", "resolved", "updated"):
        if col not in df.columns:
            df[col] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")

    # the tracker's type, else the first label naming one, else "other"; per distinct value, as codes
    codes, uniq = pd.factorize(df["type"])
    found = [type_of(u) for u in uniq]
    kinds = _Vocabulary("other")
    type_codes = np.append(kinds.codes([f or "other" for f in found]), 0)[codes]
    need = ~np.append(np.fromiter((f is not None for f in found), dtype=bool, count=len(found)), False)[codes]
    if need.any():
        pos, which, from_labels, _ = _first_label_codes(df["labels"], type_of, None, need)
        if len(pos):
            type_codes[pos] = kinds.codes([f or "other" for f in from_labels])[which]
    df["type"] = kinds.series(type_codes, df.index)
    env, evidence = infer_environment(df)
    df["environment"] = env
    df["environment_evidence"] = evidence
    if pseudonymize:
        salt = pseudonymize if isinstance(pseudonymize, str) else DEFAULT_SALT
        df["reporter"] = _map_unique(df["reporter"].astype(object), lambda n: pseudonym(str(n), salt))
    df["is_pull_request"] = df["is_pull_request"].fillna(False).astype(bool)
    return conform(df)


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as exactly the ``issues`` columns in their schema dtypes.

    Unlike :func:`toolkit.vocab.schema.conform` it copies no column that already has its dtype (pandas
    copy-on-write keeps the result independent): a 100,000-row export carries ~60 MB of descriptions.
    """
    data = {}
    for c in schema.TABLES["issues"]:
        if c.name not in df.columns:
            data[c.name] = pd.Series(index=df.index, dtype=c.dtype)
        elif str(df[c.name].dtype) != c.dtype and c.dtype != "object":
            data[c.name] = df[c.name].astype(c.dtype)
        else:
            data[c.name] = df[c.name]
    return pd.DataFrame(data, index=df.index, copy=False)


def deduplicate(df: pd.DataFrame, skips: list[Skip] | None) -> pd.DataFrame:
    """Keep one row per (tracker, key): the one updated last (ties: the later page); report the others as Skips."""
    if df.empty or df["key"].is_unique or not df.duplicated(["tracker", "key"]).any():
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


def field_name(v: object, *keys: str) -> str | None:
    """A JSON field that is either a plain value or an object naming it (``{"name": ...}``): its text."""
    if isinstance(v, dict):
        for k in keys:
            if v.get(k) is not None:
                return str(v[k])
        return None
    return None if v is None else str(v)


def name_list(v: object, *keys: str) -> list[str]:
    """A JSON list of names or of named objects (labels, components, versions) as strings.

    Exports from odd tools put a scalar or ``null`` where a list belongs; those
    give ``[]`` (a scalar string gives ``[it]``) rather than failing on iteration.
    """
    if isinstance(v, str):
        return [v] if v else []
    if not isinstance(v, list):
        return []
    return [n for n in (field_name(x, *keys) for x in v) if n]
