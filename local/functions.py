"""Lambda functions of the template, served in-process.

Each ``AWS::Serverless::Function`` is imported from its ``CodeUri`` as Lambda would
(the code folder first on ``sys.path``; the ``relance`` layer is installed in the venv) and
called with a Lambda-shaped context. One lock per function: like one warm Lambda instance,
a function handles one invocation at a time (Powertools resolvers keep per-request state).

Lambda ``Invoke`` calls from any boto3 client of this process, including the ones moto's
Step Functions interpreter makes, are answered here by a botocore ``before-call`` hook.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from local import hooks
from local.template import Template
from local.virtual_time import Activity
from relance import clock
from relance.aws import client


class FunctionError(Exception):
    """A handler raised: carries the payload Lambda would return (errorType, errorMessage…)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(f"{payload.get('errorType')}: {payload.get('errorMessage')}")
        self.payload = payload


@dataclass
class LambdaContext:
    """The context object Lambda passes as the handler's second argument."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


_claimed_modules: dict[str, Path] = {}
"""Top-level module name → the code folder that provided it (two functions may not clash)."""


@dataclass
class LambdaFunction:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler_path: str
    timeout: int
    memory: int
    environment: dict[str, str]
    events: dict[str, dict[str, Any]]
    retries: int = 2
    """How many times Lambda runs an asynchronous invocation again after it failed (EventInvokeConfig)."""
    on_failure: str | None = None
    """The SQS queue (ARN) Lambda sends a failed asynchronous invocation's record to, after its retries."""
    module: ModuleType | None = field(default=None, repr=False)
    _handler: Callable[[Any, Any], Any] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    activity: Activity = field(default_factory=Activity, repr=False)  # an invocation is work: the clock waits

    @classmethod
    def from_template(cls, template: Template, logical_id: str) -> LambdaFunction:
        props = template.properties(logical_id)
        variables = props.get("Environment", {}).get("Variables", {})
        invoke_config = props.get("EventInvokeConfig", {})
        on_failure = invoke_config.get("DestinationConfig", {}).get("OnFailure", {})
        return cls(
            logical_id=logical_id,
            name=template.name_of(logical_id),
            arn=template.arn_of(logical_id),
            code_dir=(template.root / props["CodeUri"]).resolve(),
            handler_path=props["Handler"],
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            environment={key: str(value) for key, value in variables.items()},
            events=props.get("Events", {}),
            retries=int(invoke_config.get("MaximumRetryAttempts", 2)),
            on_failure=on_failure.get("Destination") if on_failure.get("Type") == "SQS" else None,
        )

    def load(self) -> Callable[[Any, Any], Any]:
        """Import the handler once, with the code folder first on ``sys.path`` as in Lambda."""
        if self._handler is None:
            module_path, _, attribute = self.handler_path.rpartition(".")
            source = self.code_dir / (module_path.replace(".", "/") + ".py")
            before = set(sys.modules)
            sys.path.insert(0, str(self.code_dir))
            try:
                spec = importlib.util.spec_from_file_location(f"lambda_{self.logical_id}", source)
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot load {source}")
                module: ModuleType = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            finally:
                sys.path.remove(str(self.code_dir))
            self._claim_modules(set(sys.modules) - before)
            self.module = module
            self._handler = getattr(module, attribute)
        return self._handler

    def _claim_modules(self, names: set[str]) -> None:
        for name in names:
            origin = getattr(sys.modules.get(name), "__file__", None) or ""
            if not origin.startswith(str(self.code_dir)) or "." in name:
                continue
            owner = _claimed_modules.setdefault(name, self.code_dir)
            if owner != self.code_dir:
                raise ImportError(
                    f"module '{name}' exists in {owner} and {self.code_dir}: in one process "
                    "the local runtime needs function-local module names to be unique"
                )

    def invoke(self, event: Any, cancelled: threading.Event | None = None) -> Any:
        """Run the handler on ``event``; raises ``FunctionError`` shaped as Lambda reports it, ``Dropped``
        when ``cancelled`` was set while the invocation waited for the function."""
        handler = self.load()
        context = LambdaContext(self.name, self.arn, self.memory, self.timeout)
        with self.activity.busy(), self._lock:
            if cancelled is not None and cancelled.is_set():
                raise Dropped(self.name)
            try:
                return handler(event, context)
            except Exception as exc:
                raise FunctionError(
                    {
                        "errorMessage": str(exc),
                        "errorType": type(exc).__name__,
                        "requestId": context.aws_request_id,
                        "stackTrace": traceback.format_exception(exc)[1:],
                    }
                ) from exc


class Dropped(Exception):
    """An asynchronous invocation the runtime stopped before it began."""


class FunctionRegistry:
    """The template's functions by name and ARN, and the botocore hook that invokes them."""

    STOP_SECONDS = 30.0
    """How long a stop waits for the asynchronous invocations already running."""

    def __init__(self, template: Template, activity: Activity | None = None) -> None:
        self.activity = activity or Activity()
        self._stopping = threading.Event()
        self._invocations: set[threading.Thread] = set()
        self._invocations_lock = threading.Lock()
        self.functions = {
            logical_id: LambdaFunction.from_template(template, logical_id)
            for logical_id in template.resources("AWS::Serverless::Function")
        }
        for function in self.functions.values():
            function.activity = self.activity
        self._by_name = {f.name: f for f in self.functions.values()}
        self._by_name.update({f.arn: f for f in self.functions.values()})

    def __getitem__(self, logical_id: str) -> LambdaFunction:
        return self.functions[logical_id]

    def by_name_or_arn(self, name: str) -> LambdaFunction | None:
        """Lambda accepts a name, a full ARN or a partial ARN, optionally with a qualifier."""
        if name in self._by_name:
            return self._by_name[name]
        if name.startswith("arn:"):
            unqualified = ":".join(name.split(":")[:7])
            return self._by_name.get(unqualified)
        return self._by_name.get(name.split(":", maxsplit=1)[0])

    def environment(self) -> dict[str, str]:
        """The variables of every function, which share one process here: they must agree."""
        merged: dict[str, str] = {}
        for function in self.functions.values():
            for key, value in function.environment.items():
                if merged.setdefault(key, value) != value:
                    raise ValueError(
                        f"functions disagree on {key} ({merged[key]!r} vs {value!r}): "
                        "one process cannot give them different values"
                    )
        return merged

    # ------------------------------------------------------------ Invoke hook
    def install_invoke_hook(self) -> None:
        """Answer ``lambda.Invoke`` in-process for every boto3 client made from now on."""
        hooks.install([("before-call.lambda.Invoke", self._on_invoke)])

    def uninstall_invoke_hook(self) -> None:
        """Stop answering Invoke. The asynchronous invocations not yet begun are dropped and the ones running
        are waited for: none of them outlives the runtime (they would write to the next one's moto, in the
        same process: a test's figures, or its records)."""
        hooks.uninstall([("before-call.lambda.Invoke", self._on_invoke)])
        self._stopping.set()
        deadline = time.monotonic() + self.STOP_SECONDS
        with self._invocations_lock:
            running = list(self._invocations)
        for thread in running:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _on_invoke(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        # url_path is /2015-03-31/functions/<name>/invocations; the body is the payload.
        name = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0])
        function = self.by_name_or_arn(name)
        body = params.get("body") or b"{}"
        payload = json.loads(body.decode() if isinstance(body, bytes) else body or "{}")
        invocation_type = params.get("headers", {}).get("X-Amz-Invocation-Type", "RequestResponse")
        url = params.get("url", "")
        if function is None:
            error = {"Error": {"Code": "ResourceNotFoundException", "Message": f"Function not found: {name}"}}
            return AWSResponse(url, 404, {}, None), {**error, "ResponseMetadata": {"HTTPStatusCode": 404}}
        if invocation_type == "Event":
            self._spawn(function, payload)
            return AWSResponse(url, 202, {}, None), {"StatusCode": 202, "Payload": _stream(b"")}
        parsed: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        try:
            result = function.invoke(payload)
            data = json.dumps(result).encode()
        except FunctionError as error:
            parsed["FunctionError"] = "Unhandled"
            data = json.dumps(error.payload).encode()
        parsed["Payload"] = _stream(data)
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4())}
        return AWSResponse(url, 200, {}, None), parsed

    def _spawn(self, function: LambdaFunction, payload: Any) -> None:
        """An asynchronous invocation in a thread of its own, counted as work until it ends."""

        def run() -> None:
            try:
                self._invoke_async(function, payload)
            finally:
                with self._invocations_lock:
                    self._invocations.discard(threading.current_thread())

        with self._invocations_lock:
            thread = self.activity.spawn(run, f"invoke-{function.name}")
            self._invocations.add(thread)

    def _invoke_async(self, function: LambdaFunction, payload: Any) -> None:
        """Run an invocation Lambda queued: again after a failure, ``retries`` times (at once here; Lambda
        waits a minute, then two), then its record to the ``on_failure`` queue, as Lambda sends it. Once the
        runtime stops, what has not begun is dropped."""
        attempts = 1 + function.retries
        for attempt in range(1, attempts + 1):
            try:
                function.invoke(payload, cancelled=self._stopping)
                return
            except Dropped:
                return
            except FunctionError as error:
                print(f"async invoke of {function.name} failed ({attempt}/{attempts}): {error}", file=sys.stderr)
                failure = error
        if function.on_failure:
            sqs = client("sqs")
            url = sqs.get_queue_url(QueueName=function.on_failure.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(invocation_record(function, payload, failure)))


def invocation_record(function: LambdaFunction, payload: Any, failure: FunctionError) -> dict[str, Any]:
    """What Lambda sends an asynchronous invocation's on-failure destination once its retries are spent."""
    return {
        "version": "1.0",
        "timestamp": clock.now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": str(failure.payload.get("requestId") or uuid.uuid4()),
            "functionArn": f"{function.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 1 + function.retries,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": failure.payload,
    }


def _stream(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))
