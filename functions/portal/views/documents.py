"""The customer's documents: the statement (a PDF made now) and each invoice's own PDF."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.errors import NotFound
from relance.portal import pages
from relance.services import portal
from views.base import redirect

router = Router()


@router.get("/portal/<token>/statement.pdf")
def statement(token: str) -> Response[bytes]:
    from relance.portal import statement_pdf  # reportlab is heavy: imported on the first statement only

    visit, parts, today = portal.statement_of(token)
    pdf = statement_pdf.render(
        organization=visit.organization.name,
        customer=visit.customer["name"],
        language=pages.language_of(visit.customer.get("language")),
        today=today,
        statements=parts,
    )
    headers = {**pages.security_headers(), "Content-Disposition": f'inline; filename="statement-{today}.pdf"'}
    return Response(200, "application/pdf", pdf, headers=headers)


@router.get("/portal/<token>/invoices/<document>")
def invoice_document(token: str, document: str) -> Response[str]:
    if not document.endswith(".pdf"):
        raise NotFound("no such document")
    return redirect(portal.invoice_document(token, document.removesuffix(".pdf")))
