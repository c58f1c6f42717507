"""Service contracts: OpenAPI 3 / Swagger 2 specifications and Pact files.

A contract says what a provider promises (OpenAPI: endpoints, the fields of their success responses, the
request fields they require) or what a consumer relies on (Pact: each interaction's request and the
response fields the consumer reads). :func:`toolkit.analyze.service_seams.review_contracts` compares them
with each other and with the calls and routes found in code.

Rules
    * ``$ref`` is resolved inside the same document only (JSON pointers ``#/...``). A ``$ref`` to another
      file or URL is NEVER fetched: the field stays unknown and a :class:`~toolkit.errors.Skip` says so.
      A ``$ref`` cycle (recursive schema) is expanded once and reported as a skip, never followed forever.
    * Field paths are dotted; array items add ``[]`` (``items[].sku``); nesting stops at depth 6.
    * The success response is the lowest 2xx status, else ``default``.
    * Pact specification 1.x-4.x (v4: synchronous HTTP interactions only). A file without a version is read
      as 2.0. Any other version is skipped with its number named.
    * YAML is read as ``yaml.safe_load`` would, and YAML and JSON within the parse limits of
      :mod:`toolkit.load.limits` (alias expansion, nesting depth, integer digits): a file named by the user
      that is not valid YAML/JSON or is over a limit raises :class:`InputError` with the line or the limit; a
      file found in the repository is skipped with that reason.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.vocab import schema
from toolkit.errors import InputError, Skip, report_skip
from toolkit.load.limits import LimitExceeded, check_input_file, files_in, load_json, load_yaml
from toolkit.load.services import normalize_path

__all__ = ["Contracts", "load_contracts", "load_openapi", "load_pact", "read_document", "contracts_in_repo",
           "merge_contracts"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MAX_DEPTH = 6


@dataclass(frozen=True)
class Contracts:
    """``endpoints`` (schema ``contract_endpoints``), ``pacts`` (``pact_interactions``), ``skipped``."""

    endpoints: pd.DataFrame
    pacts: pd.DataFrame
    skipped: tuple[Skip, ...] = field(default_factory=tuple)


def read_document(path: str | os.PathLike, *, flag: str | None = "--contracts") -> Any:
    """Parse a JSON or YAML file within the parse limits (:mod:`toolkit.load.limits`); :class:`InputError`
    naming the file (and the line, or the limit) when it is neither or is over a limit."""
    path = check_input_file(path, flag=flag)
    try:
        return parse_document(path.read_bytes(), str(path))
    except _ParseFailure as exc:
        raise InputError(path, exc.reason, line=exc.line, flag=flag,
                         hint=None if exc.limit else "check the indentation and quoting at that line") from None


class _ParseFailure(ValueError):
    def __init__(self, reason: str, line: int | None = None, limit: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.line, self.limit = reason, line, limit


def parse_document(raw: bytes, name: str) -> Any:
    """The JSON (``name`` ends in ``.json``) or YAML document in ``raw``, read within the parse limits;
    :class:`_ParseFailure` with the reason and line when it is not UTF-8, does not parse or is over a limit."""
    import yaml

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _ParseFailure("is not UTF-8 text") from None
    try:
        return load_json(text) if name.lower().endswith(".json") else load_yaml(text)
    except LimitExceeded as exc:
        raise _ParseFailure(exc.reason, limit=True) from None
    except json.JSONDecodeError as exc:
        raise _ParseFailure(f"is not valid JSON: {exc.msg}", exc.lineno) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _ParseFailure(f"is not valid YAML: {getattr(exc, 'problem', None) or exc}",
                            None if mark is None else mark.line + 1) from None


# ----------------------------------------------------------------------------- OpenAPI
class _Refs:
    """Resolves local ``$ref`` pointers of one document, reporting remote refs and cycles once each."""

    def __init__(self, doc: dict, source: str, skips: list[Skip] | None) -> None:
        self.doc, self.source, self.skips = doc, source, skips
        self.reported: set[str] = set()

    def _report(self, ref: str, reason: str) -> None:
        if ref not in self.reported:
            self.reported.add(ref)
            report_skip(self.skips, self.source, reason)

    def get(self, node: Any, stack: tuple[str, ...]) -> tuple[Any, tuple[str, ...]]:
        """``node`` with its ``$ref`` chain followed; ``(None, stack)`` when it cannot be followed."""
        for _ in range(65):  # a chain of refs longer than that is given up
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, stack
            ref = node["$ref"]
            if not ref.startswith("#"):
                self._report(ref, f"remote $ref {ref!r} not fetched (only references inside the document are "
                                  "resolved); fields behind it are unknown")
                return None, stack
            if ref in stack:
                self._report("cycle:" + ref, f"$ref cycle through {ref!r}: the recursive schema is expanded once")
                return None, stack
            target: Any = self.doc
            for part in ref[1:].split("/")[1:] if ref.startswith("#/") else []:
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(target, dict) and part in target:
                    target = target[part]
                elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                    target = target[int(part)]
                else:
                    self._report(ref, f"$ref {ref!r} points at nothing in the document")
                    return None, stack
            stack = stack + (ref,)
            node = target
        return None, stack


def _fields(schema_node: Any, refs: _Refs, prefix: str = "", stack: tuple[str, ...] = (), depth: int = 0) -> list[str]:
    node, stack = refs.get(schema_node, stack)
    if not isinstance(node, dict) or depth > _MAX_DEPTH:
        return []
    out: list[str] = []
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(key) or []:
            out += _fields(sub, refs, prefix, stack, depth + 1)
    if node.get("type") == "array" or "items" in node:
        items = node.get("items")
        if items is not None:
            out += _fields(items, refs, prefix + "[]", stack, depth + 1)
    props = node.get("properties")
    if isinstance(props, dict):
        for name, sub in props.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            out.append(path)
            out += _fields(sub, refs, path, stack, depth + 1)
    return list(dict.fromkeys(out))


def _required(schema_node: Any, refs: _Refs) -> list[str]:
    node, stack = refs.get(schema_node, ())
    if not isinstance(node, dict):
        return []
    out = [str(r) for r in node.get("required") or [] if isinstance(r, str)]
    for sub in node.get("allOf") or []:
        out += _required(sub, refs)
    return out


def _json_schema(part: dict) -> Any:
    """The schema of an OpenAPI 3 response's or request body's first JSON media type (``None`` when it has none)."""
    return next((media.get("schema") for ctype, media in (part.get("content") or {}).items()
                 if "json" in ctype and isinstance(media, dict)), None)


def _service_name(path: Path, doc: dict) -> str:
    for key in ("x-service", "x-service-name"):
        v = doc.get(key) or (doc.get("info") or {}).get(key)
        if isinstance(v, str) and v.strip():
            return v.strip()
    stem = path.name.lower()
    for suffix in (".yaml", ".yml", ".json"):
        stem = stem.removesuffix(suffix)
    stem = re.sub(r"[._-]?(openapi|swagger|api|spec)$", "", stem)
    if stem and stem not in ("openapi", "swagger", "api", "spec"):
        return stem
    title = str((doc.get("info") or {}).get("title") or path.parent.name)
    return re.sub(r"[^a-z0-9]+", "-", title.lower().removesuffix(" api").removesuffix(" service")).strip("-")


def load_openapi(path: str | os.PathLike, *, service: str | None = None, skips: list[Skip] | None = None,
                 doc: Any = None) -> pd.DataFrame:
    """Endpoints of one OpenAPI 3 / Swagger 2 file (schema ``contract_endpoints``).

    ``service``: the provider it documents (default: ``x-service``, else the file name minus
    ``openapi``/``swagger``, else ``info.title``).
    """
    path = Path(path)
    doc = read_document(path) if doc is None else doc
    if not isinstance(doc, dict) or not ("openapi" in doc or "swagger" in doc):
        raise InputError(path, "is not an OpenAPI/Swagger document (no 'openapi' or 'swagger' key)")
    version = str(doc.get("openapi") or doc.get("swagger"))
    swagger2 = "swagger" in doc
    if not (version.startswith("3") or version.startswith("2")):
        report_skip(skips, path, f"OpenAPI version {version} is not supported (2.x and 3.x are)")
        return schema.empty("contract_endpoints")
    refs = _Refs(doc, str(path), skips)
    svc = service or _service_name(path, doc)
    if swagger2:
        prefix = str(doc.get("basePath") or "")
    else:
        servers = doc.get("servers") or []
        url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
        prefix = re.sub(r"^[a-z]+://[^/]*", "", str(url)) if url else ""
    rows = []
    paths = doc.get("paths") or {}
    if not isinstance(paths, dict):
        raise InputError(path, "'paths' is not a mapping")
    for p, item in paths.items():
        item, _ = refs.get(item, ())
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            responses = op.get("responses") or {}
            codes = sorted(str(c) for c in responses if str(c).startswith("2"))
            resp = responses.get(codes[0]) if codes else responses.get("default")
            if codes and resp is None:
                resp = responses.get(int(codes[0])) if codes[0].isdigit() else None
            resp, _ = refs.get(resp, ())
            fields: list[str] = []
            if isinstance(resp, dict):
                fields = _fields(resp.get("schema") if swagger2 else _json_schema(resp), refs)
            required: list[str] = []
            for prm in list(shared) + list(op.get("parameters") or []):
                prm, _ = refs.get(prm, ())
                if not isinstance(prm, dict):
                    continue
                if prm.get("in") == "body":
                    required += _required(prm.get("schema"), refs)
                elif prm.get("in") == "query" and prm.get("required"):
                    required.append("?" + str(prm.get("name")))
            body, _ = refs.get(op.get("requestBody"), ())
            if isinstance(body, dict):
                required += _required(_json_schema(body), refs)
            rows.append({"source": str(path), "service": svc, "method": method.upper(),
                         "path_template": normalize_path(prefix + str(p)), "operation_id": op.get("operationId"),
                         "response_fields": fields, "required_request_fields": list(dict.fromkeys(required)),
                         "spec_version": version})
    return schema.conform(pd.DataFrame(rows, columns=schema.columns("contract_endpoints")), "contract_endpoints")


# ----------------------------------------------------------------------------- Pact
def _body_fields(body: Any, prefix: str = "", depth: int = 0) -> list[str]:
    if depth > _MAX_DEPTH:
        return []
    out: list[str] = []
    if isinstance(body, dict):
        for k, v in body.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.append(p)
            out += _body_fields(v, p, depth + 1)
    elif isinstance(body, list) and body:
        out += _body_fields(body[0], prefix + "[]", depth + 1)
    return out


def _pact_version(doc: dict) -> str:
    meta = doc.get("metadata") or {}
    specs = (meta.get("pactSpecification"), meta.get("pact-specification"))
    got = [v.get("version") for v in specs if isinstance(v, dict)]
    v = next((v for v in got if v is not None), meta.get("pactSpecificationVersion"))
    return str(v) if v is not None else "2.0.0"


def load_pact(path: str | os.PathLike, *, skips: list[Skip] | None = None, doc: Any = None) -> pd.DataFrame:
    """Consumer expectations of one Pact file (schema ``pact_interactions``); unknown versions are skipped."""
    path = Path(path)
    doc = read_document(path) if doc is None else doc
    if not isinstance(doc, dict) or "consumer" not in doc or "provider" not in doc:
        raise InputError(path, "is not a Pact file (no 'consumer'/'provider')")
    version = _pact_version(doc)
    major = version.split(".")[0]
    if major not in ("1", "2", "3", "4"):
        report_skip(skips, path, f"Pact specification version {version} is not supported (1.x-4.x are)")
        return schema.empty("pact_interactions")
    consumer = str((doc.get("consumer") or {}).get("name") or "")
    provider = str((doc.get("provider") or {}).get("name") or "")
    rows = []
    for n, it in enumerate(doc.get("interactions") or []):
        if not isinstance(it, dict):
            report_skip(skips, path, f"interaction {n} is not an object")
            continue
        if major == "4" and it.get("type") not in (None, "Synchronous/HTTP"):
            report_skip(skips, path, f"interaction {n} ({it.get('type')}) is not an HTTP interaction: left out")
            continue
        req, resp = it.get("request") or {}, it.get("response") or {}
        if not isinstance(req, dict) or "method" not in req or "path" not in req:
            report_skip(skips, path, f"interaction {n} has no request method/path")
            continue

        def body(x: dict) -> Any:
            b = x.get("body")
            if major == "4" and isinstance(b, dict) and "content" in b:
                b = b["content"]
                if isinstance(b, str) and b[:1] in "[{":
                    try:
                        b = json.loads(b)
                    except json.JSONDecodeError:
                        pass
            return b

        status = resp.get("status") if isinstance(resp, dict) else None
        rows.append({"source": str(path), "consumer": consumer, "provider": provider,
                     "description": it.get("description"), "method": str(req["method"]).upper(),
                     "path_template": normalize_path(str(req["path"])),
                     "status": int(status) if isinstance(status, int) else None,
                     "response_fields": _body_fields(body(resp)) if isinstance(resp, dict) else [],
                     "request_fields": _body_fields(body(req)), "pact_version": version})
    if not doc.get("interactions") and doc.get("messages"):
        report_skip(skips, path, "message pact: only HTTP interactions are compared")
    return schema.conform(pd.DataFrame(rows, columns=schema.columns("pact_interactions")), "pact_interactions")


# ----------------------------------------------------------------------------- any mix
def load_contracts(paths: Iterable[str | os.PathLike], *, skips: list[Skip] | None = None) -> Contracts:
    """Read every OpenAPI/Swagger spec and Pact file among ``paths`` (files or folders, searched recursively).

    Files that are neither are skipped (reported). A file named in ``paths`` that is not valid YAML/JSON or is
    over a parse limit raises :class:`InputError`; one found in a folder is skipped with the reason.
    """
    mine: list[Skip] = []
    specs, pacts = [], []
    found = [f for p in paths for f in files_in(p, (".json", ".yaml", ".yml"), flag="--contracts")]
    for path, named in found:
        try:
            doc = read_document(path)
        except InputError as exc:
            if named:
                raise
            report_skip(mine, path, f"not read: {exc.what}", exc.line)
            continue
        if isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc):
            specs.append(load_openapi(path, skips=mine, doc=doc))
        elif isinstance(doc, dict) and "consumer" in doc and "provider" in doc:
            pacts.append(load_pact(path, skips=mine, doc=doc))
        else:
            report_skip(mine, path, "neither an OpenAPI/Swagger spec nor a Pact file")
    return _contracts(specs, pacts, mine, skips)


def _contracts(specs: list[pd.DataFrame], pacts: list[pd.DataFrame], mine: list[Skip],
               skips: list[Skip] | None) -> Contracts:
    """The :class:`Contracts` of the tables read, with their skips (also reported to ``skips``)."""
    for s in mine:
        report_skip(skips, s.path, s.reason, s.line)
    ep = pd.concat(specs, ignore_index=True) if specs else schema.empty("contract_endpoints")
    pc = pd.concat(pacts, ignore_index=True) if pacts else schema.empty("pact_interactions")
    return Contracts(endpoints=schema.conform(ep, "contract_endpoints"), pacts=schema.conform(pc, "pact_interactions"),
                     skipped=tuple(mine))


# ----------------------------------------------------------------------------- specs kept in the repository
_GENERIC_STEMS = {"openapi", "swagger", "api", "spec", "pact"}


def contracts_in_repo(structure, repo, rev: str | None = None, *, skips: list[Skip] | None = None) -> Contracts:
    """The OpenAPI/Swagger specs and Pact files committed in the analysed repository (files whose kind is
    ``openapi`` or ``pact``, :func:`toolkit.vocab.components.file_kind`), read from git objects or the work tree.

    A spec named only ``openapi.yaml`` documents the component whose directory holds it (unless it says
    ``x-service``). A file that does not parse is skipped with its line: a broken spec in a repository
    should not stop an audit.
    """
    files = structure.files
    wanted = files[files["kind"].isin(["openapi", "pact"])]
    comp = dict(zip(wanted["path"], wanted["component"]))
    mine: list[Skip] = []
    specs, pacts = [], []
    for path, raw in repo.read_files(sorted(comp), rev):
        try:
            doc = parse_document(raw, path)
        except _ParseFailure as exc:
            report_skip(mine, path, f"contract file {'not read' if exc.limit else 'does not parse'}: "
                                    + exc.reason.removeprefix("is not valid ").removeprefix("is "), exc.line)
            continue
        if isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc):
            stem = Path(path).name.lower().split(".")[0]
            generic = stem in _GENERIC_STEMS and not (doc.get("x-service") or doc.get("x-service-name"))
            service = comp.get(path) if generic and isinstance(comp.get(path), str) else None
            specs.append(load_openapi(path, service=service, skips=mine, doc=doc))
        elif isinstance(doc, dict) and "consumer" in doc and "provider" in doc:
            pacts.append(load_pact(path, skips=mine, doc=doc))
        else:
            report_skip(mine, path, "named like a contract but neither an OpenAPI/Swagger spec nor a Pact file")
    return _contracts(specs, pacts, mine, skips)


def merge_contracts(*parts: Contracts | None) -> Contracts | None:
    """One :class:`Contracts` of several (``None`` parts ignored); ``None`` when nothing is left."""
    got = [p for p in parts if p is not None and (len(p.endpoints) or len(p.pacts))]
    skipped = [s for p in got for s in p.skipped]
    return _contracts([p.endpoints for p in got], [p.pacts for p in got], skipped, []) if got else None
