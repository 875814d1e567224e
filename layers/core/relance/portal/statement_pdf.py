"""The statement of account as a PDF, generated on the fly: open items, credits, balance, aging."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from relance.domain.portal import CurrencyStatement
from relance.portal.pages import day, gettext, money

AGING = (
    ("not_due", "Not yet due"),
    ("days_1_to_30", "1–30 days"),
    ("days_31_to_60", "31–60 days"),
    ("days_61_to_90", "61–90 days"),
    ("over_90", "Over 90 days"),
)
_GRID = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("ALIGN", (-2, 0), (-1, -1), "RIGHT"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def render(
    *, organization: str, customer: str, language: str, today: date, statements: list[CurrencyStatement]
) -> bytes:
    """An A4 statement, one part per currency; the totals are the customer's outstanding."""
    styles = getSampleStyleSheet()

    def t(message: str) -> str:
        return gettext(language, message)

    title = t("Statement of account")
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, title=title)
    story: list[Flowable] = [
        Paragraph(escape(organization), styles["Heading2"]),
        Paragraph(f"{escape(title)} — {escape(customer)}", styles["Heading1"]),
        Paragraph(f"{escape(t('Date'))}: {day(today, language)}", styles["Normal"]),
        Spacer(1, 6 * mm),
    ]
    if not statements:
        story.append(Paragraph(escape(t("Nothing is open on your account.")), styles["Normal"]))
    for part in statements:
        story += _currency_part(part, language, styles, t)
    document.build(story)
    return buffer.getvalue()


def _currency_part(
    part: CurrencyStatement, language: str, sheet: StyleSheet1, t: Callable[[str], str]
) -> list[Flowable]:
    def amount(value: int) -> str:
        return money(value, part.currency, language)

    story: list[Flowable] = [Paragraph(escape(f"{t('Currency')}: {part.currency}"), sheet["Heading3"])]
    rows = [[t("Invoice"), t("Issued"), t("Due"), t("Days late"), t("Amount"), t("Outstanding")]]
    rows += [
        [
            line.number,
            day(line.issued_at, language),
            day(line.due_at, language),
            str(line.days_late) if line.days_late else "",
            amount(line.amount),
            amount(line.outstanding),
        ]
        for line in part.lines
    ]
    rows.append(["", "", "", "", t("Total open"), amount(part.open_total)])
    story += [Table(rows, repeatRows=1, style=_GRID, hAlign="LEFT"), Spacer(1, 4 * mm)]
    if part.credits or part.refunds:
        credit_rows = [[t("Credit"), t("Reference"), t("Date"), t("Amount")]]
        credit_rows += [
            [
                t("Unapplied payment") if c.kind == "payment" else t("Credit note"),
                c.reference,
                day(c.on, language),
                amount(-c.amount),
            ]
            for c in part.credits
        ]
        if part.refunds:
            credit_rows.append([t("Refunded to you"), "", "", amount(part.refunds)])
        story += [Table(credit_rows, style=_GRID, hAlign="LEFT"), Spacer(1, 4 * mm)]
    balance = [[t("Balance"), amount(part.balance)], [t("of which overdue"), amount(part.overdue)]]
    story += [Table(balance, style=_GRID, hAlign="LEFT"), Spacer(1, 4 * mm)]
    aging_rows = [[t(label) for _, label in AGING], [amount(getattr(part.aging, field)) for field, _ in AGING]]
    story += [
        Paragraph(escape(t("Aging of open invoices")), sheet["Heading4"]),
        Table(aging_rows, style=_GRID, hAlign="LEFT"),
        Spacer(1, 8 * mm),
    ]
    return story
