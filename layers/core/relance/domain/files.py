"""Files kept with a record: a note's, a customer's reply's, an email's sent from the timeline."""

from __future__ import annotations

from pydantic import MISSING, Field

from relance.domain.base import RelanceModel


class Attachment(RelanceModel):
    """A file as the API shows it. Shown with its record, it has a download link (``url``) in place of
    where it is kept (``key``); an answer that gives the record as stored gives ``key``."""

    id: str | MISSING = Field(default=MISSING, description="a note's files have one")
    name: str
    content_type: str
    size: int = Field(description="bytes")
    key: str | MISSING = Field(default=MISSING, description="where the file is kept, in the documents bucket")
    url: str | MISSING = Field(default=MISSING, description="a download link, valid 5 minutes")
