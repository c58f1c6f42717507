"""Service-level interactions read statically: outgoing HTTP calls, message publish/subscribe, incoming routes.

A *service* is a deployable unit. By default every component (:mod:`toolkit.vocab.components`) is a service;
``service_map`` (component -> service name) merges components into services or renames them. Code is
read with ``ast`` only and never executed.

What is found (tables ``service_calls``, ``service_endpoints``, ``service_messages`` of :mod:`toolkit.vocab.schema`)
    HTTP calls
        ``requests``/``httpx`` module functions and ``Session``/``Client``/``AsyncClient`` objects (``base_url``
        honoured), ``aiohttp.ClientSession`` objects, ``urllib3`` ``request``/``PoolManager().request`` and
        ``urllib.request.urlopen`` of a URL, and ``urllib.request.Request(url, method=...)`` where it is built
        (a ``urlopen(request)`` of a Request built elsewhere is not counted twice). The URL expression is evaluated
        symbolically through the file's assignments: literals stay, f-string holes and concatenated variables
        become ``{param}``, ``os.environ[...]``/``os.getenv``/``settings.X``/``settings["x"]`` become the *base*
        (the setting that names the callee).
    messages
        kafka-python (``KafkaProducer.send``, ``KafkaConsumer(topics)``, ``.subscribe``), confluent-kafka
        (``produce``, ``subscribe``), pika (``basic_publish``, ``basic_consume``), boto3 SNS ``publish`` and SQS
        ``send_message``/``receive_message``, redis ``publish``/``subscribe``/``psubscribe``.
    routes
        decorators ``@x.get/post/put/patch/delete("/p")`` (FastAPI, Flask 2, Starlette-style routers, or an
        in-house router of the same shape), ``@x.route("/p", methods=[...])`` (Flask; default GET) with
        ``APIRouter(prefix=)``/``Blueprint(url_prefix=)`` prefixes, Django ``path()``/``re_path()``.
Resolving a call's callee service, in order
    1. the base setting's name is an ``environment`` entry of a docker-compose service or a Kubernetes
       manifest whose value names a host that is a known service (``INVENTORY_URL: http://inventory:8000``);
    2. a URL host (literal, or the default of ``os.getenv``) equal to a known service;
    3. the base setting's name minus ``_URL``/``_BASE_URL``/``_HOST``/``_API``/``_SERVICE``... equal to a known
       service (``INVENTORY_URL`` -> ``inventory``).
    Known services: the services of the component map, docker-compose service names and Kubernetes
    ``Service`` names (``-`` and ``_`` compare equal). Unresolved calls stay in the table with callee
    ``<NA>`` and a ``reason``.
"""
from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import pandas as pd

from toolkit.vocab import schema
from toolkit.vocab.components import ComponentMap, seam_name
from toolkit.errors import Skip, report_skip
from toolkit.load.python_ast import import_bindings, keyword, name_chain, string_value

__all__ = ["ServiceScan", "scan_services", "scan_source", "known_services", "normalize_path", "path_key",
           "service_of_name"]

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_CLIENT_CTORS = {"requests.Session": "requests", "requests.session": "requests", "httpx.Client": "httpx",
                 "httpx.AsyncClient": "httpx", "aiohttp.ClientSession": "aiohttp", "urllib3.PoolManager": "urllib3",
                 "urllib3.HTTPConnectionPool": "urllib3"}
_MODULE_HTTP = ("requests", "httpx")
_BASE_SUFFIXES = ("_base_url", "_service_url", "_api_url", "_url", "_uri", "_endpoint", "_host", "_addr",
                  "_address", "_api", "_service", "_svc")
#: bytes that a file must contain to be parsed at all (a cheap filter before ``ast.parse``)
_TRIGGERS = (b"requests", b"httpx", b"urllib", b"aiohttp", b"kafka", b"pika", b"boto3", b"redis", b"route",
             b"Router", b"Blueprint", b"FastAPI", b"Flask", b"django", b"path(", b"@app.")


@dataclass(frozen=True)
class ServiceScan:
    """Static service interactions of a repository.

    ``calls`` (schema ``service_calls``), ``endpoints`` (``service_endpoints``), ``messages``
    (``service_messages``); ``services``: every known service name; ``skipped``: files left out.
    """

    calls: pd.DataFrame
    endpoints: pd.DataFrame
    messages: pd.DataFrame
    services: tuple[str, ...] = ()
    skipped: tuple[Skip, ...] = ()


# ----------------------------------------------------------------------------- paths
_FLASK_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<([^>]+)>[^)]*\)")
_COLON_PARAM = re.compile(r"(?<=/):([A-Za-z_]\w*)")
_ANY_PARAM = re.compile(r"\{[^{}]*\}")


def normalize_path(path: str) -> str:
    """One spelling of a path template: ``{name}`` parameters, leading ``/``, no query, no trailing ``/``.

    Flask/Django ``<int:id>``, regex ``(?P<id>...)`` and Express-style ``:id`` become ``{id}``.
    """
    p = _REGEX_GROUP.sub(lambda m: "{" + m.group(1) + "}", path)
    p = p.split("?", 1)[0].split("#", 1)[0].strip()
    p = p.lstrip("^").rstrip("$")
    p = _FLASK_PARAM.sub(lambda m: "{" + m.group(1) + "}", p)
    p = _COLON_PARAM.sub(lambda m: "{" + m.group(1) + "}", p)
    p = re.sub(r"/{2,}", "/", p)
    if not p.startswith("/"):
        p = "/" + p
    if len(p) > 1 and p.endswith("/"):
        p = p[:-1]
    return p


def path_key(path: str) -> str:
    """A path template with every parameter name erased: what two templates must share to be the same route."""
    return _ANY_PARAM.sub("{}", normalize_path(path))


def _norm_name(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def service_of_name(name: str, services: Mapping[str, str]) -> str | None:
    """The service a setting name such as ``INVENTORY_URL`` points at (``services``: normalised -> name)."""
    low = name.lower().rsplit(".", 1)[-1]
    for suffix in _BASE_SUFFIXES:
        if low.endswith(suffix) and len(low) > len(suffix):
            low = low[: -len(suffix)]
            break
    return services.get(_norm_name(low))


# ----------------------------------------------------------------------------- symbolic URL values
# A value is a list of parts: ("lit", text) | ("param", name) | ("base", setting name, default or None)


class _FileScan:
    def __init__(self, path: str, module: str, tree: ast.Module, service: str | None) -> None:
        self.path, self.service = path, service
        self.nodes = list(ast.walk(tree))  # walked once, read by each pass over the whole file
        self.aliases = import_bindings(self.nodes, module, path.endswith("__init__.py"))
        self.tree = tree
        self.calls: list[dict] = []
        self.endpoints: list[dict] = []
        self.messages: list[dict] = []
        self.module_assign: dict[str, ast.AST] = {}
        self._self_attrs: dict[str, ast.AST] | None = None
        self.builds_requests = any(isinstance(n, ast.Call) and self.qual(n.func) == "urllib.request.Request"
                                   for n in self.nodes)
        for node in tree.body:
            self._collect_assign(node, self.module_assign)

    # ---- names ----------------------------------------------------------
    def qual(self, node: ast.AST) -> str | None:
        """Dotted name of ``node`` through the file's imports (``requests.get``), or ``None``."""
        chain = name_chain(node)
        if not chain or chain[0] not in self.aliases:
            return None
        return ".".join([self.aliases[chain[0]]] + chain[1:])

    @staticmethod
    def _collect_assign(node: ast.AST, into: dict[str, ast.AST]) -> None:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    into[t.id] = node.value
                elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                    into["self." + t.attr] = node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            if isinstance(node.target, ast.Name):
                into[node.target.id] = node.value
            elif isinstance(node.target, ast.Attribute) and isinstance(node.target.value, ast.Name):
                into[node.target.value.id + "." + node.target.attr] = node.value
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    into[item.optional_vars.id] = item.context_expr

    def lookup(self, name: str, local: Mapping[str, ast.AST]) -> ast.AST | None:
        return local.get(name, self.module_assign.get(name))

    def value(self, node: ast.AST | None, local: Mapping[str, ast.AST], depth: int = 0) -> list[tuple]:
        if node is None or depth > 12:
            return [("param", "value")]
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [("lit", node.value)]
        if isinstance(node, ast.JoinedStr):
            out: list[tuple] = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    out.append(("lit", str(v.value)))
                elif isinstance(v, ast.FormattedValue):
                    out += self.value(v.value, local, depth + 1)
            return out
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.value(node.left, local, depth + 1) + self.value(node.right, local, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str):
            return [("lit", re.sub(r"%[sdr]", "{param}", node.left.value))]
        if isinstance(node, ast.Name):
            assigned = self.lookup(node.id, local)
            if assigned is not None and assigned is not node:
                return self.value(assigned, {k: v for k, v in local.items() if k != node.id}, depth + 1)
            return [("param", node.id)]
        if isinstance(node, ast.Attribute):
            chain = name_chain(node)
            if chain and chain[0] == "self" and len(chain) == 2:
                assigned = self.lookup("self." + chain[1], local) or self._self_attr(chain[1])
                if assigned is not None:
                    return self.value(assigned, local, depth + 1)
            # settings.INVENTORY_URL, config.inventory_url, self.base_url: the attribute names the setting
            return [("base", node.attr, None)]
        if isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return [("base", key.value, None)]
            return [("param", "item")]
        if isinstance(node, ast.Call):
            q = self.qual(node.func) or ""
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else "")
            args = node.args
            if q in ("os.getenv", "os.environ.get") or (name in ("get", "getenv") and isinstance(func, ast.Attribute)
                                                        and name_chain(func.value) and name_chain(func.value)[-1] in
                                                        ("environ", "settings", "config", "env", "SETTINGS")):
                if args and string_value(args[0]) is not None:
                    return [("base", string_value(args[0]), string_value(args[1]) if len(args) > 1 else None)]
            if q.endswith("urljoin") and len(args) == 2:
                left = self.value(args[0], local, depth + 1)
                right = self.value(args[1], local, depth + 1)
                if left and left[-1][0] == "lit" and not left[-1][1].endswith("/") and right and right[0][0] == "lit" \
                        and not right[0][1].startswith("/"):
                    left = left + [("lit", "/")]
                return left + right
            if name == "format" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Constant):
                return [("lit", re.sub(r"\{[^{}]*\}", "{param}", str(func.value.value)))]
            if name in ("rstrip", "strip", "lstrip") and isinstance(func, ast.Attribute):
                return self.value(func.value, local, depth + 1)
            if name == "str" and args:
                return self.value(args[0], local, depth + 1)
        return [("param", "value")]

    def _self_attr(self, attr: str) -> ast.AST | None:
        """What ``self.<attr>`` was first assigned anywhere in the file (one walk, then a lookup)."""
        if self._self_attrs is None:
            self._self_attrs = {}
            for node in self.nodes:
                if isinstance(node, ast.Assign):
                    for t in node.targets:
                        if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                            self._self_attrs.setdefault(t.attr, node.value)
        return self._self_attrs.get(attr)

    # ---- scanning -------------------------------------------------------
    def run(self) -> None:
        self._scope(self.tree.body, {}, self.tree)
        self._routes()

    def _scope(self, body: list, outer: Mapping[str, ast.AST], owner: ast.AST) -> None:
        local: dict[str, ast.AST] = dict(outer)
        # gather this scope's assignments (not those of nested functions)
        stack = list(body)
        nested = []
        calls = []
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                nested.append(n)
                continue
            if isinstance(n, ast.ClassDef):
                stack.extend(n.body)
                continue
            self._collect_assign(n, local)
            if isinstance(n, ast.Call):
                calls.append(n)
            stack.extend(ast.iter_child_nodes(n))
        for c in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
            self._call(c, local)
        for fn in nested:
            inner = dict(local)
            for a in fn.args.args + fn.args.kwonlyargs:
                inner.pop(a.arg, None)
            self._scope(fn.body if isinstance(fn.body, list) else [fn.body], inner, fn)

    def _assigned(self, node: ast.AST, local: Mapping[str, ast.AST]) -> ast.AST | None:
        """What a name or ``self.<attr>`` was assigned (``None``: nothing known); any other expression itself."""
        if isinstance(node, ast.Name):
            return self.lookup(node.id, local)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            return self.lookup("self." + node.attr, local) or self._self_attr(node.attr)
        return node

    def _client_of(self, node: ast.AST, local: Mapping[str, ast.AST], depth: int = 0) -> tuple[str, ast.AST] | None:
        """(library, constructor call) when ``node`` holds an HTTP client object."""
        if depth > 6:
            return None
        if isinstance(node, ast.Call):
            q = self.qual(node.func)
            return (_CLIENT_CTORS[q], node) if q in _CLIENT_CTORS else None
        v = self._assigned(node, local)
        return None if v is None or v is node else self._client_of(v, local, depth + 1)

    def _str(self, node: ast.AST | None, local: Mapping[str, ast.AST]) -> str | None:
        return None if node is None else _render(self.value(node, local))[0]

    def _call(self, call: ast.Call, local: Mapping[str, ast.AST]) -> None:
        func = call.func
        q = self.qual(func)
        attr = func.attr if isinstance(func, ast.Attribute) else None
        # ---- HTTP --------------------------------------------------------
        if q is not None:
            mod, _, name = q.rpartition(".")
            if (mod in _MODULE_HTTP and name in (*HTTP_METHODS, "request", "stream")) or q == "urllib3.request":
                self._http(call, mod, name, None, local)
                return
            if q == "urllib.request.urlopen":
                self._urlopen(call, local)
                return
            if q == "urllib.request.Request":
                self._request(call, local)
                return
            if q in ("kafka.KafkaConsumer", "aiokafka.AIOKafkaConsumer") and call.args:
                for t in self._topics_list(call, local):
                    self._add_msg(call.lineno, "subscribe", t, "kafka", "kafka-python")
                return
        if attr is not None:
            client = self._client_of(func.value, local)
            if client is not None and (attr in HTTP_METHODS or attr in ("request", "stream", "urlopen")):
                self._http(call, client[0], attr, client[1], local)
                return
            self._message(call, attr, local)

    def _http(self, call: ast.Call, library: str, name: str, ctor: ast.Call | None, local) -> None:
        args = list(call.args)
        method = string_value(args.pop(0) if args else keyword(call, "method")) if name in (
            "request", "stream", "urlopen") else name
        method = method and method.upper()
        url_node = args[0] if args else keyword(call, "url")
        parts = self.value(url_node, local) if url_node is not None else [("param", "url")]
        if ctor is not None:
            base = keyword(ctor, "base_url")
            if base is None and library == "aiohttp" and ctor.args:
                base = ctor.args[0]
            if base is not None:
                parts = self.value(base, local) + parts
        self._add_call(call.lineno, method, parts, library)

    def _request(self, target: ast.Call, local) -> None:
        """``urllib.request.Request(url, data=..., method=...)``: the request is built, so the call is here."""
        url = target.args[0] if target.args else keyword(target, "url")
        m = keyword(target, "method")
        method = m.value.upper() if isinstance(m, ast.Constant) and isinstance(m.value, str) else (
            "POST" if (len(target.args) > 1 or keyword(target, "data") is not None) else "GET")
        self._add_call(target.lineno, method, self.value(url, local), "urllib.request")

    def _urlopen(self, call: ast.Call, local) -> None:
        arg = call.args[0] if call.args else keyword(call, "url")
        target = arg
        if isinstance(arg, ast.Name):
            target = self.lookup(arg.id, local) or arg
        if isinstance(target, ast.Call) and (self.qual(target.func) or "").endswith("urllib.request.Request"):
            return  # recorded where the Request is built
        if isinstance(target, ast.Name) and self.builds_requests:
            return  # a Request built by a caller of this helper, recorded there
        method = "POST" if len(call.args) > 1 or keyword(call, "data") is not None else "GET"
        self._add_call(call.lineno, method, self.value(arg, local), "urllib.request")

    def _add_call(self, line: int, method: str | None, parts: list[tuple], library: str) -> None:
        url, base, default = _render(parts)
        self.calls.append({"path": self.path, "line": line, "caller_service": self.service, "library": library,
                           "method": method, "url_template": url, "base": base, "base_default": default})

    # ---- messages -------------------------------------------------------
    def _topic_arg(self, call: ast.Call, local, pos: int = 0, kw: tuple[str, ...] = ("topic",)) -> str | None:
        node = call.args[pos] if len(call.args) > pos else keyword(call, *kw)
        return None if node is None else _topic(self.value(node, local))

    def _message(self, call: ast.Call, attr: str, local) -> None:
        roots = {t.split(".")[0] for t in self.aliases.values()}
        recv = self._ctor_q(call.func.value, local) or ""
        rec = None
        if attr == "send" and (recv.endswith("KafkaProducer") or (not recv and "kafka" in roots)):
            rec = ("publish", self._topic_arg(call, local), "kafka", "kafka-python")
        elif attr == "produce" and ("confluent_kafka" in roots or recv.endswith("Producer")):
            rec = ("publish", self._topic_arg(call, local), "kafka", "confluent-kafka")
        elif attr == "subscribe" and (recv.endswith(("KafkaConsumer", "Consumer")) or (
                not recv.startswith("redis") and ("kafka" in roots or "confluent_kafka" in roots) and "redis" not in roots)):
            for t in self._topics_list(call, local):
                self._add_msg(call.lineno, "subscribe", t, "kafka",
                              "confluent-kafka" if "confluent_kafka" in roots else "kafka-python")
            return
        elif attr in ("publish",) and (recv.startswith("boto3") or "boto3" in roots) and keyword(call, "TopicArn") is not None:
            rec = ("publish", _arn_name(self._str(keyword(call, "TopicArn"), local)), "sns", "boto3")
        elif attr in ("send_message", "send_message_batch") and ("boto3" in roots):
            rec = ("publish", _queue_name(self._str(keyword(call, "QueueUrl"), local)), "sqs", "boto3")
        elif attr == "receive_message" and "boto3" in roots:
            rec = ("subscribe", _queue_name(self._str(keyword(call, "QueueUrl"), local)), "sqs", "boto3")
        elif attr == "basic_publish" and ("pika" in roots or "aio_pika" in roots):
            ex = self._str(keyword(call, "exchange"), local)
            rk = self._str(keyword(call, "routing_key"), local)
            rec = ("publish", ex if ex else rk, "rabbitmq", "pika")
        elif attr == "basic_consume" and ("pika" in roots or "aio_pika" in roots):
            rec = ("subscribe", self._topic_arg(call, local, 0, ("queue",)), "rabbitmq", "pika")
        elif attr == "publish" and ("redis" in roots or recv.startswith("redis")):
            rec = ("publish", self._topic_arg(call, local, 0, ("channel",)), "redis", "redis")
        elif attr in ("subscribe", "psubscribe") and ("redis" in roots or recv.startswith("redis")):
            for t in self._topics_list(call, local):
                self._add_msg(call.lineno, "subscribe", t, "redis", "redis")
            return
        if rec is not None:
            self._add_msg(call.lineno, *rec)

    def _ctor_q(self, node: ast.AST, local, depth: int = 0) -> str | None:
        """Qualified constructor of the object ``node`` holds (``kafka.KafkaProducer``), when known."""
        if depth > 6:
            return None
        v = self._assigned(node, local)
        if isinstance(v, ast.Call):
            q = self.qual(v.func)
            if q is not None:
                return q
            if isinstance(v.func, ast.Attribute):  # r.pubsub()
                return self._ctor_q(v.func.value, local, depth + 1)
        elif isinstance(v, (ast.Name, ast.Attribute)) and v is not node:
            return self._ctor_q(v, local, depth + 1)
        return None

    def _topics_list(self, call: ast.Call, local) -> list[str | None]:
        nodes: list[ast.AST] = []
        for a in call.args:
            nodes += a.elts if isinstance(a, (ast.List, ast.Tuple)) else [a]
        kw = keyword(call, "topics")
        if kw is not None:
            nodes += kw.elts if isinstance(kw, (ast.List, ast.Tuple)) else [kw]
        return [_topic(self.value(n, local)) for n in nodes] or [None]

    def _add_msg(self, line: int, direction: str, topic: str | None, broker: str, library: str) -> None:
        self.messages.append({"path": self.path, "line": line, "service": self.service, "direction": direction,
                              "topic": topic, "broker": broker, "library": library})

    # ---- routes ---------------------------------------------------------
    def _routes(self) -> None:
        prefixes = {name: string_value(keyword(v, "prefix") or keyword(v, "url_prefix"))
                    for name, v in self.module_assign.items() if isinstance(v, ast.Call)}
        frameworks = {t.split(".")[0] for t in self.aliases.values()}
        fw = next((f for f in ("fastapi", "flask", "starlette", "django", "aiohttp", "bottle") if f in frameworks),
                  "decorator")
        for node in self.nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for d in node.decorator_list:
                    if not (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)):
                        continue
                    verb = d.func.attr
                    if verb not in HTTP_METHODS and verb not in ("route", "api_route", "websocket"):
                        continue
                    path = string_value(d.args[0] if d.args else keyword(d, "path") or keyword(d, "rule"))
                    if path is None:
                        continue
                    owner = name_chain(d.func.value)
                    prefix = (prefixes.get(owner[-1]) or "") if owner else ""
                    if verb in ("route", "api_route"):
                        m = keyword(d, "methods")
                        methods = [e.value.upper() for e in m.elts if isinstance(e, ast.Constant)] if isinstance(
                            m, (ast.List, ast.Tuple, ast.Set)) else ["GET"]
                    else:
                        methods = [verb.upper()]
                    for method in methods:
                        self.endpoints.append({"path": self.path, "line": d.lineno, "service": self.service,
                                               "method": method, "path_template": normalize_path(prefix + path),
                                               "framework": fw, "handler": node.name})
            elif isinstance(node, ast.Call):
                q = self.qual(node.func) or ""
                if q in ("django.urls.path", "django.urls.re_path", "django.conf.urls.url") and node.args and \
                        isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    view = node.args[1] if len(node.args) > 1 else None
                    handler = ".".join(name_chain(view) or []) if view is not None else None
                    self.endpoints.append({"path": self.path, "line": node.lineno, "service": self.service,
                                           "method": "ANY", "path_template": normalize_path(node.args[0].value),
                                           "framework": "django", "handler": handler or None})


def _render(parts: list[tuple]) -> tuple[str, str | None, str | None]:
    """(template, base setting, its default) of a symbolic value; holes become ``{name}``."""
    out, base, default = [], None, None
    for p in parts:
        if p[0] == "lit":
            out.append(p[1])
        else:
            if p[0] == "base" and base is None and not "".join(out).strip():
                base, default = p[1], p[2]
            out.append("{" + p[1] + "}")
    return "".join(out), base, default


def _topic(parts: list[tuple]) -> str | None:
    text, base, default = _render(parts)
    if base is not None and text == "{" + base + "}":
        return default or base
    return text or None


def _arn_name(arn: str | None) -> str | None:
    return None if arn is None else arn.rsplit(":", 1)[-1].strip("{}")


def _queue_name(url: str | None) -> str | None:
    return None if url is None else url.rstrip("/").rsplit("/", 1)[-1].strip("{}")


def scan_source(path: str, module: str, source: bytes, service: str | None) -> tuple[list[dict], list[dict], list[dict]]:
    """Raw HTTP call, endpoint and message rows of one file (unresolved); raises ``SyntaxError``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = ast.parse(source, filename=path)
    scan = _FileScan(path, module, tree, service)
    scan.run()
    return scan.calls, scan.endpoints, scan.messages


# ----------------------------------------------------------------------------- deployment manifests
def _host_of(url: str | None) -> str | None:
    if not url:
        return None
    text = url if "://" in url else "http://" + url
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host.split(".")[0] if host else None


def known_services(files: Mapping[str, bytes], skips: list[Skip] | None = None) -> tuple[set[str], dict[str, str]]:
    """Service names and ``setting name -> host`` from docker-compose and Kubernetes YAML files.

    A compose file's ``services`` keys and a Kubernetes ``kind: Service``'s ``metadata.name`` are services;
    every ``environment``/``env`` entry whose value is a URL or host gives its name's host. Files that do not
    parse or are over a parse limit (:mod:`toolkit.load.limits`) are reported as skips.
    """
    import yaml

    from toolkit.load.limits import LimitExceeded, load_yaml_all

    names: set[str] = set()
    env_hosts: dict[str, str] = {}
    for path, raw in sorted(files.items()):
        try:
            docs = [d for d in load_yaml_all(raw.decode("utf-8", "replace")) if isinstance(d, dict)]
        except LimitExceeded as exc:
            report_skip(skips, path, f"not read: {exc.reason}")
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            report_skip(skips, path, f"is not valid YAML: {getattr(exc, 'problem', exc)}",
                        None if mark is None else mark.line + 1)
            continue
        for doc in docs:
            services = doc.get("services")
            if isinstance(services, dict):
                for name, spec in services.items():
                    names.add(str(name))
                    env = spec.get("environment") if isinstance(spec, dict) else None
                    items = env.items() if isinstance(env, dict) else (
                        (e.split("=", 1) + [""])[:2] for e in env if isinstance(e, str)) if isinstance(env, list) else ()
                    for k, v in items:
                        host = _host_of(str(v)) if v else None
                        if host:
                            env_hosts[str(k)] = host
            if doc.get("kind") == "Service" and isinstance(doc.get("metadata"), dict) and doc["metadata"].get("name"):
                names.add(str(doc["metadata"]["name"]))
            for node in _walk_yaml(doc):
                if isinstance(node, dict) and isinstance(node.get("name"), str) and isinstance(node.get("value"), str):
                    host = _host_of(node["value"]) if ("://" in node["value"] or ":" in node["value"]) else None
                    if host:
                        env_hosts[node["name"]] = host
    return names, env_hosts


def _walk_yaml(node: object, depth: int = 0):
    if depth > 40:
        return
    yield node
    for v in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        yield from _walk_yaml(v, depth + 1)


def _is_manifest(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if not name.endswith((".yml", ".yaml")):
        return False
    return name.startswith(("docker-compose", "compose")) or any(
        part in ("k8s", "kubernetes", "manifests", "deploy", "helm", "charts") for part in path.lower().split("/")[:-1])


# ----------------------------------------------------------------------------- repository scan
def scan_services(structure, repo, rev: str | None = None, *, service_map: Mapping[str, str] | None = None,
                  skips: list[Skip] | None = None) -> ServiceScan:
    """Find the service interactions of a repository (see the module docstring).

    ``structure``: :func:`toolkit.load.structure.load_structure`'s result (its file table and component map
    are reused; files are re-read through ``repo`` because the structure pass keeps no string arguments).
    ``service_map``: component -> service (default: each component is a service). Test files are not
    services and are not scanned. Files that do not parse are already reported by the structure pass.
    """
    files = structure.files
    comps: ComponentMap = structure.components
    smap = dict(service_map or {})

    def service_of(component: str | None) -> str | None:
        return None if component is None else smap.get(component, component)

    py = files[(files["kind"] == "python") & ~files["is_test"] & files["component"].notna()]
    comp_of = dict(zip(py["path"], py["component"]))
    module_of = dict(zip(py["path"], py["module"]))
    manifests = [p for p in files["path"] if _is_manifest(p)]
    contents = dict(repo.read_files(list(py["path"]) + manifests, rev))
    svc_names, env_hosts = known_services({p: contents[p] for p in manifests if p in contents}, skips)
    services = {service_of(c) for c in comps.names} | svc_names
    lookup = {_norm_name(s): s for s in services if s}

    calls, endpoints, messages = [], [], []
    skipped: list[Skip] = []
    for path in sorted(comp_of):
        raw = contents.get(path)
        if raw is None or not any(t in raw for t in _TRIGGERS):
            continue
        try:
            c, e, m = scan_source(path, module_of[path] or "", raw, service_of(comp_of[path]))
        except (SyntaxError, ValueError, RecursionError) as exc:
            skipped.append(Skip(path, f"not scanned for service calls: {type(exc).__name__}", getattr(exc, "lineno", None)))
            continue
        calls += c
        endpoints += e
        messages += m

    for row in calls:
        callee, how, reason = _resolve(row, lookup, env_hosts)
        if callee is not None and callee == row["caller_service"]:
            callee, how, reason = None, None, "calls its own service"
        row.update(callee_service=callee, resolved_by=how, reason=reason,
                   path_template=_path_part(row["url_template"], row["base"]),
                   seam=seam_name(row["caller_service"], callee) if callee else None)
    calls_df, ep_df, msg_df = (schema.conform(pd.DataFrame(rows, columns=schema.columns(t)), t)
                               .sort_values(["path", "line"], kind="stable").reset_index(drop=True)
                               for rows, t in ((calls, "service_calls"), (endpoints, "service_endpoints"),
                                               (messages, "service_messages")))
    for s in skipped:
        report_skip(skips, s.path, s.reason, s.line)
    return ServiceScan(calls=calls_df, endpoints=ep_df, messages=msg_df, services=tuple(sorted(services - {None})),
                       skipped=tuple(skipped))


def _resolve(row: dict, lookup: Mapping[str, str], env_hosts: Mapping[str, str]) -> tuple[str | None, str | None, str]:
    base, url = row["base"], row["url_template"]
    if base is not None:
        host = env_hosts.get(base) or env_hosts.get(base.upper())
        if host and _norm_name(host) in lookup:
            return lookup[_norm_name(host)], f"deployment env {base} -> host {host}", ""
    literal = url if base is None else (row["base_default"] or "")
    host = _host_of(literal) if literal.startswith(("http://", "https://")) or (base and literal) else None
    if host and _norm_name(host) in lookup:
        return lookup[_norm_name(host)], f"URL host {host}", ""
    if base is not None:
        svc = service_of_name(base, lookup)
        if svc is not None:
            return svc, f"setting name {base}", ""
        return None, None, f"setting {base} names no known service"
    if host:
        return None, None, f"host {host} is not a known service (external?)"
    return None, None, "URL is not a literal, setting or environment variable"


def _path_part(url: str, base: str | None) -> str:
    if base is None and url.startswith("{"):
        return url  # host and path both unknown (a helper's parameters): keep the template as written
    if base is not None and url.startswith("{" + base + "}"):
        rest = url[len(base) + 2:]
    elif "://" in url:
        rest = urlsplit(url.replace("{", "%7B").replace("}", "%7D")).path.replace("%7B", "{").replace("%7D", "}")
    else:
        rest = url
    return normalize_path(rest) if rest else "/"
