"""A stand-in's webhook delivery: one POST to the endpoint, answered as a source's dashboard lists it."""

from __future__ import annotations

import requests


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST ``body`` to ``url``; the endpoint's status and the start of its answer (status 0 and the error
    when it did not answer)."""
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as error:
        return 0, str(error)
    return answer.status_code, answer.text[:500]
