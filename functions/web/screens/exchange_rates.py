"""Exchange rates (admins): enter a currency's rate of a day, import a CSV of rates (all or nothing),
list them by currency and delete one. Analytics converts the balances with them.

Forms post to ``/settings/exchange-rates`` with ``do``; success answers 303 back saying what was done,
a refusal shows the page again with its reason and the field (or the CSV's lines) at fault.
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance.concurrency import together
from relance.errors import Invalid, NotFound, PayloadTooLarge, validation_fields
from relance.services import exchange_rates, workspace
from relance.services.access import require_admin
from relance.services.exchange_rates import RateFields
from relance.web.session import SignedIn
from screens import uploads
from screens.base import check_csrf, first, page, redirect, signed_in

router = Router()
HERE = "/settings/exchange-rates"
SHOWN = 200
"""Rates the table shows at most (newest first per currency); a currency's filter shows its own."""


def _show(
    person: SignedIn,
    *,
    currency: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response[str]:
    require_admin(person.principal)
    shown = currency if len(currency) == 3 and currency.isalpha() and currency.isupper() else None
    known, rates = together(
        lambda: workspace.directory(person.principal),
        lambda: exchange_rates.list_rates(person.principal, shown),
    )
    settings = known.organization.settings
    today = exchange_rates.today(settings)
    return page(
        router,
        person,
        "exchange_rates.html",
        status=status,
        nav="settings",
        tab="rates",
        organization_currency=settings.default_currency,
        today=today,
        rates=rates[:SHOWN],
        more=max(0, len(rates) - SHOWN),
        currencies=sorted({r.currency for r in rates}) if shown is None else [shown],
        shown=shown,
        people=known.people,
        errors=errors or {},
        lines={k: m for k, m in (errors or {}).items() if k.startswith("line") or k == "body"},
        v={"currency": shown or "", "date": today.isoformat(), **(values or {})},
        done=done,
    )


@router.get(HERE)
def rates_page() -> Response[str]:
    person = signed_in(router)
    query = router.current_event
    done = query.get_query_string_value("done") or ""
    said = {"entered": "Rate saved.", "deleted": "Rate deleted."}.get(done)
    if done == "imported":
        said = f"{query.get_query_string_value('count') or 'The'} rates imported."
    return _show(person, currency=query.get_query_string_value("currency") or "", done=said)


def _do(person: SignedIn, fields: dict[str, list[str]], files: list[uploads.FormFile]) -> str:
    """The query string of the page to go back to, saying what was done."""
    principal = person.principal
    intent = first(fields, "do")
    currency = first(fields, "currency").upper()
    if intent == "enter":
        try:
            rate = RateFields.model_validate({"rate": first(fields, "rate")})
        except ValidationError as error:
            raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error
        exchange_rates.enter_rate(principal, currency, first(fields, "date"), rate)
        return f"done=entered&currency={currency}"
    if intent == "delete":
        exchange_rates.delete_rate(principal, currency, first(fields, "date"))
        return f"done=deleted&currency={currency}"
    if intent == "import":
        text = files[0].data.decode("utf-8-sig", errors="replace") if files else ""
        if not text.strip():
            raise Invalid("choose a CSV file", {"file": "a CSV file: currency,date,rate"})
        imported = exchange_rates.import_rates(principal, text)
        return f"done=imported&count={imported.imported}"
    raise Invalid("unknown action", {"do": "not something this page does"})


@router.post(HERE)
def rates_form() -> Response[str]:
    person = signed_in(router)
    fields, files = uploads.read(router.current_event)
    check_csrf(router, person, fields)
    require_admin(person.principal)
    try:
        back = _do(person, fields, files)
    except (Invalid, NotFound, PayloadTooLarge) as refused:
        entered = first(fields, "do") == "enter"
        values = {k: first(fields, k) for k in ("currency", "date", "rate")} if entered else {}
        errors = {"message": refused.message, **refused.fields}
        return _show(person, errors=errors, values=values, status=refused.status)
    return redirect(f"{HERE}?{back}", person)
