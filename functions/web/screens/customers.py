"""The customers list."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.services import customers
from relance.services.customers import CustomerFilter
from screens.base import page, signed_in

router = Router()


@router.get("/customers")
def customer_list() -> Response[str]:
    person = signed_in(router)
    rows, next_cursor = customers.list_customers(person.principal, CustomerFilter())
    return page(router, person, "customers.html", nav="customers", rows=rows, next_cursor=next_cursor)
