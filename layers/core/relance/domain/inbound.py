"""Rules for inbound mail that need no I/O: how much of a message is kept.

A customer's message is stored in one DynamoDB item (400 KB at most) and copied onto the
timeline: what it says is capped in UTF-8 bytes, cut on a character boundary, and marked
truncated; the raw message stays in S3 and the entry links it.
"""

from __future__ import annotations

MAX_TEXT_BYTES = 64 * 1024  # each of the reply and the whole text
MAX_HTML_CHARS = 2 * 1024 * 1024  # HTML read for its text (the rest is in the raw message)
MAX_SUBJECT_CHARS = 500
MAX_NAME_CHARS = 200
MAX_ADDRESSES = 50  # of To and of Cc each
MAX_REFERENCES = 20  # Message-IDs looked up, newest first
MAX_ATTACHMENTS = 25  # files stored; the others stay in the raw message
MAX_FILENAME_CHARS = 255


def clip_utf8(text: str, max_bytes: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_bytes`` of UTF-8 on a character boundary, and whether it was cut."""
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return text, False
    return encoded[:max_bytes].decode("utf-8", "ignore"), True
