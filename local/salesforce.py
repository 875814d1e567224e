"""Salesforce, as far as Relance's connector uses it, on loopback: no Salesforce org needed locally.

- A small company (``seed``): three account owners, twelve Accounts — ten carry the demo's customer
  numbers (``ERP-1000``…``ERP-1009``) in ``AccountNumber``, two are prospects without one — and their
  Contacts with titles (one without an email, as real CRMs have). Ids are Salesforce-shaped and fixed
  (``001…`` accounts, ``003…`` contacts, ``005…`` users); every date comes from ``relance.clock``.
- The REST API the unmodified ``simple-salesforce`` calls, over HTTPS (the library builds
  ``https://`` URLs only) on a port of its own with a certificate from a throwaway CA (``trustme``):
  ``POST /services/oauth2/token`` (client credentials, with the consumer key and secret in the body or
  as Basic authentication), ``POST /services/Soap/u/{version}`` (the SOAP ``login`` of a username,
  password and security token), ``GET /services/data/v{version}/query`` and ``queryAll`` (a SOQL
  subset: the queries the connector sends; paged by ``nextRecordsUrl`` past ``batch_size``),
  ``GET|PATCH /services/data/v{version}/sobjects/Account/{id}``. Errors come in Salesforce's shape
  (``[{"message", "errorCode"}]``): ``INVALID_SESSION_ID`` (401) for an unknown or expired token,
  ``INVALID_FIELD`` and ``MALFORMED_QUERY`` (400). ``refuse_next`` answers the next API calls with
  429 or 503 and a ``Retry-After``, or 403 ``REQUEST_LIMIT_EXCEEDED`` (the day's API requests used up).
- Source-side changes for the tests and the dev page (``/dev/salesforce`` on the runtime's port): a new
  contact, an account changing owner, a contact deleted (to the recycle bin: ``queryAll`` still shows
  it with ``IsDeleted``), an account edited.

Not emulated: the rest of SOQL (functions, subqueries, ``LIKE``, semi-joins), sharing rules,
field-level security, the 15-day purge of the recycle bin, and every other object and API.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
import secrets
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import trustme
from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from relance import clock

CONSUMER_KEY = "3MVG9relance.local.connected.app"
CONSUMER_SECRET = "relance-local-consumer-secret"  # noqa: S105 (the local stand-in's published secret)
USERNAME = "integration@relance-demo.example"
PASSWORD = "Relance-Local-2026"  # noqa: S105 (the local stand-in's published password)
SECURITY_TOKEN = "LocalSecurityToken"  # noqa: S105
ORGANIZATION_ID = "00D000000000001AAA"
LINK_FIELD = "Customer_AR_Portal__c"

_pages = Environment(loader=PackageLoader("local", "pages"), autoescape=select_autoescape())

# ------------------------------------------------------------------ the schema the stand-in knows
SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")
FIELDS: dict[str, tuple[str, ...]] = {
    "User": (*SYSTEM_FIELDS, *["Username", "Email", "FirstName", "LastName", "Name", "IsActive"]),
    "Account": (
        *SYSTEM_FIELDS,
        *["Name", "AccountNumber", "OwnerId", "Industry", "Phone", "Website", "BillingCountry"],
        LINK_FIELD,
    ),
    "Contact": (
        *SYSTEM_FIELDS,
        *["AccountId", "OwnerId", "FirstName", "LastName", "Name", "Email", "Phone", "MobilePhone", "Title"],
    ),
}
RELATIONSHIPS: dict[tuple[str, str], tuple[str, str]] = {
    # (object, relationship) → (the related object, the field holding its id)
    ("Account", "Owner"): ("User", "OwnerId"),
    ("Contact", "Account"): ("Account", "AccountId"),
    ("Contact", "Owner"): ("User", "OwnerId"),
}
DATETIME_FIELDS = {"CreatedDate", "LastModifiedDate", "SystemModstamp"}
PREFIXES = {"User": "005", "Account": "001", "Contact": "003"}


class SalesforceFault(Exception):
    """An answer in Salesforce's error shape: ``[{"message": …, "errorCode": …}]``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        return _json([{"message": self.message, "errorCode": self.code, "fields": []}], self.status)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers=headers, content_type="application/json;charset=UTF-8")


def salesforce_datetime(moment: datetime) -> str:
    """A dateTime as the REST API writes it: ``2026-03-01T09:30:00.000+0000`` (UTC, whole seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _now() -> datetime:
    """Salesforce keeps dateTimes to the second."""
    return clock.now().astimezone(UTC).replace(microsecond=0)


# ------------------------------------------------------------------ SOQL, the subset the connector sends
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "order", "by", "asc", "desc", "limit"}


@dataclass
class Comparison:
    path: str
    op: str
    value: Any


@dataclass
class Logical:
    op: str  # and | or | not
    parts: list[Comparison | Logical]


@dataclass
class Query:
    sobject: str
    fields: list[str]
    where: Comparison | Logical | None = None
    order: list[tuple[str, bool]] = field(default_factory=list)  # (path, descending)
    limit: int | None = None


def _tokens(soql: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = soql.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise SalesforceFault(400, "MALFORMED_QUERY", f"unexpected token at column {position + 1}: {soql}")
        position = match.end()
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "string":
            tokens.append(("value", re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), raw[1:-1])))
        elif kind == "datetime":
            tokens.append(("value", datetime.fromisoformat(raw.replace("Z", "+00:00"))))
        elif kind == "number":
            tokens.append(("value", float(raw) if "." in raw else int(raw)))
        elif kind == "name" and raw.lower() in {"null", "true", "false"}:
            tokens.append(("value", {"null": None, "true": True, "false": False}[raw.lower()]))
        elif kind == "name" and raw.lower() in KEYWORDS:
            tokens.append(("keyword", raw.lower()))
        else:
            tokens.append((kind, raw))
    return tokens


class _Parser:
    """SELECT fields FROM object [WHERE conditions] [ORDER BY fields] [LIMIT n]; conditions compare a field
    (or a parent's field, ``Account.AccountNumber``) with a literal or a list (``IN``), joined by AND, OR,
    NOT and parentheses."""

    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = _tokens(soql)
        self.position = 0

    def fail(self, what: str) -> SalesforceFault:
        return SalesforceFault(400, "MALFORMED_QUERY", f"{what}: {self.soql}")

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> Any:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            raise self.fail(f"expected {value or kind}")
        self.position += 1
        return token[1]

    def accept(self, kind: str, value: Any = None) -> bool:
        token = self.peek()
        if token is not None and token[0] == kind and (value is None or token[1] == value):
            self.position += 1
            return True
        return False

    def query(self) -> Query:
        self.take("keyword", "select")
        fields = [self.take("name")]
        while self.accept("op", ","):
            fields.append(self.take("name"))
        self.take("keyword", "from")
        query = Query(sobject=self.take("name"), fields=fields)
        if self.accept("keyword", "where"):
            query.where = self.condition()
        if self.accept("keyword", "order"):
            self.take("keyword", "by")
            query.order.append(self.ordering())
            while self.accept("op", ","):
                query.order.append(self.ordering())
        if self.accept("keyword", "limit"):
            query.limit = int(self.take("value"))
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()}")
        return query

    def ordering(self) -> tuple[str, bool]:
        path = self.take("name")
        descending = self.accept("keyword", "desc")
        if not descending:
            self.accept("keyword", "asc")
        return path, descending

    def condition(self) -> Comparison | Logical:
        parts = [self.conjunction()]
        while self.accept("keyword", "or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Logical("or", parts)

    def conjunction(self) -> Comparison | Logical:
        parts = [self.term()]
        while self.accept("keyword", "and"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Logical("and", parts)

    def term(self) -> Comparison | Logical:
        if self.accept("keyword", "not"):
            return Logical("not", [self.term()])
        if self.accept("op", "("):
            inner = self.condition()
            self.take("op", ")")
            return inner
        path = self.take("name")
        if self.accept("keyword", "in"):
            self.take("op", "(")
            values = [self.take("value")]
            while self.accept("op", ","):
                values.append(self.take("value"))
            self.take("op", ")")
            return Comparison(path, "in", values)
        op = self.take("op")
        if op not in {"=", "!=", "<>", "<", ">", "<=", ">="}:
            raise self.fail(f"unexpected {op}")
        return Comparison(path, "!=" if op == "<>" else op, self.take("value"))


def parse_soql(soql: str) -> Query:
    """The query, or ``MALFORMED_QUERY`` as Salesforce answers what it cannot read."""
    return _Parser(soql).query()


def _folded(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _compare(left: Any, op: str, right: Any) -> bool:
    """SOQL's comparison: text compares without regard to case, null only equals null."""
    if op in {"=", "!=", "in"}:
        left, right = _folded(left), [_folded(v) for v in right] if op == "in" else _folded(right)
    if op == "in":
        return left in right
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }
    return checks[op](left, right)


# ------------------------------------------------------------------ the stand-in
class LocalSalesforce:
    """The org's data, its REST API (``api``, served over HTTPS by ``start``) and the dev page's changes
    (``handle``, under ``/dev/salesforce`` on the runtime's port)."""

    PREFIX = "/dev/salesforce"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.base_url = ""
        self.ca_bundle = ""
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self.reset()

    def reset(self) -> None:
        """The company as seeded, dated from now; no session, refusal or call remembered."""
        with self._lock:
            self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in FIELDS}
            self.tokens: set[str] = set()
            self.sessions_refused = False  # every token is refused, a fresh one too (a user without API access)
            self.refusals: list[tuple[int, float | None]] = []
            self.calls: list[tuple[str, str, int]] = []
            self.batch_size = 2000  # Salesforce's default batch of query results
            self._cursors: dict[str, tuple[str, list[dict[str, Any]]]] = {}
            self._counters = {name: itertools.count(1) for name in FIELDS}
            self._locators = itertools.count(1)
            self._turn = itertools.count()
            self.seed()

    # -------------------------------------------------------------- serving
    def start(self) -> LocalSalesforce:
        """Serve the API over HTTPS on a free port; ``ca_bundle`` is the file a client trusts it with."""
        authority = trustme.CA()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        authority.issue_cert(self.host, "localhost").configure_cert(context)
        self._directory = tempfile.TemporaryDirectory(prefix="relance-salesforce-")
        bundle = Path(self._directory.name) / "ca.pem"
        authority.cert_pem.write_to_path(str(bundle))
        self.ca_bundle = str(bundle)
        self._server = make_server(self.host, 0, self.api, threaded=True, ssl_context=context)
        self.base_url = f"https://{self.host}:{self._server.server_port}"
        # It looks for a stop every 50 ms, as the runtime's servers do (local/runtime.py, POLL_SECONDS), not 500.
        serve = partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="salesforce", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._directory is not None:
            self._directory.cleanup()
            self._directory = None

    # -------------------------------------------------------------- the company
    def seed(self) -> None:
        """Three owners, ten customer accounts and two prospects, two contacts or so each, dated before now."""
        start = _now() - timedelta(days=60)
        owners = [
            self.insert("User", start, Username=username, Email=email, FirstName=first, LastName=last, IsActive=True)
            for username, email, first, last in (
                ("marc.dubois@relance-demo.example", "marc.manager@demo.relance.dev", "Marc", "Dubois"),
                ("sofia.rossi@relance-demo.example", "sofia.manager@demo.relance.dev", "Sofia", "Rossi"),
                ("jade.martin@relance-demo.example", "jade.sales@demo.relance.dev", "Jade", "Martin"),
            )
        ]
        companies = [
            ("Acme Industries", "Manufacturing", "US"),
            ("Globex Logistics", "Transportation", "US"),
            ("Initech Industries", "Technology", "US"),
            ("Umbrella Logistics", "Healthcare", "GB"),
            ("Stark Industries", "Manufacturing", "US"),
            ("Wayne Logistics", "Transportation", "FR"),
            ("Tyrell Industries", "Technology", "DE"),
            ("Cyberdyne Logistics", "Technology", "US"),
            ("Soylent Industries", "Food & Beverage", "FR"),
            ("Hooli Logistics", "Technology", "US"),
            ("Vandelay Industries", "Wholesale", "US"),
            ("Wonka Logistics", "Food & Beverage", "GB"),
        ]
        people = [
            ("Emma", "Smith", "Chief Financial Officer"),
            ("Liam", "Bernard", "Accounts Payable Manager"),
            ("Noah", "Garcia", "Procurement Lead"),
            ("Olivia", "Müller", "Controller"),
            ("Ava", "Rossi", "Finance Director"),
            ("Lucas", "Nguyen", "Accounts Payable Clerk"),
        ]
        for index, (name, industry, country) in enumerate(companies):
            moment = start + timedelta(days=index, hours=9)
            number = f"ERP-{1000 + index}" if index < 10 else None  # the last two are prospects
            domain = name.split()[0].lower() + ".example"
            account = self.insert(
                "Account",
                moment,
                Name=name,
                AccountNumber=number,
                OwnerId=owners[index % 3]["Id"],
                Industry=industry,
                BillingCountry=country,
                Phone=f"+1 555 01{index:02d}",
                Website=f"https://www.{domain}",
            )
            for turn in range(2 if index % 3 else 3):
                first, last, title = people[(index + turn) % len(people)]
                email = None if (index, turn) == (4, 1) else f"{first.lower()}.{last.lower()}@{domain}"
                self.insert(
                    "Contact",
                    moment + timedelta(minutes=turn + 1),
                    AccountId=account["Id"],
                    OwnerId=account["OwnerId"],
                    FirstName=first,
                    LastName=last,
                    Email=email,
                    Phone=f"+1 555 02{index:02d}" if turn == 0 else None,
                    Title=title,
                )

    def insert(self, sobject: str, moment: datetime | None = None, **values: Any) -> dict[str, Any]:
        """A new record with the next fixed id, stamped ``moment`` (default: now)."""
        with self._lock:
            stamp = (moment or _now()).replace(microsecond=0)
            number = next(self._counters[sobject])
            record: dict[str, Any] = dict.fromkeys(FIELDS[sobject])
            record.update(
                Id=f"{PREFIXES[sobject]}{number:012d}AAA",
                IsDeleted=False,
                CreatedDate=stamp,
                LastModifiedDate=stamp,
                SystemModstamp=stamp,
                **values,
            )
            if "Name" in record and sobject != "Account":
                record["Name"] = " ".join(part for part in (record.get("FirstName"), record.get("LastName")) if part)
            self.records[sobject][record["Id"]] = record
            return record

    def update(self, sobject: str, record_id: str, **values: Any) -> dict[str, Any]:
        """Change fields of a record as a user would: its ``SystemModstamp`` moves to now."""
        with self._lock:
            record = self.records[sobject][record_id]
            record.update(values, LastModifiedDate=_now(), SystemModstamp=_now())
            return record

    def delete(self, sobject: str, record_id: str) -> dict[str, Any]:
        """Delete to the recycle bin: gone from ``query``, shown by ``queryAll`` with ``IsDeleted``."""
        with self._lock:
            record = self.records[sobject][record_id]
            record.update(IsDeleted=True, SystemModstamp=_now())
            return record

    def accounts(self) -> list[dict[str, Any]]:
        return [a for a in self.records["Account"].values() if not a["IsDeleted"]]

    def account(self, number: str) -> dict[str, Any]:
        """The live account carrying ``number`` in ``AccountNumber``."""
        return next(a for a in self.accounts() if a["AccountNumber"] == number)

    def contacts_of(self, account_id: str) -> list[dict[str, Any]]:
        return [c for c in self.records["Contact"].values() if c["AccountId"] == account_id and not c["IsDeleted"]]

    def new_contact(self, account_id: str | None = None, **values: Any) -> dict[str, Any]:
        """A contact added in Salesforce (by default on the next customer account in turn)."""
        account = self.records["Account"][account_id] if account_id else self._next_customer_account()
        number = len(self.records["Contact"]) + 1
        fields = {
            "FirstName": "Nora",
            "LastName": f"Lambert {number}",
            "Email": f"nora.lambert{number}@{account['Name'].split()[0].lower()}.example",
            "Title": "Accounts Payable Specialist",
            **values,
        }
        return self.insert("Contact", AccountId=account["Id"], OwnerId=account["OwnerId"], **fields)

    def change_owner(self, account_id: str | None = None, owner_id: str | None = None) -> dict[str, Any]:
        """An account handed to another owner (by default: the next customer account, to the next owner)."""
        account = self.records["Account"][account_id] if account_id else self._next_customer_account()
        owners = sorted(self.records["User"])
        new_owner = owner_id or owners[(owners.index(account["OwnerId"]) + 1) % len(owners)]
        return self.update("Account", account["Id"], OwnerId=new_owner)

    def _next_customer_account(self) -> dict[str, Any]:
        customers = [a for a in self.accounts() if a["AccountNumber"]]
        return customers[next(self._turn) % len(customers)]

    def refuse_next(self, times: int = 1, status: int = 429, retry_after: float | None = 1) -> None:
        """The next ``times`` API calls fail: 429 or 503 (with ``Retry-After`` unless None), or 403
        ``REQUEST_LIMIT_EXCEEDED`` (the org's API requests of the last 24 hours are used up)."""
        with self._lock:
            self.refusals.extend([(status, retry_after)] * times)

    def expire_sessions(self) -> None:
        """Every access token stops working (a session timeout, a revoked app): the next call gets 401."""
        with self._lock:
            self.tokens.clear()

    # -------------------------------------------------------------- SOQL
    def query(self, soql: str, include_deleted: bool = False) -> dict[str, Any]:
        """The first batch of a query's answer, as ``/query`` (or ``/queryAll``) sends it."""
        parsed = parse_soql(soql)
        with self._lock:
            self._check(parsed)
            rows = [
                r
                for r in self.records[parsed.sobject].values()
                if (include_deleted or not r["IsDeleted"]) and self._holds(parsed.where, parsed.sobject, r)
            ]
            for path, descending in reversed(parsed.order):  # stable sorts: the first key sorts last
                rows.sort(key=partial(self._sort_key, parsed.sobject, path), reverse=descending)
            if parsed.limit is not None:
                rows = rows[: parsed.limit]
            shaped = [self._shape(parsed.sobject, r, parsed.fields) for r in rows]
            return self._page("queryAll" if include_deleted else "query", shaped, len(shaped))

    def more(self, endpoint: str, locator: str) -> dict[str, Any]:
        with self._lock:
            found = self._cursors.pop(locator, None)
            if found is None or found[0] != endpoint:
                raise SalesforceFault(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            return self._page(endpoint, found[1], None)

    def _page(self, endpoint: str, rows: list[dict[str, Any]], total: int | None) -> dict[str, Any]:
        batch, rest = rows[: self.batch_size], rows[self.batch_size :]
        answer: dict[str, Any] = {"totalSize": total if total is not None else len(rows), "done": not rest}
        if rest:
            locator = f"01g{next(self._locators):015d}-{self.batch_size}"
            self._cursors[locator] = (endpoint, rest)
            answer["nextRecordsUrl"] = f"/services/data/v59.0/{endpoint}/{locator}"
        answer["records"] = batch
        return answer

    def _field(self, sobject: str, path: str) -> tuple[str, str]:
        """The object and the field a path names, with Salesforce's spelling (SOQL ignores case)."""
        parts = path.split(".")
        for relationship in parts[:-1]:
            match = next(
                (key for key in RELATIONSHIPS if key[0] == sobject and key[1].lower() == relationship.lower()), None
            )
            if match is None:
                raise SalesforceFault(
                    400, "INVALID_FIELD", f"Didn't understand relationship '{relationship}' in field path"
                )
            sobject = RELATIONSHIPS[match][0]
        name = next((f for f in FIELDS[sobject] if f.lower() == parts[-1].lower()), None)
        if name is None:
            raise SalesforceFault(
                400,
                "INVALID_FIELD",
                f"No such column '{parts[-1]}' on entity '{sobject}'. If you are attempting to use a custom field, "
                "be sure to append the '__c' after the custom field name.",
            )
        return sobject, name

    def _check(self, query: Query) -> None:
        if query.sobject not in FIELDS:
            raise SalesforceFault(400, "INVALID_TYPE", f"sObject type '{query.sobject}' is not supported.")
        paths = [*query.fields, *(path for path, _ in query.order)]
        stack: list[Comparison | Logical] = [query.where] if query.where else []
        while stack:
            node = stack.pop()
            if isinstance(node, Comparison):
                paths.append(node.path)
            else:
                stack.extend(node.parts)
        for path in paths:
            self._field(query.sobject, path)

    def _value(self, sobject: str, record: dict[str, Any] | None, path: str) -> Any:
        parts = path.split(".")
        for relationship in parts[:-1]:
            if record is None:
                return None
            key = next(k for k in RELATIONSHIPS if k[0] == sobject and k[1].lower() == relationship.lower())
            sobject, via = RELATIONSHIPS[key]
            record = self.records[sobject].get(record[via] or "")
        if record is None:
            return None
        return record[self._field(sobject, parts[-1])[1]]

    def _holds(self, node: Comparison | Logical | None, sobject: str, record: dict[str, Any]) -> bool:
        if node is None:
            return True
        if isinstance(node, Comparison):
            return _compare(self._value(sobject, record, node.path), node.op, node.value)
        results = [self._holds(part, sobject, record) for part in node.parts]
        return not results[0] if node.op == "not" else (all(results) if node.op == "and" else any(results))

    def _sort_key(self, sobject: str, path: str, record: dict[str, Any]) -> tuple[bool, Any]:
        value = self._value(sobject, record, path)
        return value is not None, value  # nulls first, as Salesforce sorts ascending

    def _shape(self, sobject: str, record: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        """A record as the REST API answers it: ``attributes``, then the fields asked, parents nested."""
        shaped: dict[str, Any] = {"attributes": self._attributes(sobject, record["Id"])}
        for path in paths:
            node, current = shaped, sobject
            parent: dict[str, Any] | None = record
            parts = path.split(".")
            for relationship in parts[:-1]:
                key = next(k for k in RELATIONSHIPS if k[0] == current and k[1].lower() == relationship.lower())
                current, via = RELATIONSHIPS[key]
                parent = self.records[current].get(parent[via] or "") if parent is not None else None
                if parent is None:
                    node[key[1]] = None
                    break
                if not isinstance(node.get(key[1]), dict):
                    node[key[1]] = {"attributes": self._attributes(current, parent["Id"])}
                node = node[key[1]]
            else:
                name = self._field(current, parts[-1])[1]
                value = parent[name] if parent is not None else None
                node[name] = salesforce_datetime(value) if name in DATETIME_FIELDS and value else value
        return shaped

    @staticmethod
    def _attributes(sobject: str, record_id: str) -> dict[str, str]:
        return {"type": sobject, "url": f"/services/data/v59.0/sobjects/{sobject}/{record_id}"}

    # -------------------------------------------------------------- the REST API (the HTTPS port)
    def api(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self._route(request)
        except SalesforceFault as fault:
            response = fault.response()
        with self._lock:
            self.calls.append((request.method, request.full_path.rstrip("?"), response.status_code))
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if request.method == "POST" and path == "/services/oauth2/token":
            return self._token(request)
        if request.method == "POST" and re.fullmatch(r"/services/Soap/u/\d+\.\d", path):
            return self._soap_login(request)
        match = re.fullmatch(r"/services/data/v\d+\.\d(/.*)", path)
        if match is None:
            raise SalesforceFault(404, "NOT_FOUND", "The requested resource does not exist")
        self._authorize(request)
        refused = self._refusal()
        if refused is not None:
            return refused
        return self._data(request, match[1])

    def _data(self, request: Request, rest: str) -> Response:
        endpoint = re.fullmatch(r"/(query|queryAll)(?:/([\w-]+))?", rest)
        if endpoint and request.method == "GET":
            if endpoint[2]:
                return _json(self.more(endpoint[1], endpoint[2]))
            soql = request.args.get("q")
            if not soql:
                raise SalesforceFault(400, "MALFORMED_QUERY", "A query string is required (q)")
            return _json(self.query(soql, include_deleted=endpoint[1] == "queryAll"))
        record = re.fullmatch(r"/sobjects/(\w+)/(\w+)", rest)
        if record and record[1] in FIELDS:
            return self._record(request, record[1], record[2])
        raise SalesforceFault(404, "NOT_FOUND", "The requested resource does not exist")

    def _record(self, request: Request, sobject: str, record_id: str) -> Response:
        with self._lock:
            found = self.records[sobject].get(record_id)
            if found is None or found["IsDeleted"]:
                raise SalesforceFault(404, "NOT_FOUND", "The requested resource does not exist")
            if request.method == "GET":
                return _json(self._shape(sobject, found, list(FIELDS[sobject])))
            if request.method != "PATCH" or sobject != "Account":
                raise SalesforceFault(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed.")
            try:
                values = json.loads(request.get_data(as_text=True) or "{}")
            except json.JSONDecodeError as error:
                raise SalesforceFault(400, "JSON_PARSER_ERROR", str(error)) from error
            if not isinstance(values, dict):
                raise SalesforceFault(400, "JSON_PARSER_ERROR", "Can not deserialize SObject out of a non-object")
            changes = {}
            for name, value in values.items():
                canonical = self._field(sobject, name)[1]
                if canonical in SYSTEM_FIELDS:
                    raise SalesforceFault(
                        400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {name}."
                    )
                changes[canonical] = value
            self.update(sobject, record_id, **changes)
            return Response(status=204)

    def _authorize(self, request: Request) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self._lock:
            if scheme != "Bearer" or token not in self.tokens or self.sessions_refused:
                raise SalesforceFault(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def _refusal(self) -> Response | None:
        with self._lock:
            if not self.refusals:
                return None
            status, retry_after = self.refusals.pop(0)
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
        if status == 403:
            message = "TotalRequests Limit exceeded."
            return _json([{"message": message, "errorCode": "REQUEST_LIMIT_EXCEEDED"}], 403, headers)
        code = "REQUEST_LIMIT_EXCEEDED" if status == 429 else "SERVER_UNAVAILABLE"
        return _json([{"message": "Too many requests: try again later.", "errorCode": code}], status, headers)

    def _new_token(self) -> str:
        token = f"{ORGANIZATION_ID[:15]}!AQ{secrets.token_urlsafe(24)}"
        with self._lock:
            self.tokens.add(token)
        return token

    def _token(self, request: Request) -> Response:
        """The OAuth 2.0 client credentials flow of a connected app (the consumer key and secret)."""
        form = request.form
        key, secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Basic":
            key, _, secret = base64.b64decode(encoded).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type", "error_description": "grant type not supported"}, 400)
        if (key, secret) != (CONSUMER_KEY, CONSUMER_SECRET):
            return _json({"error": "invalid_client", "error_description": "invalid client credentials"}, 400)
        moment = int(_now().timestamp() * 1000)
        return _json(
            {
                "access_token": self._new_token(),
                "instance_url": self.base_url,
                "id": f"{self.base_url}/id/{ORGANIZATION_ID}/005000000000000AAA",
                "token_type": "Bearer",
                "issued_at": str(moment),
                "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
                "scope": "api",
            }
        )

    def _soap_login(self, request: Request) -> Response:
        """The SOAP API's ``login`` (username, and password followed by the security token)."""
        body = request.get_data(as_text=True)

        def element(name: str) -> str:
            found = re.search(rf"<(?:\w+:)?{name}>(.*?)</(?:\w+:)?{name}>", body, re.S)
            return html.unescape(found[1]) if found else ""

        if (element("username"), element("password")) != (USERNAME, PASSWORD + SECURITY_TOKEN):
            fault = (
                '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:sf="urn:fault.partner.soap.sforce.com">'
                "<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: "
                "Invalid username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault>"
                "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid username, password, "
                "security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault>"
                "</soapenv:Body></soapenv:Envelope>"
            )
            return Response(fault, 500, content_type="text/xml; charset=utf-8")
        version = request.path.rstrip("/").rsplit("/", 1)[1]
        answer = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com">'
            "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{self.base_url}/services/Soap/m/{version}/{ORGANIZATION_ID}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
            f"<serverUrl>{self.base_url}/services/Soap/u/{version}/{ORGANIZATION_ID}</serverUrl>"
            f"<sessionId>{self._new_token()}</sessionId><userId>005000000000000AAA</userId>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return Response(answer, 200, content_type="text/xml; charset=utf-8")

    # -------------------------------------------------------------- the dev page (the runtime's port)
    def handle(self, request: Request) -> Response | None:
        """``GET /dev/salesforce`` (the org and its credentials), ``POST /dev/salesforce/contacts`` (a new
        contact) and ``POST /dev/salesforce/owner`` (an account changes owner); None for other paths."""
        path = request.path.rstrip("/")
        if not path.startswith(self.PREFIX):
            return None
        action = path.removeprefix(self.PREFIX)
        if request.method == "GET" and action == "":
            return self._dev_page()
        if request.method == "POST" and action == "/contacts":
            self.new_contact()
            return Response(status=303, headers={"Location": self.PREFIX})
        if request.method == "POST" and action == "/owner":
            self.change_owner()
            return Response(status=303, headers={"Location": self.PREFIX})
        return _json({"error": {"code": "not_found", "message": "no such Salesforce stand-in endpoint"}}, 404)

    def _dev_page(self) -> Response:
        with self._lock:
            users = self.records["User"]
            accounts = [
                {**a, "owner": users[a["OwnerId"]]["Email"], "contacts": len(self.contacts_of(a["Id"]))}
                for a in self.accounts()
            ]
        page = _pages.get_template("salesforce.html").render(
            accounts=accounts,
            link_field=LINK_FIELD,
            login_url=self.base_url,
            consumer_key=CONSUMER_KEY,
            consumer_secret=CONSUMER_SECRET,
            username=USERNAME,
            password=PASSWORD,
            security_token=SECURITY_TOKEN,
        )
        return Response(page, content_type="text/html; charset=utf-8")
