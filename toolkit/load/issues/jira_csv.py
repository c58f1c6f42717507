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

import numpy as np
import pandas as pd

from toolkit.errors import InputError
from toolkit.load.issues.normalize import parse_dates

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
LIST_FIELDS = ("labels", "components", "milestone")
DATE_FIELDS = ("created", "resolved", "updated")
#: headers that mark a Jira export (any one suffices for detection).
MARKERS = frozenset(a.lower() for a in ALIASES["key"][:-1]) | {"issue id", "id de la incidencia", "issue type"}


def decode(raw: bytes, path: str) -> tuple[str, str]:
    """(text, encoding): UTF-8 (BOM stripped) or cp1252."""
    try:
        return raw.decode("utf-8-sig"), "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
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


def read_cells(text: str, path: str) -> tuple[list[str], np.ndarray]:
    """(header, cells as a 2-D object array of str) keeping repeated header names."""
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, na_filter=False,
                            engine="c", skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        raise InputError(path, f"not a well-formed CSV: {exc}",
                         hint="re-export from Jira; rows must have no more cells than the header") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "empty CSV file") from None
    cells = frame.to_numpy(dtype=object)
    names = [str(h).strip() for h in cells[0]]
    return names, cells[1:]


def columns_for(names: list[str], field: str) -> list[int]:
    """Indices of the columns holding ``field``: all columns named by its first alias present."""
    lower = [n.lower() for n in names]
    for alias in ALIASES[field]:
        idx = [i for i, n in enumerate(lower) if n == alias.lower()]
        if idx:
            return idx
    return []


def records(raw: bytes, path: str) -> tuple[pd.DataFrame, str]:
    """Jira CSV bytes -> (raw frame for :func:`normalize.finish`, encoding used)."""
    text, encoding = decode(raw, path)
    names, cells = read_cells(text, path)
    key_cols = columns_for(names, "key")
    if not key_cols:
        raise InputError(path, "Jira CSV without an issue key column",
                         hint=f"expected one of {', '.join(ALIASES['key'][:4])}; for other CSVs pass mapping=")
    data: dict[str, object] = {}
    for field in ALIASES:
        idx = columns_for(names, field)
        if field in LIST_FIELDS:
            if not idx:
                data[field] = [[] for _ in range(len(cells))]
            else:
                sub = cells[:, idx]
                data[field] = [[v.strip() for v in row if v and v.strip()] for row in sub.tolist()]
        elif idx:
            col = pd.Series(cells[:, idx[0]], dtype="string")
            data[field] = col.where(col.str.strip() != "")
        else:
            data[field] = pd.Series(pd.NA, index=range(len(cells)), dtype="string")
    df = pd.DataFrame({k: v if not isinstance(v, list) else pd.Series(v, dtype=object) for k, v in data.items()})
    df["milestone"] = [v[0] if v else None for v in df["milestone"]]
    df = df[df["key"].notna()].reset_index(drop=True)
    df["key"] = df["key"].str.strip()
    for field in DATE_FIELDS:
        idx = columns_for(names, field)
        df[field] = parse_dates(df[field], column=names[idx[0]] if idx else field, path=path)
    df["tracker"] = "jira"
    df["source"] = path
    return df, encoding
