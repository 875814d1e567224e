"""Text for Slack: what people wrote (a reply's subject, a customer's name) shown as written, never as markup.

Slack reads message text as mrkdwn: ``<!channel>`` notifies a whole channel, ``<@U123>`` a
person, ``<http://evil.example|Your bank>`` shows a link under a disguise. Slack's
documented escaping is ``&`` → ``&amp;``, ``<`` → ``&lt;``, ``>`` → ``&gt;`` (nothing else): every
control sequence needs ``<``, so escaped text cannot mention or disguise a link. The bare words
``@channel``, ``@here`` and ``@everyone``, which Slack turns into mentions when a message is
sent with ``link_names``, get a zero-width space after the ``@`` as well.
"""

from __future__ import annotations

import re

_BROADCASTS = re.compile(r"(?<![\w.+-])@(?=(?:channel|here|everyone|group)\b)", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"


def slack_text(text: str) -> str:
    """``text`` escaped for a Slack message: shown as written, no mention, no disguised link."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCASTS.sub("@" + ZERO_WIDTH_SPACE, escaped)
