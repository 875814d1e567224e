"""The customers list: filters on every column, sort, pages, columns — all in the URL; saved views,
bulk changes with a confirmation, CSV export and import."""

import base64
from email import message_from_bytes
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.errors import Invalid
from relance.services import bulk, spreadsheets, views, workspace
from relance.services.bulk import BulkRequest, BulkSet
from relance.services.customers import CustomerFilter
from relance.services.spreadsheets import ImportRequest, ImportType
from relance.services.views import Column, ViewFields
from relance.web import customer_list, security
from relance.web.customer_list import ListState
from relance.web.session import SignedIn
from screens.base import RENDER, check_csrf, first, form, html, page, redirect, signed_in

router = Router()

METHODS = {"card": "Card", "bank_transfer": "Bank transfer", "ach_debit": "ACH debit", "sepa_debit": "SEPA debit"}
ACTIONS = {"email": "Email", "letter": "Letter", "sms": "SMS", "task": "Task", "call": "Call"}
MAX_IMPORT_BYTES = 2 * 1024 * 1024


def _state(params: dict[str, list[str]], known: workspace.Directory) -> ListState:
    """The list's state: the URL's, or a saved view's when the URL names only the view."""
    columns = customer_list.columns_of(known.custom_fields)
    view_id = (params.get("view") or [""])[0]
    if view_id and not set(params) - {"view", "cursor", "updated"}:
        view = next((v for v in known.views if v.id == view_id), None)
        if view is not None:
            state = customer_list.view_state(view)
            state.cursor = next(iter(params.get("cursor", [])), None)
            state.columns = [c for c in state.columns if c in columns] or list(customer_list.DEFAULT_COLUMNS)
            return state
    return customer_list.parse(params, columns)


def _list(person: SignedIn, params: dict[str, list[str]], status: int = 200, **extra: Any) -> Response[str]:
    known = workspace.directory(person.principal)
    errors: dict[str, str] = {}
    try:
        state = _state(params, known)
        listed = workspace.list_page(
            person.principal, state.filter, state.sort, customer_list.PAGE_SIZE, state.cursor, known
        )
    except Invalid as problem:
        errors = problem.fields or {"filters": problem.message}
        state = ListState(filter=CustomerFilter(), values={k: v for k, v in params.items() if k != "cursor"})
        listed = workspace.ListPage([], None, 0, known)
    return page(
        router,
        person,
        "customers.html",
        block="results",
        status=422 if errors else status,
        nav="customers",
        state=state,
        listed=listed,
        directory=known,
        columns=customer_list.columns_of(known.custom_fields),
        all_columns=list(customer_list.columns_of(known.custom_fields)),
        errors=errors,
        methods=METHODS,
        aging_buckets=customer_list.AGING,
        actions=ACTIONS,
        updated=next(iter(params.get("updated", [])), None),
        bulk_error=extra.pop("bulk_error", None),
        **extra,
    )


@router.get("/customers")
def customer_list_page() -> Response[str]:
    person = signed_in(router)
    params = router.current_event.multi_value_query_string_parameters or {}
    if "col" in params or "move" in params:  # the columns menu: on to the list's own URL for that order
        known = workspace.directory(person.principal)
        return redirect(customer_list.parse(params, customer_list.columns_of(known.custom_fields)).url(), person)
    return _list(person, params)


@router.get("/customers/count")
def customer_count() -> Response[str]:
    """How many customers match the list's filters: the line above the table, asked for once the page
    is shown (counting reads every customer; a page in name order does not)."""
    person = signed_in(router)
    known = workspace.directory(person.principal)
    try:
        state = _state(router.current_event.multi_value_query_string_parameters or {}, known)
        matching: int | None = workspace.count_matching(person.principal, state.filter)
    except Invalid:
        state, matching = ListState(filter=CustomerFilter()), None
    values = {"person": person, "state": state, "matching": matching, "errors": matching is None}
    return html(RENDER.block("customers.html", "count", **values), person=person)


@router.get("/customers/export.csv")
def export_csv() -> Response[str]:
    person = signed_in(router)
    known = workspace.directory(person.principal)
    state = _state(router.current_event.multi_value_query_string_parameters or {}, known)
    body = spreadsheets.export_customers(person.principal, state.filter, state.sort)
    headers = {**security.page_headers(), "Content-Disposition": 'attachment; filename="customers.csv"'}
    return Response(200, "text/csv; charset=utf-8", body, headers=headers)


# ---------------------------------------------------------------- saved views and bulk changes


def _bulk_set(fields: dict[str, list[str]]) -> BulkSet:
    what = first(fields, "set")
    if what == "workflow":
        return BulkSet(dunning_plan_id=first(fields, "dunningPlanId") or None)
    if what == "managers":
        return BulkSet(account_manager_ids=fields.get("accountManagerIds", []))
    if what == "methods":
        chosen = set(fields.get("method", []))
        return BulkSet.model_validate({"paymentMethods": {m: m in chosen for m in METHODS}})
    if what == "field":
        key = first(fields, "fieldKey")
        if not key:
            raise Invalid("choose a custom field", {"fieldKey": "required"})
        return BulkSet(custom_fields={key: first(fields, "fieldValue") or None})
    raise Invalid("choose what to change", {"set": "workflow, managers, methods or field"})


def _selection(person: SignedIn, fields: dict[str, list[str]]) -> tuple[BulkRequest, ListState]:
    known = workspace.directory(person.principal)
    state = _state(parse_qs(first(fields, "query"), keep_blank_values=True), known)
    change = _bulk_set(fields)
    if first(fields, "scope") == "all":
        return BulkRequest(filter=state.filter, set=change), state
    ids = fields.get("ids", [])
    if not ids:
        raise Invalid("select at least one customer, or all that match", {"ids": "nothing selected"})
    return BulkRequest(ids=ids, set=change), state


@router.post("/customers")
def customer_list_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    intent = first(fields, "do")
    query = parse_qs(first(fields, "query"), keep_blank_values=True)
    try:
        if intent == "save-view":
            known = workspace.directory(person.principal)
            state = _state(query, known)
            saved = views.create_view(
                person.principal,
                ViewFields(
                    name=first(fields, "name"),
                    filter=state.filter,
                    sort=state.sort,
                    columns=[Column(key=key) for key in state.columns],
                    shared=first(fields, "shared") == "on",
                ),
            )
            return redirect(f"/customers?view={saved.id}", person)
        if intent == "delete-view":
            views.delete_view(person.principal, first(fields, "view"))
            return redirect("/customers", person)
        if intent in ("bulk-preview", "bulk"):
            request, state = _selection(person, fields)
            if intent == "bulk":
                done = bulk.apply(person.principal, request)
                return redirect(state.url(updated=done.updated, cursor=None), person)
            principal = person.principal
            count = len(request.ids) if request.ids is not None else workspace.count_matching(principal, state.filter)
            known = workspace.directory(person.principal)
            return page(
                router,
                person,
                "bulk_confirm.html",
                nav="customers",
                count=count,
                fields=fields,
                change=request.set,
                directory=known,
                back=state.url(),
                methods=METHODS,
            )
    except Invalid as refused:
        return _list(person, query, status=422, bulk_error={"message": refused.message, **refused.fields})
    raise Invalid("unknown action", {"do": "not something this page does"})


# ---------------------------------------------------------------- CSV import


def _uploaded(body: bytes, content_type: str) -> dict[str, str]:
    """The fields of a ``multipart/form-data`` body (the file's text included)."""
    message = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body, policy=HTTP)
    values: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if isinstance(name, str) and isinstance(payload, bytes):
            values[name] = payload.decode("utf-8-sig", errors="replace")
    return values


@router.get("/customers/import")
def import_page() -> Response[str]:
    person = signed_in(router)
    return page(router, person, "import.html", nav="customers", report=None, error=None, kind="customers")


@router.post("/customers/import")
def import_csv() -> Response[str]:
    person = signed_in(router)
    event = router.current_event
    content_type = event.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        raw = event.body or ""
        body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
        if len(body) > MAX_IMPORT_BYTES:
            raise Invalid("the file is too large", {"file": "at most 2 MB"})
        values = _uploaded(body, content_type)
    else:
        values = {k: v[0] for k, v in form(event).items()}
    check_csrf(router, person, {k: [v] for k, v in values.items()})
    kind = values.get("type", "customers")
    text = values.get("file") or values.get("csv") or ""
    try:
        if not text.strip():
            raise Invalid("choose a CSV file", {"file": "required"})
        report = spreadsheets.import_csv(person.principal, ImportRequest(type=ImportType(kind), csv=text))
    except (Invalid, ValueError) as refused:
        message = refused.message if isinstance(refused, Invalid) else "choose customers, contacts or invoices"
        return page(router, person, "import.html", status=422, nav="customers", report=None, error=message, kind=kind)
    return page(router, person, "import.html", nav="customers", report=report, error=None, kind=kind)
