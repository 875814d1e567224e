"""moto's Step Functions interpreter on simulated time.

moto runs each execution in a thread and sleeps through Wait states in real time (and
computes ``Timestamp`` waits against the machine's naive local time). Here, while a local
runtime runs:

- a Wait state (``Seconds``, ``SecondsPath``, ``Timestamp``, ``TimestampPath``) becomes a
  timer of ``VirtualTime`` at its moment on ``relance.clock`` (seconds count from the clock's
  now; timestamps are UTC, as Step Functions reads them); ``StopExecution`` still ends it;
- an execution counts as work from ``StartExecution`` until it ends, except while it waits,
  so the clock holds still while an execution runs between two waits;
- a definition is parsed once (moto parsed it again for each execution, a third of an execution's
  time): each execution still builds its own states from the parse tree.

Errors moto raises for a bad timestamp or a negative number of seconds are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from local.virtual_time import VirtualTime
from relance import clock


class SimulatedSteps:
    """Install and remove the patches (one runtime at a time)."""

    def __init__(self, virtual_time: VirtualTime) -> None:
        self.virtual_time = virtual_time
        self._originals: dict[tuple[type, str], Any] = {}

    def install(self) -> None:
        virtual_time = self.virtual_time
        original_start: Callable[[ExecutionWorker], None] = ExecutionWorker.start  # moto's are untyped
        original_logic: Callable[[ExecutionWorker], None] = ExecutionWorker._execution_logic

        def start(worker: ExecutionWorker) -> None:
            worker._relance_counted = True  # type: ignore[attr-defined]
            virtual_time.activity.enter()  # before the thread: StartExecution returns with the work counted
            original_start(worker)

        def execution_logic(worker: ExecutionWorker) -> None:
            try:
                original_logic(worker)
            finally:
                if getattr(worker, "_relance_counted", False):
                    virtual_time.activity.leave()

        def entrypoint(worker: ExecutionWorker) -> Any:
            definition = worker._evaluation_details.state_machine_details.definition
            tree = _parsed.get(definition)
            if tree is None:  # a syntax error raises as before
                tree = _parsed.setdefault(definition, AmazonStateLanguageParser.parse(definition)[1])
            return Preprocessor().visit(tree)

        def eval_body(wait: WaitFunction, env: Any) -> None:
            moment = _moment(wait, env)
            virtual_time.sleep_until(moment, f"wait {type(wait).__name__}", env.is_running)

        self._patch(ExecutionWorker, "start", start)
        self._patch(ExecutionWorker, "_execution_logic", execution_logic)
        self._patch(ExecutionWorker, "_get_evaluation_entrypoint", entrypoint)
        self._patch(WaitFunction, "_eval_body", eval_body)

    def uninstall(self) -> None:
        for (owner, name), original in self._originals.items():
            setattr(owner, name, original)
        self._originals.clear()

    def _patch(self, owner: type, name: str, replacement: Any) -> None:
        self._originals[(owner, name)] = owner.__dict__[name]
        setattr(owner, name, replacement)


_parsed: dict[str, Any] = {}
"""Each state machine definition's parse tree (ANTLR's), read only once made."""


def _moment(wait: WaitFunction, env: Any) -> datetime:
    """When the Wait state ends, on the relance clock."""
    if isinstance(wait, Timestamp):
        wait.string.eval(env=env)
        text = env.stack.pop()
        parsed = wait._from_timestamp_string(timestamp=text)
        if parsed is None:
            raise FailureEventException(wait._create_failure_event(env, text))
        return parsed.replace(tzinfo=UTC)
    return clock.now() + timedelta(seconds=wait._get_wait_seconds(env=env))
