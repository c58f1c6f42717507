"""Jira CSV exports ("Export Excel CSV (all fields / current fields)"), any UI language.

Why not ``csv.DictReader``: Jira repeats a column once per value (``Labels``,
``Component/s``, ``Fix Version/s``, ``Sprint``, ``Watchers``, custom fields), and
DictReader keeps only the last. The file is read with ``pandas.read_csv``
without a header (duplicates survive), then every canonical field is taken from
all columns whose header is one of its localised names (:data:`ALIASES`, en/es/fr/de/pt),
list fields as the non-empty values of all those columns.

Encoding: UTF-8 (with or without BOM), else cp1252; the one used is in
``df.attrs["encodings"]``. Trailing empty header names (the French Server
export has 25) are ignored. Dates: :func:`normalize.parse_dates`.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit.errors import InputError
from toolkit.load.issues.normalize import _arrow, empty_lists, parse_date_columns, parse_dates

#: canonical field -> header names, most specific first (compared case-insensitively, stripped).
ALIASES: dict[str, tuple[str, ...]] = {
    "key": ("Issue key", "Clave de incidencia", "Clave", "Clé", "Clé de la demande", "Clé du ticket", "Schlüssel",
            "Vorgangsschlüssel", "Chave", "Chave do item", "Chave da issue", "Key"),
    "title": ("Summary", "Resumen", "Résumé", "Zusammenfassung", "Resumo", "title", "resume"),
    "body": ("Description", "Descripción", "Descriptif", "Beschreibung", "Descrição"),
    "type": ("Issue Type", "Tipo de Incidencia", "Tipo de incidencia", "Type de demande", "Type de ticket",
             "Type d'incident", "Vorgangstyp", "Tipo de item", "Tipo de issue", "Tipo de pendência"),
    "status": ("Status", "Estado", "Etat", "État", "Statut", "Situação"),
    "resolution": ("Resolution", "Resolución", "Résolution", "Lösung", "Resolução"),
    "priority": ("Priority", "Prioridad", "Priorité", "Priorität", "Prioridade"),
    "created": ("Created", "Creada", "Creado", "Création", "Créé", "Créée", "Erstellt", "Criado", "Criada"),
    "resolved": ("Resolved", "Resuelta", "Resuelto", "Résolue", "Résolu", "Erledigt", "Resolvido", "Resolvida"),
    "updated": ("Updated", "Actualizada", "Actualizado", "Mise à jour", "Mis à jour", "Aktualisiert", "Atualizado",
                "Atualizada"),
    "reporter": ("Reporter", "Informador", "Rapporteur", "Autor", "Relator"),
    "environment": ("Environment", "Entorno", "Environnement", "Umgebung", "Ambiente"),
    "labels": ("Labels", "Etiquetas", "Étiquettes", "Stichwörter", "Rótulos", "labels"),
    "components": ("Component/s", "Componente/s", "Componentes", "Composant/s", "Composants", "Komponente/n",
                   "Komponenten"),
    "milestone": ("Fix Version/s", "Versión de corrección", "Versiones de corrección", "Version(s) corrigée(s)",
                  "Version corrigée", "Lösungsversion/en", "Versão de correção", "Versões de correção"),
}
LIST_FIELDS = ("labels", "components")
FIRST_OF_FIELDS = ("milestone",)  # repeated columns of which only the first non-empty value is kept
DATE_FIELDS = ("created", "resolved", "updated")
#: headers that mark a Jira export (any one suffices for detection).
MARKERS = frozenset(a.lower() for a in ALIASES["key"][:-1]) | {"issue id", "id de la incidencia", "issue type"}


def decode(raw: bytes, path: str) -> tuple[str, str]:
    """(text, encoding): UTF-8 (BOM stripped) or cp1252."""
    try:
        return raw.decode("utf-8-sig"), _encoding(raw)
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise InputError(path, f"neither UTF-8 nor cp1252 text (byte {raw[exc.start]:#04x} at offset {exc.start})",
                         hint="re-export the CSV as UTF-8") from None


def header(text: str) -> list[str]:
    """The first CSV record (the header), read with the csv module."""
    try:
        return next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return []


def _encoding(raw: bytes) -> str:
    return "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"


def _source(raw: bytes | os.PathLike) -> tuple[io.BytesIO | os.PathLike, bytes]:
    """(what pandas reads, the first MiB) for file content or a file."""
    if isinstance(raw, (bytes, bytearray)):
        return io.BytesIO(raw), raw[:1 << 20]
    with open(raw, "rb") as fh:
        return raw, fh.read(1 << 20)


def read_columns(raw: bytes | os.PathLike, path: str, wanted: Callable[[list[str]], list[int]] | None = None
                 ) -> tuple[list[str], pd.DataFrame, str]:
    """(header names, the data rows as string columns labelled by position, encoding).

    ``raw`` is the file's content, or the file itself (pandas then reads it
    without a copy of the whole file in memory). Repeated header names survive
    because the header is read as a data row. ``wanted(names)`` picks the column
    positions to keep (default: all): parsing only those is what makes a
    100,000-row export load in well under a second.
    """
    source, head = _source(raw)
    enc = _encoding(head)
    names = [h.strip() for h in header(head.decode(enc, errors="ignore"))]
    if not names:
        raise InputError(path, "empty CSV file")
    use = sorted(set(wanted(names))) if wanted else list(range(len(names)))
    if not use:
        return names, pd.DataFrame(index=range(0)), enc
    opts = dict(header=None, keep_default_na=False, na_filter=False, encoding=enc, engine="c", usecols=use,
                skip_blank_lines=True)
    try:
        try:
            frame = pd.read_csv(source, **opts)
        except UnicodeDecodeError:
            if not isinstance(raw, (bytes, bytearray)):
                with open(raw, "rb") as fh:
                    raw = fh.read()
            decode(raw, path)  # raises InputError when cp1252 cannot read it either
            enc = opts["encoding"] = "cp1252"
            names = [h.strip() for h in header(raw[:1 << 20].decode(enc, errors="replace"))]
            source = io.BytesIO(raw)
            frame = pd.read_csv(source, **opts)
        odd = [c for c in frame.columns if str(frame[c].dtype) != "str"]
        if odd:  # a column parsed as numbers in some chunk: read those again as text, losing nothing ("1.10")
            if isinstance(source, io.BytesIO):
                source.seek(0)
            again = pd.read_csv(source, **{**opts, "usecols": odd}, dtype=str)
            for c in odd:
                frame[c] = again[c]
    except pd.errors.ParserError as exc:
        raise InputError(path, f"not a well-formed CSV: {exc}",
                         hint="re-export from the tracker; rows must have no more cells than the header") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "empty CSV file") from None
    except (ValueError, IndexError) as exc:  # usecols beyond a short header row, etc.
        raise InputError(path, f"not a well-formed CSV: {exc}") from None
    frame = frame.iloc[1:].reset_index(drop=True)
    return names, frame, enc


def _string_series(arr: pa.Array | pa.ChunkedArray) -> pd.Series:
    """An Arrow string array as a pandas ``string`` Series (nulls are <NA>), built in that dtype directly."""
    return pd.Series(pd.arrays.ArrowStringArray(arr.cast(pa.large_string())), copy=False)


def _blank_to_null(arr: pa.Array) -> pa.Array:
    """Empty or whitespace-only cells as nulls (``utf8_is_space`` stops at the first other character, unlike a
    strip of every long, multi-line description)."""
    blank = pc.or_(pc.equal(pc.binary_length(arr), 0), pc.utf8_is_space(arr))
    if not pc.any(blank).as_py():
        return arr
    return pc.if_else(blank, pa.scalar(None, arr.type), arr)


def text_column(frame: pd.DataFrame, idx: list[int], n: int) -> pd.Series:
    """The first of ``idx`` as a string Series (<NA> for empty cells), or all <NA>."""
    if not idx:
        return pd.Series(pd.NA, index=range(n), dtype="string")
    col = frame[idx[0]]
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        cells = pa.array(col.array)  # the parser's chunks as they are: no copy of ~60 MB of descriptions
        if cells.type != pa.large_string():
            cells = cells.cast(pa.large_string())
        return _string_series(_blank_to_null(pc.fill_null(cells, "") if cells.null_count else cells))
    return _string_series(_blank_to_null(_arrow(frame[idx[0]])))


def first_column(frame: pd.DataFrame, idx: list[int], n: int) -> pd.Series:
    """Per row, the first non-empty stripped value among the ``idx`` columns (<NA> when none)."""
    if not idx:
        return pd.Series(pd.NA, index=range(n), dtype="string")
    cols = []
    for i in idx:
        col = pc.utf8_trim_whitespace(_arrow(frame[i]))
        cols.append(pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col))
    return pd.Series(pc.coalesce(*cols).to_numpy(zero_copy_only=False), dtype="string")


def list_column(frame: pd.DataFrame, idx: list[int], n: int, split: str | None = None) -> pd.Series:
    """Non-empty stripped values of all ``idx`` columns per row, as lists (optionally split on ``split``)."""
    if not idx:
        return pd.Series(empty_lists(n), dtype=object)
    return pd.Series(_fill_lists(frame, idx, n, split), dtype=object)


def _fill_lists(frame: pd.DataFrame, idx: list[int], n: int, split: str | None) -> list[list[str]]:
    if split is None:
        # interleave the columns row by row, drop empty cells, slice one flat list per row
        cols = [pc.utf8_trim_whitespace(_arrow(frame[i])) for i in idx]
        k = len(cols)
        # labels repeat: one dictionary over all cells, one Python string per distinct value shared by the
        # rows (strings are immutable); cells are interleaved row by row as integer codes, not as strings
        coded = pc.dictionary_encode(cols[0] if k == 1 else pa.concat_arrays(cols))
        codes = coded.indices.to_numpy(zero_copy_only=False).reshape(k, n).T.ravel()
        words = coded.dictionary.to_pylist()
        distinct = np.empty(len(words), dtype=object)
        distinct[:] = words
        mask = codes != (words.index("") if "" in words else -1)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(mask.reshape(n, k).sum(axis=1), out=offsets[1:])
        values = distinct[codes[mask]].tolist()
        bounds = offsets.tolist()
        return [values[a:b] for a, b in zip(bounds, bounds[1:])]
    rows: list[list[str]] = empty_lists(n)
    for i in idx:
        # only non-empty cells reach Python: exports are mostly empty in repeated columns
        col = pc.utf8_trim_whitespace(_arrow(frame[i]))
        mask = pc.not_equal(col, "")
        values = pc.filter(col, mask).to_pylist()
        positions = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
        if split:
            for pos, v in zip(positions, values):
                rows[pos].extend(p.strip() for p in v.replace(",", split).split(split) if p.strip())
        else:
            for pos, v in zip(positions, values):
                rows[pos].append(v)
    return rows


def columns_for(names: list[str], field: str) -> list[int]:
    """Indices of the columns holding ``field``: all columns named by its first alias present."""
    lower = [n.lower() for n in names]
    for alias in ALIASES[field]:
        idx = [i for i, n in enumerate(lower) if n == alias.lower()]
        if idx:
            return idx
    return []


def records(raw: bytes | os.PathLike, path: str) -> tuple[pd.DataFrame, str]:
    """Jira CSV bytes (or file) -> (raw frame for :func:`normalize.finish`, encoding used)."""
    def wanted(names: list[str]) -> list[int]:
        return [i for field in ALIASES for i in columns_for(names, field)]

    names, frame, encoding = read_columns(raw, path, wanted)
    key_cols = columns_for(names, "key")
    if not key_cols:
        raise InputError(path, "Jira CSV without an issue key column",
                         hint=f"expected one of {', '.join(ALIASES['key'][:4])}; for other CSVs pass mapping=")
    n = len(frame)
    data: dict[str, pd.Series] = {}
    for field in ALIASES:
        idx = columns_for(names, field)
        if field in LIST_FIELDS:
            data[field] = list_column(frame, idx, n)
        elif field in FIRST_OF_FIELDS:
            data[field] = first_column(frame, idx, n)
        else:
            data[field] = text_column(frame, idx, n)
    df = pd.DataFrame(data, copy=False)
    keyed = df["key"].notna()
    if not keyed.all():  # a filter copies every column, ~60 MB of descriptions: only when rows lack a key
        df = df[keyed].reset_index(drop=True)
    df["key"] = _string_series(pc.utf8_trim_whitespace(_arrow(df["key"])))
    headers = {}
    for field in DATE_FIELDS:
        idx = columns_for(names, field)
        headers[field] = names[idx[0]] if idx else field
    if len(set(headers.values())) == len(headers):
        parsed = parse_date_columns({headers[f]: df[f] for f in DATE_FIELDS}, path=path)
        for field in DATE_FIELDS:
            df[field] = parsed[headers[field]]
    else:
        for field in DATE_FIELDS:
            df[field] = parse_dates(df[field], column=headers[field], path=path)
    df["tracker"] = _constant("jira", len(df))
    df["source"] = _constant(path, len(df))
    return df, encoding


def _constant(value: str, n: int) -> pd.Series:
    """``value`` n times as a ``string`` Series, built in Arrow (one copy of the text, int codes per row)."""
    codes = pa.array(np.zeros(n, dtype=np.int32))
    return _string_series(pa.DictionaryArray.from_arrays(codes, pa.array([value], type=pa.large_string())))
