"""Workflows (dunning plans): steps at offsets from an invoice's due or issue date."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from relance.domain.base import Record, RelanceModel


class Tone(StrEnum):
    FORMAL = "formal"
    INFORMAL = "informal"


class ActionType(StrEnum):
    EMAIL = "email"
    LETTER = "letter"
    TASK = "task"
    CALL = "call"
    SMS = "sms"

    @property
    def reaches_customer(self) -> bool:
        """Email, letter and SMS contact the customer (and respect the minimum delay)."""
        return self in (ActionType.EMAIL, ActionType.LETTER, ActionType.SMS)

    @property
    def is_manual(self) -> bool:
        """Tasks and calls are done by a person, and hold the workflow until done or skipped."""
        return self in (ActionType.TASK, ActionType.CALL)


class Anchor(StrEnum):
    DUE = "due"
    ISSUE = "issue"


StepId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]


class Step(RelanceModel):
    id: StepId
    offset_days: int = Field(ge=-365, le=730)
    anchor: Anchor = Anchor.DUE
    action: ActionType
    template_id: str | None = None
    to: list[str] = Field(default_factory=list, max_length=10)
    cc: list[str] = Field(default_factory=list, max_length=10)
    assignee: str | None = None  # "account_manager" or a user id, for tasks and calls


class WorkflowFields(RelanceModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] = "en"
    tone: Tone = Tone.FORMAL
    min_contact_delay_days: int = Field(default=7, ge=0, le=90)
    steps: list[Step] = Field(min_length=1, max_length=30)

    @field_validator("steps")
    @classmethod
    def _unique_ids(cls, steps: list[Step]) -> list[Step]:
        ids = [s.id for s in steps]
        if len(ids) != len(set(ids)):
            raise ValueError("step ids must be unique")
        return steps


class Workflow(Record):
    id: str
    name: str
    language: str
    tone: Tone
    min_contact_delay_days: int
    steps: list[Step]
    version: int = 0
    updated_at: AwareDatetime | None = None


def default_template(step: Step, steps: list[Step]) -> str:
    """The shipped template a step uses when it names none: before due, overdue, or final notice."""
    if step.offset_days < 0:
        return "before_due"
    reaching = [s for s in steps if s.action.reaches_customer]
    last = max(reaching, key=lambda s: s.offset_days) if reaching else None
    return "final_notice" if last is not None and step.id == last.id and len(reaching) > 1 else "overdue"


def default_workflows(purchaser_position_id: str | None) -> list[WorkflowFields]:
    """What ships with the product: Standard and Firm, in English and in French."""
    cc = [purchaser_position_id] if purchaser_position_id else []
    standard = [
        Step(id="before-due", offset_days=-3, action=ActionType.EMAIL),
        Step(id="overdue-1", offset_days=1, action=ActionType.EMAIL, cc=cc),
        Step(id="overdue-10", offset_days=10, action=ActionType.EMAIL),
        Step(id="call-20", offset_days=20, action=ActionType.CALL, assignee="account_manager"),
        Step(id="final-30", offset_days=30, action=ActionType.EMAIL, cc=cc),
    ]
    firm = [
        Step(id="overdue-1", offset_days=1, action=ActionType.EMAIL, cc=cc),
        Step(id="overdue-7", offset_days=7, action=ActionType.EMAIL),
        Step(id="call-12", offset_days=12, action=ActionType.CALL, assignee="account_manager"),
        Step(id="final-15", offset_days=15, action=ActionType.EMAIL, cc=cc),
        Step(id="letter-20", offset_days=20, action=ActionType.LETTER),
    ]
    return [
        WorkflowFields(name="Standard", language="en", tone=Tone.FORMAL, min_contact_delay_days=7, steps=standard),
        WorkflowFields(name="Firm — bad payers", language="en", tone=Tone.FORMAL, min_contact_delay_days=5, steps=firm),
        WorkflowFields(name="Standard (FR)", language="fr", tone=Tone.FORMAL, min_contact_delay_days=7, steps=standard),
        WorkflowFields(
            name="Ferme — mauvais payeurs", language="fr", tone=Tone.FORMAL, min_contact_delay_days=5, steps=firm
        ),
    ]
