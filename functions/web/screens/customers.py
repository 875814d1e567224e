"""The customers list: filters on every column, sort, pages, columns — all in the URL."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.errors import Invalid
from relance.services import workspace
from relance.services.customers import CustomerFilter
from relance.web import customer_list
from relance.web.customer_list import ListState
from screens.base import page, signed_in

router = Router()

METHODS = {"card": "Card", "bank_transfer": "Bank transfer", "ach_debit": "ACH debit", "sepa_debit": "SEPA debit"}
ACTIONS = {"email": "Email", "letter": "Letter", "sms": "SMS", "task": "Task", "call": "Call"}


@router.get("/customers")
def customer_list_page() -> Response[str]:
    person = signed_in(router)
    known = workspace.directory(person.principal)
    columns = customer_list.columns_of(known.custom_fields)
    params = router.current_event.multi_value_query_string_parameters or {}
    errors: dict[str, str] = {}
    try:
        state = customer_list.parse(params, columns)
        listed = workspace.list_page(
            person.principal, state.filter, state.sort, customer_list.PAGE_SIZE, state.cursor, known
        )
    except Invalid as problem:
        errors = problem.fields or {"filters": problem.message}
        state = ListState(filter=CustomerFilter(), values={k: v for k, v in params.items() if k not in ("cursor",)})
        listed = workspace.ListPage([], None, 0, known)
    return page(
        router,
        person,
        "customers.html",
        block="results",
        status=422 if errors else 200,
        nav="customers",
        state=state,
        listed=listed,
        directory=known,
        columns=columns,
        errors=errors,
        methods=METHODS,
        actions=ACTIONS,
    )
