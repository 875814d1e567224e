"""Email templates of an organization (the shipped ones are files, never stored)."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import delete, get, under_prefix
from relance.storage.table import table


def put_template(org_id: str, template: dict[str, Any]) -> None:
    """PutItem ``ORG#<org>``/``TPL#<template>``."""
    table().put_item(Item={**keys.template(org_id, template["id"]), **template})


def get_template(org_id: str, template_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``TPL#<template>``."""
    return get(keys.template(org_id, template_id))


def list_templates(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``TPL#``."""
    return under_prefix(keys.templates_prefix(org_id))


def delete_template(org_id: str, template_id: str) -> None:
    """DeleteItem ``ORG#<org>``/``TPL#<template>``."""
    delete(keys.template(org_id, template_id))
