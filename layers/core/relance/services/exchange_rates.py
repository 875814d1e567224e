"""Exchange rates into the organization's currency (docs/analytics.md, "Conversion"): administrators
enter them one at a time or import a CSV of them; anyone signed in lists them; analytics converts the
balances with the latest rate on or before the day and shows its date.

A rate says that one unit of ``currency`` is worth ``rate`` units of the organization's currency on
``date`` (a day in the organization's time zone, never after today). It is kept with the currency it
converts ``into``: after the organization's currency changes, the rates into the former one are no
longer used (they show as such) and the currencies they covered are reported missing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, TypeAdapter, ValidationError, field_validator

from relance import clock
from relance.domain.analytics.forecast import local_day
from relance.domain.analytics.rates import MAX_DECIMALS, Rate, RateTable, convert_figures, rate_value
from relance.domain.base import RelanceModel
from relance.domain.money import CurrencyCode
from relance.domain.organizations import OrganizationSettings, Principal
from relance.errors import Invalid, NotFound, PayloadTooLarge
from relance.services.access import require_admin
from relance.services.organizations import get_organization
from relance.storage import exchange_rates as store

COLUMNS = ("currency", "date", "rate")
MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_ROWS = 5000
MAX_REPORTED = 20
"""Lines at fault an import names at most (the message says how many more)."""
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CURRENCY = TypeAdapter(CurrencyCode)
RATE_HELP = (
    f"one unit of the currency in the organization's currency: a decimal with a point, above 0, "
    f"at most {MAX_DECIMALS} decimal places"
)


class RateFields(RelanceModel):
    """The body of ``PUT /v1/exchange-rates/{currency}/{date}``."""

    rate: str = Field(max_length=64, description=RATE_HELP, examples=["1.0843"])

    @field_validator("rate")
    @classmethod
    def _decimal(cls, text: str) -> str:
        return _canonical(rate_value(text))


class ExchangeRate(RelanceModel):
    currency: str
    date: date
    rate: str = Field(description="one unit of currency is worth rate units of into, a decimal string")
    into: str = Field(
        description="the organization's currency when the rate was entered; a rate into another currency than "
        "the organization's now is not used"
    )
    source: str = Field(description="entered (one at a time) or import")
    entered_at: datetime
    entered_by: str = Field(description="the user or API key that entered or imported it")


class ImportedRates(RelanceModel):
    imported: int = Field(description="rates written (each replaces that currency's rate of that day, if any)")
    currencies: list[str]
    first_date: date
    last_date: date


def _canonical(value: Decimal) -> str:
    return format(value, "f")


def today(settings: OrganizationSettings) -> date:
    """Today in the organization's time zone: the latest day a rate may be entered for."""
    return local_day(clock.now(), ZoneInfo(settings.timezone))


def _problems(currency: str, day: str, settings: OrganizationSettings, latest: date) -> dict[str, str]:
    """What is wrong with a rate's currency and date (its value is checked by ``rate_value``)."""
    problems = {}
    try:
        _CURRENCY.validate_python(currency)
    except ValidationError:
        problems["currency"] = "a three-letter ISO 4217 code, such as USD"
    else:
        if currency == settings.default_currency:
            problems["currency"] = f"{currency} is the organization's currency: its rate is always 1"
    try:
        on = date.fromisoformat(day) if _DAY.fullmatch(day) else None
    except ValueError:
        on = None
    if on is None:
        problems["date"] = "a date, YYYY-MM-DD"
    elif on > latest:
        problems["date"] = f"today ({latest.isoformat()}) or before, in the organization's time zone"
    return problems


def _item(
    principal: Principal, settings: OrganizationSettings, currency: str, day: str, rate: str, source: str
) -> dict[str, Any]:
    return {
        "currency": currency,
        "date": day,
        "rate": rate,
        "into": settings.default_currency,
        "source": source,
        "enteredAt": clock.now().isoformat(),
        "enteredBy": principal.principal_id,
    }


def list_rates(principal: Principal, currency: str | None = None) -> list[ExchangeRate]:
    """The organization's rates (of one currency), by currency, newest first."""
    items = store.rates_of(principal.organization_id, currency)
    rates = [ExchangeRate.model_validate(i) for i in items]
    return sorted(rates, key=lambda r: (r.currency, -r.date.toordinal()))


def enter_rate(principal: Principal, currency: str, day: str, fields: RateFields) -> ExchangeRate:
    """Enter (or replace) the rate of ``currency`` on ``day``."""
    require_admin(principal)
    settings = get_organization(principal.organization_id).settings
    currency = currency.strip().upper()
    problems = _problems(currency, day, settings, today(settings))
    if problems:
        raise Invalid("invalid value for: " + ", ".join(problems), problems)
    item = _item(principal, settings, currency, day, fields.rate, "entered")
    store.put_rates(principal.organization_id, [item])
    return ExchangeRate.model_validate(item)


def delete_rate(principal: Principal, currency: str, day: str) -> None:
    require_admin(principal)
    currency = currency.strip().upper()
    if not re.fullmatch("[A-Z]{3}", currency):
        raise Invalid("invalid value for: currency", {"currency": "a three-letter ISO 4217 code, such as USD"})
    if not _DAY.fullmatch(day):
        raise Invalid("invalid value for: date", {"date": "a date, YYYY-MM-DD"})
    if not store.delete_rate(principal.organization_id, currency, day):
        raise NotFound("no rate of this currency on this day")


# ---------------------------------------------------------------- CSV import


def _rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """Each non-blank row of the CSV with the number of the line it ends on."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    for row in reader:
        if any(cell.strip() for cell in row):
            yield reader.line_num, [cell.strip() for cell in row]


def parse_import(text: str, settings: OrganizationSettings, latest: date) -> list[dict[str, str]]:
    """The rates of a CSV (``currency,date,rate``, a header line first, columns in any order), each
    ``{"currency", "date", "rate"}``, none after ``latest``; ``Invalid`` naming each line and column at fault."""
    try:
        rows = list(_rows(text))
    except csv.Error as error:
        raise Invalid(f"the file is not CSV: {error}", {"body": "comma-separated values"}) from error
    if not rows:
        raise Invalid("the file is empty", {"body": "a header line currency,date,rate, then one rate a line"})
    header_line, header = rows[0]
    names = [name.lower() for name in header]
    if sorted(names) != sorted(COLUMNS):
        raise Invalid(
            f"line {header_line}: the header must be currency,date,rate (in any order)",
            {f"line {header_line}": f"the columns are {', '.join(COLUMNS)}; found {', '.join(header) or 'none'}"},
        )
    if not rows[1:]:
        raise Invalid("no rates after the header", {"body": "one rate a line after the header"})
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise Invalid(
            f"at most {MAX_IMPORT_ROWS:,} rates in one import", {"body": f"{len(rows) - 1:,} rates: split the file"}
        )
    problems: dict[str, str] = {}
    seen: dict[tuple[str, str], int] = {}
    rates = []
    for line, cells in rows[1:]:
        if len(cells) != len(COLUMNS):
            problems[f"line {line}"] = f"{len(COLUMNS)} values expected, found {len(cells)}"
            continue
        row = dict(zip(names, cells, strict=True))
        row["currency"] = row["currency"].upper()
        wrong = _problems(row["currency"], row["date"], settings, latest)
        try:
            row["rate"] = _canonical(rate_value(row["rate"]))
        except ValueError as error:
            wrong["rate"] = str(error)
        key = (row["currency"], row["date"])
        if not wrong and key in seen:
            wrong["date"] = f"{row['currency']} already has a rate on {row['date']} at line {seen[key]}"
        seen.setdefault(key, line)
        problems.update({f"line {line}, {column}": message for column, message in wrong.items()})
        rates.append(row)
    if problems:
        named = list(problems.items())
        first, message = named[0]
        more = f" (and {len(named) - 1} more)" if len(named) > 1 else ""
        raise Invalid(f"nothing was imported: {first}: {message}{more}", dict(named[:MAX_REPORTED]))
    return rates


def import_rates(principal: Principal, text: str) -> ImportedRates:
    """Every rate of the CSV, or none: the file is checked whole before anything is written."""
    require_admin(principal)
    if len(text.encode()) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("the file is over 1 MB", {"body": "at most 1 MB: split the file"})
    settings = get_organization(principal.organization_id).settings
    rates = parse_import(text, settings, today(settings))
    items = [_item(principal, settings, r["currency"], r["date"], r["rate"], "import") for r in rates]
    store.put_rates(principal.organization_id, items)
    days = sorted(r["date"] for r in rates)
    return ImportedRates(
        imported=len(items),
        currencies=sorted({r["currency"] for r in rates}),
        first_date=date.fromisoformat(days[0]),
        last_date=date.fromisoformat(days[-1]),
    )


# ---------------------------------------------------------------- conversion (analytics)


def stored_rates(org_id: str) -> list[dict[str, Any]]:
    """Every rate the organization keeps, as stored (one Query): what ``usable_rates`` reads."""
    return store.rates_of(org_id)


def usable_rates(items: Iterable[Mapping[str, Any]], currency: str) -> tuple[Rate, ...]:
    """The stored rates into ``currency`` (the organization's now), as the domain reads them."""
    return tuple(
        Rate(i["currency"], date.fromisoformat(i["date"]), Decimal(i["rate"]))
        for i in items
        if i.get("into") == currency and i["currency"] != currency
    )


class ConvertedBalance(RelanceModel):
    currency: str
    rate: str | None = Field(description="one unit of currency in the organization's currency; null: no rate")
    rate_date: date | None = Field(description="the day of the rate used: the latest on or before asOf")
    due: int | None = Field(description="in minor units of the organization's currency; null without a rate")
    overdue: int | None
    credit: int | None
    outstanding: int | None


class Conversion(RelanceModel):
    """The balances in the organization's currency; no totals while a currency has no rate."""

    currency: str = Field(description="the organization's currency")
    complete: bool = Field(description="every currency had a rate on or before asOf")
    missing: list[str] = Field(description="currencies with no rate on or before asOf: enter one")
    due: int | None = Field(description="the total; null when a rate is missing (never guessed)")
    overdue: int | None
    credit: int | None
    outstanding: int | None
    items: list[ConvertedBalance]


FIGURES = ("due", "overdue", "credit", "outstanding")


def conversion(
    balances: Mapping[str, Mapping[str, int]], rates: Iterable[Rate], currency: str, day: date
) -> Conversion:
    """Each currency's ``balances`` (due, overdue, credit, outstanding) converted into ``currency`` with the
    latest rate on or before ``day``, each figure on its own (rounded half up), and their totals."""
    parts, totals = convert_figures(balances, RateTable.of(currency, rates), day)
    items = [
        ConvertedBalance(
            currency=p.currency,
            rate=None if p.rate is None else _canonical(p.rate.value),
            rate_date=None if p.rate is None else p.rate.on,
            **{name: None if p.figures is None else p.figures[name] for name in FIGURES},
        )
        for p in parts
    ]
    return Conversion(
        currency=currency,
        complete=totals is not None,
        missing=[p.currency for p in parts if p.rate is None],
        items=items,
        **{name: None if totals is None else totals.get(name, 0) for name in FIGURES},
    )
