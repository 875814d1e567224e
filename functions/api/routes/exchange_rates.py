"""Exchange rates into the organization's currency: analytics converts balances with them
(docs/analytics.md, "Conversion"). Everyone lists them; administrators enter, delete and import."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.organizations import Principal
from relance.services import exchange_rates
from relance.services.exchange_rates import ExchangeRate, ImportedRates, RateFields

router = Router()
Caller = Annotated[Principal, Depends(caller)]


@router.get("/v1/exchange-rates", tags=["exchange rates"], summary="Exchange rates, by currency, newest first")
def list_rates(
    principal: Caller,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="only this currency")] = None,
) -> Page[ExchangeRate]:
    return Page[ExchangeRate](items=exchange_rates.list_rates(principal, currency))


@router.put(
    "/v1/exchange-rates/<currency>/<date>",
    tags=["exchange rates"],
    summary="Enter a currency's rate on a day (YYYY-MM-DD, not after today): replaces that day's rate (admin)",
)
def enter_rate(principal: Caller, currency: str, date: str, body: RateFields) -> ExchangeRate:
    return exchange_rates.enter_rate(principal, currency, date, body)


@router.delete(
    "/v1/exchange-rates/<currency>/<date>",
    status_code=204,
    tags=["exchange rates"],
    summary="Delete a currency's rate of a day (admin)",
)
def delete_rate(principal: Caller, currency: str, date: str) -> tuple[None, int]:
    exchange_rates.delete_rate(principal, currency, date)
    return None, 204


@router.post(
    "/v1/exchange-rates/import",
    tags=["exchange rates"],
    summary="Import rates from a CSV body (currency,date,rate): all of them, or none when a line is wrong (admin)",
)
def import_rates(principal: Caller, request: Request) -> ImportedRates:
    return exchange_rates.import_rates(principal, request.resolved_event.decoded_body or "")
