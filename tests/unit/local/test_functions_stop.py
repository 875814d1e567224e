"""A local runtime's asynchronous invocations end with it: the one running is waited for, those not yet begun
are dropped. Left running, they wrote to the next runtime's moto in the same process (one bench's
requests counted in another's figures)."""

from __future__ import annotations

import json
import threading
import time

import boto3

from local.functions import FunctionRegistry
from local.template import Template

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  SlowFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: slow/
      Handler: slow_app.handler
      Runtime: python3.11
"""
HANDLER = """
import threading

gate = threading.Event()
calls = []


def handler(event, context):
    calls.append(event["n"])
    gate.wait(10)
    return {}
"""


def test_a_stop_waits_for_the_running_invocation_and_drops_the_queued_ones(tmp_path):
    (tmp_path / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "slow_app.py").write_text(HANDLER, encoding="utf-8")
    registry = FunctionRegistry(Template(tmp_path / "template.yaml"))
    slow = registry["SlowFunction"]
    slow.load()
    registry.install_invoke_hook()
    lambdas = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stopping = threading.Thread(target=registry.uninstall_invoke_hook)
    try:
        for n in range(3):
            lambdas.invoke(FunctionName=slow.name, InvocationType="Event", Payload=json.dumps({"n": n}).encode())
        deadline = time.monotonic() + 10
        while not slow.module.calls and time.monotonic() < deadline:
            time.sleep(0.01)
        stopping.start()
        time.sleep(0.2)
        assert stopping.is_alive()  # the running invocation holds the stop
    finally:
        slow.module.gate.set()
        if stopping.is_alive():
            stopping.join(timeout=10)
        registry.uninstall_invoke_hook()

    assert not stopping.is_alive()
    assert len(slow.module.calls) == 1  # the other two, queued behind it, were dropped
    assert registry.activity.wait_quiet(timeout=5)
