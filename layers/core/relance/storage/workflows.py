"""Workflows (dunning plans): in the organization's directory, each replaced whole with a new version."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import delete, get, get_many, under_prefix
from relance.storage.table import table


def workflow_item(org_id: str, workflow: dict[str, Any]) -> dict[str, Any]:
    """The item of a workflow (``ORG#<org>``/``WF#<workflow>``, in GSI3 ``ORG#<org>#DIRECTORY``), to put
    alone or with a new organization."""
    key = keys.workflow(org_id, workflow["id"])
    return {**key, **keys.in_directory(org_id, key), **workflow}


def put_workflow(org_id: str, workflow: dict[str, Any]) -> None:
    """PutItem ``ORG#<org>``/``WF#<workflow>`` (a new one, or the next version of one)."""
    table().put_item(Item=workflow_item(org_id, workflow))


def get_workflow(org_id: str, workflow_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``WF#<workflow>``, strongly consistent (its version is compared at send time)."""
    return get(keys.workflow(org_id, workflow_id), consistent=True)


def with_organization(org_id: str, workflow_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """BatchGetItem ``ORG#<org>``/``ORG`` and ``ORG#<org>``/``WF#<workflow>``, strongly consistent: what
    dunning reads of the organization and the workflow, in one request."""
    organization, workflow = get_many([keys.organization(org_id), keys.workflow(org_id, workflow_id)], consistent=True)
    return organization, workflow


def list_workflows(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``WF#``."""
    return under_prefix(keys.workflows_prefix(org_id))


def delete_workflow(org_id: str, workflow_id: str) -> None:
    """DeleteItem ``ORG#<org>``/``WF#<workflow>``."""
    delete(keys.workflow(org_id, workflow_id))
