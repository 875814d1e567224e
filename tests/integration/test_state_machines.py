"""Every state machine definition is valid ASL once its substitutions are made (as deployed).

cfn-lint does not look inside AWS::Serverless::StateMachine and moto accepts a StartAt that
names a missing state, so asl-validator (npm, installed by the Makefile) checks each one.
"""

import subprocess

import pytest

from local.provision import state_machine_definition
from local.template import Template
from tests.conftest import FIXTURES, ROOT

VALIDATOR = ROOT / ".tools" / "node_modules" / ".bin" / "asl-validator"
TEMPLATES = [ROOT / "template.yaml", FIXTURES / "runtime" / "template.yaml"]


def state_machines():
    for path in TEMPLATES:
        template = Template(path)
        for logical_id in template.resources("AWS::Serverless::StateMachine"):
            yield pytest.param(template, logical_id, id=f"{path.parent.name}:{logical_id}")


@pytest.mark.parametrize(("template", "logical_id"), list(state_machines()))
def test_definition_is_valid_asl(template, logical_id, tmp_path):
    definition = tmp_path / f"{logical_id}.json"
    definition.write_text(state_machine_definition(template, logical_id))

    result = subprocess.run([VALIDATOR, "--json-path", str(definition)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_catches_a_missing_start_state(tmp_path):
    definition = tmp_path / "broken.json"
    definition.write_text('{"StartAt": "Nowhere", "States": {"Here": {"Type": "Succeed"}}}')

    result = subprocess.run([VALIDATOR, "--json-path", str(definition)], capture_output=True, text=True, check=False)

    assert result.returncode != 0
