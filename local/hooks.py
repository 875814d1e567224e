"""Botocore hooks on every boto3 client of this process — the ones moto's interpreters make included.

The local runtime stands in for AWS behaviour moto lacks (Lambda invokes, SES events and
identities, the outbox's clock, Cognito federation) with ``before-call``/``after-call`` handlers.
A client copies botocore's built-in handlers when it is made, so an entry goes into the built-in
list for clients made from now on, and onto the default session for those it makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import boto3
import botocore.handlers

Hook = tuple[str, Callable[..., Any]]


def install(hooks: Iterable[Hook]) -> None:
    for hook in hooks:
        if hook not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append(hook)
        if boto3.DEFAULT_SESSION is not None:  # already made: it copied the handlers
            boto3.DEFAULT_SESSION._session.register(*hook)


def uninstall(hooks: Iterable[Hook]) -> None:
    for hook in hooks:
        if hook in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.remove(hook)
        if boto3.DEFAULT_SESSION is not None:
            boto3.DEFAULT_SESSION._session.unregister(*hook)
