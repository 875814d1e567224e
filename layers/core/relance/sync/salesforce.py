"""Salesforce: account owners and the contacts of the accounts that are Relance customers (docs/integrations.md).

Salesforce is the CRM, not the books: by default it creates no customer. The billing tool (Stripe
Billing, QuickBooks Online) or the API creates customers with their invoices, and Salesforce enriches
the ones it knows. An Account is a Relance customer when one of its fields (``matchField``:
``AccountNumber`` by default, a custom ``Relance_External_Id__c``…, or ``Id`` for the Account Id) holds
the customer's ``externalId``; Accounts where it is empty (prospects) are not read. With
``createCustomers``, each such Account becomes a customer too (its name), and a deleted one is removed.

- **Account owners** (``Owner``: a User's Email, FirstName, LastName) → :class:`SourceAccountOwner`
  with the customers of the page they own: invited as account managers and added to those customers'
  account managers. An inactive owner is not invited (a :class:`RecordError` says so).
- **Contacts** (``syncContacts``) with their ``Title`` → :class:`SourceContactUpdate` per account.
  Relance writes to people by email: a contact without one is a :class:`RecordError`. A contact deleted
  in Salesforce (in the recycle bin: ``queryAll`` shows it with ``IsDeleted``) is a :class:`Removal` of
  its address, unless a live contact of a customer account still has it (a merge keeps one of two).
- **Deltas**: one object at a time (Account, then Contact), ``SystemModstamp`` after the cursor's
  ``(SystemModstamp, Id)`` ordered by both, ``PAGE_SIZE`` rows a page (``query_all`` follows
  ``nextRecordsUrl`` when Salesforce answers in smaller batches); the cursor is each object's last
  ``(SystemModstamp, Id)``. Rows modified in the last ``SETTLING`` are left for the next run, so a row
  written in the second the cursor ends on, or in a transaction still open, is never skipped.
- **No webhooks** in this version: Outbound Messages and Platform Events need a setup in the org.
  Changes arrive by the schedule (every 15 minutes); :meth:`SalesforceConnector.webhook` refuses.
- **Write-back**: the Relance customer page's URL into ``linkField`` (``Customer_AR_Portal__c`` by
  default, a URL field to create on Account) of each Account of that customer. No payments.
- **Signing in**: a connected (or external client) app's OAuth 2.0 **client credentials** flow
  (consumer key and secret, a Run As user), or the SOAP ``login`` of a username, password and security
  token. Both at the org's My Domain URL, or at ``SALESFORCE_LOGIN_URL`` (the local runtime's stand-in,
  trusted through ``SALESFORCE_CA_BUNDLE``); the rest goes to the ``instance_url`` Salesforce answers.
  An access token refused later (401 ``INVALID_SESSION_ID``: expired, revoked) signs in again once.
- **Limits**: 429 and 503 are retried by urllib3 with backoff, honouring ``Retry-After``; still refused
  after that, or 403 ``REQUEST_LIMIT_EXCEEDED`` (the org's API requests of the last 24 hours used up)
  → :class:`SourceUnavailable`. Credentials, permissions or a field the org lacks → :class:`SourceRefused`
  saying what to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import urlparse

import requests
from pydantic import Field, ValidationError, field_validator, model_validator
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql
from simple_salesforce.login import SalesforceLogin, token_login
from urllib3.util.retry import Retry

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.sync import (
    Batch,
    CustomerLink,
    PaymentWriteBack,
    RecordError,
    Removal,
    SourceAccountOwner,
    SourceContact,
    SourceContactUpdate,
    SourceCustomer,
)
from relance.settings import get_settings
from relance.sync import Connector, SourceRefused, SourceUnavailable, WebhookRefused

T = TypeVar("T")
SObject = Literal["Account", "Contact"]

PAGE_SIZE = 500
"""Rows per page: the cursor is kept after each."""
SETTLING = timedelta(seconds=60)
"""How long a change waits before a run reads it (see the module's docstring)."""
TIMEOUT = (5, 60)
"""Seconds to connect and to read: simple-salesforce sets none."""
RETRIES = Retry(
    total=4,
    status_forcelist=(429, 503),
    allowed_methods=None,  # a refused request was not processed: a query, a sign-in or a PATCH is safe again
    backoff_factor=1,
    respect_retry_after_header=True,
    raise_on_status=False,  # the last refusal comes back, and becomes SourceUnavailable with its Retry-After
)
API_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
"""A field's API name (``AccountNumber``, ``Customer_AR_Portal__c``): what SOQL and the REST API take."""


class Settings(RelanceModel):
    """The Salesforce org this connection reads, and how its Accounts meet Relance's customers."""

    instance_url: str = Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:\d{1,5})?/?$",
        description="the org's My Domain URL, e.g. https://acme.my.salesforce.com (Setup → My Domain)",
    )
    match_field: str = Field(
        default="AccountNumber",
        pattern=API_NAME,
        description="the Account field holding the Relance customer's externalId (Id: the Account Id itself)",
    )
    link_field: str | None = Field(
        default="Customer_AR_Portal__c",
        pattern=API_NAME,
        description="the Account's URL field Relance writes the customer page into; empty: none",
    )
    sync_contacts: bool = Field(default=True, description="read the accounts' contacts and their titles")
    create_customers: bool = Field(
        default=False,
        description="each matched Account becomes a customer (by default the billing tool creates customers)",
    )

    @field_validator("link_field", mode="before")
    @classmethod
    def _no_link(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def basis(self) -> str:
        """What decides which Accounts are read and what they give: a change reads them all again."""
        return f"{self.match_field}/{'customers' if self.create_customers else 'enrich'}"


class Secret(RelanceModel):
    """A connected app's consumer key and secret (client credentials flow), or a user's login."""

    consumer_key: str | None = Field(default=None, min_length=1, description="the connected app's Consumer Key")
    consumer_secret: str | None = Field(default=None, min_length=1, description="the app's Consumer Secret")
    username: str | None = Field(default=None, min_length=1, description="or: the integration user's username")
    password: str | None = Field(default=None, min_length=1, description="its password")
    security_token: str | None = Field(default=None, description="its security token (none from a trusted IP)")

    @model_validator(mode="after")
    def _one_way_in(self) -> Secret:
        if (self.consumer_key and self.consumer_secret) or (self.username and self.password):
            return self
        raise ValueError(
            "give the connected app's consumerKey and consumerSecret (client credentials), "
            "or a username, password and securityToken"
        )


def connect(settings: Mapping[str, Any], secret: Mapping[str, str]) -> Connector:
    """A connector to the org ``settings`` names; nothing is sent to Salesforce until it is used."""
    return SalesforceConnector(Settings.model_validate(settings), Secret.model_validate(secret))


class _Transport(HTTPAdapter):
    """urllib3's retries of 429 and 503, a timeout on every request (simple-salesforce passes none), and the
    certificate authority ``SALESFORCE_CA_BUNDLE`` names, if any (set here: requests lets the environment's
    ``REQUESTS_CA_BUNDLE`` win over a session's ``verify``)."""

    def __init__(self, ca_bundle: str | None) -> None:
        super().__init__(max_retries=RETRIES)
        self.ca_bundle = ca_bundle

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["timeout"] = kwargs.get("timeout") or TIMEOUT
        if self.ca_bundle:
            kwargs["verify"] = self.ca_bundle
        return super().send(request, **kwargs)


class _Cursor(RelanceModel):
    """Where each object's reading stopped (its last ``SystemModstamp`` and ``Id``), and which one is next."""

    phase: SObject = "Account"
    marks: dict[SObject, tuple[str, str]] = Field(default_factory=dict)
    basis: str | None = None


class SalesforceConnector:
    """Reads the org by SOQL through simple-salesforce (see the module's docstring)."""

    def __init__(self, settings: Settings, secret: Secret, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.secret = secret
        self.session = session or requests.Session()
        self.session.mount("https://", _Transport(get_settings().salesforce_ca_bundle))
        self.session.hooks["response"].append(self._note_retry_after)
        self._client: Salesforce | None = None
        self._retry_after: float | None = None

    # ------------------------------------------------------------ the interface
    def changes(self, cursor: str | None) -> Batch:
        state = _Cursor.model_validate_json(cursor) if cursor else _Cursor()
        if state.basis != self.settings.basis:
            state = _Cursor(basis=self.settings.basis)  # another match field, or customers now created: all again
        phases: list[SObject] = ["Account", "Contact"] if self.settings.sync_contacts else ["Account"]
        phase = state.phase if state.phase in phases else phases[0]
        mark = state.marks.get(phase)
        soql = self._soql(phase, mark)
        rows: list[dict[str, Any]] = self._call(
            lambda client: client.query_all(soql, include_deleted=mark is not None, timeout=TIMEOUT)["records"]
        )
        batch = self._accounts(rows) if phase == "Account" else self._contacts(rows)
        if rows:
            state.marks[phase] = (str(rows[-1]["SystemModstamp"]), str(rows[-1]["Id"]))
        more = len(rows) >= PAGE_SIZE
        if not more:
            following = phases.index(phase) + 1
            more = following < len(phases)
            phase = phases[following] if more else phases[0]
        state.phase = phase
        batch.cursor, batch.more = state.model_dump_json(), more
        return batch

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> Batch:
        raise WebhookRefused(
            "Salesforce sends Relance no webhooks: its changes arrive with the scheduled sync, every 15 minutes"
        )

    def write_back_payment(self, payment: PaymentWriteBack) -> str | None:
        return None  # Salesforce keeps no payments: the billing tool does

    def write_back_link(self, link: CustomerLink) -> bool:
        """The customer page's URL into ``linkField`` of each Account of that customer; False when no field
        is set, or no Account carries the customer's externalId."""
        field = self.settings.link_field
        if not field:
            return False
        if self.settings.match_field == "Id":
            account_ids = [link.customer_external_id]
        else:
            soql = format_soql(
                "SELECT Id FROM Account WHERE {:literal} = {}", self.settings.match_field, link.customer_external_id
            )
            rows = self._call(lambda client: client.query_all(soql, timeout=TIMEOUT)["records"])
            account_ids = [str(row["Id"]) for row in rows]
        written = [self._patch(f"sobjects/Account/{account_id}", {field: link.url}) for account_id in account_ids]
        return any(written)

    def _patch(self, path: str, values: dict[str, str]) -> bool:
        """``PATCH`` a record; False when it is gone (deleted since it was read)."""
        try:
            self._call(lambda client: client.restful(path, method="PATCH", json=values, timeout=TIMEOUT))
        except SourceRefused as refused:
            if isinstance(refused.__cause__, SalesforceResourceNotFound):
                return False
            raise
        return True

    def rotated_secret(self) -> dict[str, str] | None:
        return None  # client credentials and logins have no refresh token to rotate

    # ------------------------------------------------------------ reading
    def _soql(self, sobject: SObject, mark: tuple[str, str] | None) -> str:
        """The next page of ``sobject``'s rows after ``mark``: those of customer accounts, settled ones only."""
        match = self.settings.match_field
        if sobject == "Account":
            key = match
            fields = [
                "Id",
                "Name",
                match,
                "OwnerId",
                *(f"Owner.{f}" for f in ("Email", "FirstName", "LastName", "IsActive")),
            ]
        else:
            key = "AccountId" if match == "Id" else f"Account.{match}"
            fields = ["Id", "AccountId", key, "FirstName", "LastName", "Email", "Phone", "MobilePhone", "Title"]
        query = "SELECT {fields:literal} FROM {sobject:literal} WHERE {key:literal} != null"
        query += " AND SystemModstamp < {before}"
        values: dict[str, Any] = {
            "fields": ", ".join(dict.fromkeys([*fields, "IsDeleted", "SystemModstamp"])),
            "sobject": sobject,
            "key": key,
            "before": clock.now() - SETTLING,
        }
        if mark is not None:
            query += " AND (SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id > {id}))"
            values.update(stamp=_datetime(mark[0]), id=mark[1])
        return format_soql(query + " ORDER BY SystemModstamp, Id LIMIT {limit:literal}", limit=str(PAGE_SIZE), **values)

    def _account_key(self, row: Mapping[str, Any], via_contact: bool = False) -> str:
        """The Relance customer's externalId an account row (or a contact's parent) carries."""
        match = self.settings.match_field
        if match == "Id":
            return str(row["AccountId"] if via_contact else row["Id"])
        holder = row["Account"] if via_contact else row
        value = holder[match] if holder is not None else None
        if value is None or str(value).strip() == "":
            raise ValueError(f"its account has no {match}")
        return str(value).strip()

    def _accounts(self, rows: list[dict[str, Any]]) -> Batch:
        batch = Batch()
        owners: dict[str, SourceAccountOwner] = {}
        for row in rows:
            try:
                self._account(row, batch, owners)
            except (KeyError, TypeError, ValueError) as error:
                message = f"the account {row.get('Name')!r} could not be read: {_reason(error)}"
                batch.errors.append(RecordError(kind="customer", external_id=str(row.get("Id")), message=message))
        batch.records.extend(owners.values())  # after the customers they own
        return batch

    def _account(self, row: dict[str, Any], batch: Batch, owners: dict[str, SourceAccountOwner]) -> None:
        key = self._account_key(row)
        if row["IsDeleted"]:
            if self.settings.create_customers:
                batch.removals.append(Removal(kind="customer", external_id=key))
            return
        if self.settings.create_customers:
            batch.records.append(SourceCustomer(external_id=key, name=str(row["Name"]).strip()))
        owner, owner_id = row["Owner"], str(row["OwnerId"])
        if owner is None:
            return
        if not owner.get("IsActive", True):
            name = " ".join(str(owner[part]) for part in ("FirstName", "LastName") if owner.get(part))
            message = f"{name or owner['Email']} owns the account {row['Name']!r} but is inactive in Salesforce"
            batch.errors.append(
                RecordError(kind="account_owner", external_id=owner_id, message=f"{message}: not invited")
            )
            return
        if owner_id not in owners:
            owners[owner_id] = SourceAccountOwner(
                external_id=owner_id,
                email=str(owner["Email"]),
                first_name=owner.get("FirstName"),
                last_name=owner.get("LastName"),
            )
        owners[owner_id].customer_external_ids.append(key)

    def _contacts(self, rows: list[dict[str, Any]]) -> Batch:
        batch = Batch()
        listed: dict[str, list[SourceContact]] = {}
        deleted: set[str] = set()
        for row in rows:
            try:
                email = str(row["Email"] or "").strip()
                if row["IsDeleted"]:
                    if email:
                        deleted.add(email.lower())
                    continue
                key = self._account_key(row, via_contact=True)
                if not email:
                    raise ValueError("it has no email, and Relance writes to contacts by email")
                listed.setdefault(key, []).append(
                    SourceContact(
                        email=email,
                        first_name=row["FirstName"],
                        last_name=row["LastName"],
                        phone=row["Phone"] or row["MobilePhone"],
                        job_title=row["Title"],
                    )
                )
            except (KeyError, TypeError, ValueError) as error:
                name = " ".join(str(row[part]) for part in ("FirstName", "LastName") if row.get(part))
                message = f"the contact {name!r} could not be read: {_reason(error)}"
                batch.errors.append(RecordError(kind="contact", external_id=str(row.get("Id")), message=message))
        batch.records.extend(
            SourceContactUpdate(customer_external_id=key, contacts=people) for key, people in listed.items()
        )
        kept = {c.email.lower() for people in listed.values() for c in people} | self._still_listed(deleted)
        batch.removals.extend(Removal(kind="contact", external_id=email) for email in sorted(deleted - kept))
        return batch

    def _still_listed(self, emails: set[str]) -> set[str]:
        """Of these addresses, those a live contact of a customer account still has."""
        if not emails:
            return set()
        match = self.settings.match_field
        key = "AccountId" if match == "Id" else f"Account.{match}"
        soql = format_soql("SELECT Email FROM Contact WHERE Email IN {} AND {:literal} != null", sorted(emails), key)
        rows = self._call(lambda client: client.query_all(soql, timeout=TIMEOUT)["records"])
        return {str(row["Email"]).lower() for row in rows if row.get("Email")}

    # ------------------------------------------------------------ calling Salesforce
    def _call(self, request: Callable[[Salesforce], T]) -> T:
        """One request, signed in (again once when Salesforce says the session expired), its failures ours."""
        try:
            try:
                return request(self._signed_in())
            except SalesforceExpiredSession:
                self._client = None
                return request(self._signed_in())
        except SalesforceExpiredSession as error:
            raise SourceRefused(
                "Salesforce refused a fresh session (INVALID_SESSION_ID): check the connected app's policies "
                "(IP relaxation, session timeout) and that its Run As user may use the API"
            ) from error
        except SalesforceError as error:
            raise self._translated(error) from error
        except requests.RequestException as error:
            raise SourceUnavailable(f"Salesforce did not answer: {error}") from error

    def _signed_in(self) -> Salesforce:
        if self._client is None:
            self._client = self._sign_in()
        return self._client

    def _sign_in(self) -> Salesforce:
        """An access token and the instance it is for, from the client credentials or the login."""
        base = (get_settings().salesforce_login_url or self.settings.instance_url).rstrip("/")
        secret = self.secret
        try:
            if secret.consumer_key and secret.consumer_secret:
                host = urlparse(self.settings.instance_url).hostname or ""
                token, instance = token_login(
                    f"{base}/services/oauth2/token",
                    {
                        "grant_type": "client_credentials",
                        "client_id": secret.consumer_key,
                        "client_secret": secret.consumer_secret,
                    },
                    host.removesuffix(".salesforce.com"),
                    secret.consumer_key,
                    None,
                    None,
                    self.session,
                )
            else:
                token, instance = SalesforceLogin(
                    username=secret.username,
                    password=secret.password,
                    security_token=secret.security_token,
                    session=self.session,
                    scratch_url=base,
                )
        except SalesforceAuthenticationFailed as error:
            raise SourceRefused(_refused_sign_in(error, bool(secret.consumer_key))) from error
        except requests.RequestException as error:
            raise SourceUnavailable(f"Salesforce's sign-in did not answer: {error}") from error
        return Salesforce(session_id=token, instance=instance, session=self.session)

    def _translated(self, error: SalesforceError) -> Exception:
        """A refusal of Salesforce's as the run's outcome: unavailable for now, or refused until fixed."""
        code, message = _error_of(error)
        if error.status in (429, 503) or code == "REQUEST_LIMIT_EXCEEDED" or error.status >= 500:
            return SourceUnavailable(
                f"Salesforce is not taking requests now ({code or error.status}: {message})",
                retry_after=self._retry_after,
            )
        if isinstance(error, SalesforceRefusedRequest):
            return SourceRefused(
                f"Salesforce refused the request ({code}: {message}): give the connection's user the "
                "API Enabled permission and read access to Accounts, Contacts and Users (edit on Accounts for the link)"
            )
        if isinstance(error, SalesforceMalformedRequest) and code in {"INVALID_FIELD", "NO_SUCH_COLUMN"}:
            return SourceRefused(
                f"Salesforce: {message} — check the match field ({self.settings.match_field}) and the link field "
                f"({self.settings.link_field}) of the connection: each must be an Account field's API name"
            )
        return SourceRefused(f"Salesforce refused the request ({code or error.status}: {message})")

    def _note_retry_after(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Keep the last ``Retry-After`` (seconds) Salesforce sent, for :class:`SourceUnavailable`."""
        value = response.headers.get("Retry-After")
        if value is not None:
            try:
                self._retry_after = float(value)
            except ValueError:
                self._retry_after = None


def _datetime(text: str) -> datetime:
    """A dateTime as the REST API writes it (``2026-03-01T09:30:00.000+0000``)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
    if isinstance(error, KeyError):
        return f"Salesforce sent no {error.args[0]}"
    return str(error)


def _error_of(error: SalesforceError) -> tuple[str, str]:
    """The ``errorCode`` and ``message`` of Salesforce's error body (``[{"message", "errorCode"}]``)."""
    content: Any = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode") or ""), str(content[0].get("message") or "")
    return "", str(content)[:300]


def _refused_sign_in(error: SalesforceAuthenticationFailed, app: bool) -> str:
    if app:
        return (
            f"Salesforce refused the connected app's client credentials ({error.code}: {error.auth_message}): "
            "check the consumer key and secret, that the app enables the client credentials flow with a Run As "
            "user, and that the instance URL is the org's My Domain URL"
        )
    return (
        f"Salesforce refused the login ({error.code}: {error.auth_message}): check the username, the password "
        "and the security token (Settings → Reset My Security Token), and the instance URL"
    )
