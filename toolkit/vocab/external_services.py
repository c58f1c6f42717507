"""Which external service a third-party module talks to — one table, used everywhere.

Mocks of these modules in tests (:mod:`toolkit.load.mocks`) and imports of them
in production code (root-cause analysis) are both named by the service kind, so
"the tests stub HTTP but production calls it for real" can be said in one word.
"""
from __future__ import annotations

#: dotted module prefix -> service kind. The longest matching prefix wins, so
#: ``boto3.sqs``-style specialisations override the generic ``boto3`` entry.
EXTERNAL_SERVICES: dict[str, str] = {
    # http
    "requests": "http", "httpx": "http", "urllib3": "http", "aiohttp": "http", "urllib.request": "http",
    "http.client": "http", "httplib2": "http", "pycurl": "http",
    # http stubbing libraries (they stand in for an HTTP server)
    "responses": "http", "requests_mock": "http", "respx": "http", "httpretty": "http", "vcr": "http",
    "pytest_httpx": "http", "pytest_recording": "http",
    # databases
    "sqlalchemy": "db", "psycopg": "db", "psycopg2": "db", "sqlite3": "db", "pymongo": "db", "motor": "db",
    "asyncpg": "db", "pymysql": "db", "MySQLdb": "db", "mysql.connector": "db", "cx_Oracle": "db", "oracledb": "db",
    "django.db": "db", "peewee": "db", "elasticsearch": "db", "cassandra": "db",
    # cache
    "redis": "cache", "aioredis": "cache", "pymemcache": "cache", "memcache": "cache",
    # queues
    "kafka": "queue", "confluent_kafka": "queue", "aiokafka": "queue", "pika": "queue", "aio_pika": "queue",
    "kombu": "queue", "celery": "queue", "nats": "queue",
    "boto3.sqs": "queue", "boto3.sns": "queue",
    # email
    "smtplib": "email",
    # cloud
    "boto3": "cloud", "botocore": "cloud", "google.cloud": "cloud", "azure": "cloud",
    # rpc
    "grpc": "rpc",
    # processes / sockets
    "subprocess": "process", "socket": "socket",
}


def external_service(qualname: str | None) -> str | None:
    """The service kind of a dotted module/symbol name (``requests.get`` -> ``http``), or ``None``.

    ``boto3.client("sqs")`` cannot be told from the name alone; callers that see
    the service argument may pass ``boto3.sqs``.
    """
    if not qualname:
        return None
    parts = qualname.split(".")
    for n in range(len(parts), 0, -1):
        kind = EXTERNAL_SERVICES.get(".".join(parts[:n]))
        if kind is not None:
            return kind
    return None
