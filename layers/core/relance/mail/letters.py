"""Letters: a reminder rendered to PDF, to be printed and posted.

reportlab (and Pillow under it) is imported by the first letter, not with this module: the API and the
web app import dunning, which uses this, for requests that never print anything.
"""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape


def render_pdf(*, sender: str, recipient: str, day: date, subject: str, body: str) -> bytes:
    """An A4 letter: sender, recipient, date, subject, then the body's paragraphs."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, title=subject)
    story = [
        Paragraph(escape(sender), styles["Normal"]),
        Spacer(1, 12 * mm),
        Paragraph(escape(recipient), styles["Normal"]),
        Spacer(1, 8 * mm),
        Paragraph(day.isoformat(), styles["Normal"]),
        Spacer(1, 6 * mm),
        Paragraph(f"<b>{escape(subject)}</b>", styles["Normal"]),
        Spacer(1, 6 * mm),
    ]
    for paragraph in body.split("\n\n"):
        story += [Paragraph(escape(paragraph).replace("\n", "<br/>"), styles["Normal"]), Spacer(1, 3 * mm)]
    document.build(story)
    return buffer.getvalue()
