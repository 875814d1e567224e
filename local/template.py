"""template.yaml, read as CloudFormation would: parameters, conditions, SAM globals, intrinsics.

The local runtime never keeps a second copy of the stack: every table, queue, route and
function it brings up comes from here. Physical names follow ``<stack>-<LogicalId>`` unless
the template names the resource itself.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfn_flip import load_yaml

REGION = "us-east-1"
ACCOUNT = "123456789012"

_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(Exception):
    """The template asks for something the local runtime does not understand."""


def _deep_merge(base: Any, override: Any) -> Any:
    """SAM globals: maps merge, lists add up, scalars are overridden by the resource."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _deep_merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    return override


@dataclass
class Template:
    path: Path
    stack_name: str = "relance-local"
    parameters: dict[str, str] = field(default_factory=dict)
    endpoint_url: str = "http://127.0.0.1:5000"
    raw: dict[str, Any] = field(init=False)
    physical_ids: dict[str, str] = field(default_factory=dict)
    """Ids the service chose at creation (a Cognito pool id), recorded by provisioning."""

    def __post_init__(self) -> None:
        self.path = Path(self.path).resolve()
        # short-form intrinsics (!Ref, !GetAtt A.B, !Sub …) read as their long form, as CloudFormation does
        self.raw = load_yaml(self.path.read_text(encoding="utf-8"))
        declared = self.raw.get("Parameters", {})
        unknown = set(self.parameters) - set(declared)
        if unknown:
            raise TemplateError(f"unknown template parameters: {sorted(unknown)}")
        for name, spec in declared.items():
            if name not in self.parameters:
                if "Default" not in spec:
                    raise TemplateError(f"parameter {name} has no default: pass a value")
                self.parameters[name] = str(spec["Default"])

    @property
    def root(self) -> Path:
        return self.path.parent

    # ------------------------------------------------------------ resources
    def resources(self, *types: str) -> dict[str, dict[str, Any]]:
        """Logical id → resource (Type, Properties, …) of these types whose condition holds."""
        found = {}
        for logical_id, resource in self.raw.get("Resources", {}).items():
            if types and resource["Type"] not in types:
                continue
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            found[logical_id] = resource
        return found

    def properties(self, logical_id: str) -> dict[str, Any]:
        """A resource's properties, SAM globals applied and intrinsics resolved."""
        resource = self.raw["Resources"][logical_id]
        props = copy.deepcopy(dict(resource.get("Properties", {})))
        globals_key = {
            "AWS::Serverless::Function": "Function",
            "AWS::Serverless::Api": "Api",
            "AWS::Serverless::StateMachine": "StateMachine",
        }.get(resource["Type"])
        if globals_key:
            props = _deep_merge(self.raw.get("Globals", {}).get(globals_key, {}), props)
        resolved: dict[str, Any] = self.resolve(props)
        return resolved

    # ------------------------------------------------------------ physical ids
    def name_of(self, logical_id: str) -> str:
        resource = self.raw["Resources"][logical_id]
        props = resource.get("Properties", {})
        explicit = {
            "AWS::DynamoDB::Table": "TableName",
            "AWS::S3::Bucket": "BucketName",
            "AWS::SQS::Queue": "QueueName",
            "AWS::SNS::Topic": "TopicName",
            "AWS::Serverless::Function": "FunctionName",
            "AWS::Serverless::StateMachine": "Name",
            "AWS::SES::ConfigurationSet": "Name",
            "AWS::SecretsManager::Secret": "Name",
        }.get(resource["Type"])
        if explicit and explicit in props:
            return str(self.resolve(props[explicit]))
        name = f"{self.stack_name}-{logical_id}"
        return name.lower() if resource["Type"] == "AWS::S3::Bucket" else name

    def arn_of(self, logical_id: str) -> str:
        kind = self.raw["Resources"][logical_id]["Type"]
        name = self.name_of(logical_id)
        arns = {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
            "AWS::Serverless::LayerVersion": f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1",
        }
        if kind == "AWS::Cognito::UserPool":
            return f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{self.physical_ids.get(logical_id, name)}"
        if kind not in arns:
            return f"arn:aws:local:{REGION}:{ACCOUNT}:{logical_id}"
        return arns[kind]

    def api_id(self, logical_id: str) -> str:
        return re.sub(r"[^a-z0-9]", "", logical_id.lower())[:10] or "api"

    def queue_url(self, logical_id: str) -> str:
        return f"{self.endpoint_url}/{ACCOUNT}/{self.name_of(logical_id)}"

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        resources = self.raw.get("Resources", {})
        if name not in resources:
            raise TemplateError(f"Ref to unknown name {name}")
        kind = resources[name]["Type"]
        if kind in ("AWS::SQS::Queue",):
            return self.queue_url(name)
        if kind in ("AWS::SNS::Topic", "AWS::Serverless::StateMachine", "AWS::Serverless::LayerVersion"):
            return self.arn_of(name)
        if kind == "AWS::Serverless::Api":
            return self.api_id(name)
        return self.name_of(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.raw.get("Resources", {}):
            raise TemplateError(f"GetAtt on unknown resource {logical_id}")
        if attribute == "Arn":
            return self.arn_of(logical_id)
        if attribute in ("QueueName", "TopicName", "Name"):
            return self.name_of(logical_id)
        if attribute == "QueueUrl":
            return self.queue_url(logical_id)
        raise TemplateError(f"GetAtt {logical_id}.{attribute} is not emulated")

    # ------------------------------------------------------------ intrinsics
    def condition(self, name: str) -> bool:
        conditions = self.raw.get("Conditions", {})
        if name not in conditions:
            raise TemplateError(f"unknown condition {name}")
        return bool(self.resolve(conditions[name]))

    def resolve(self, node: Any) -> Any:
        """The value of ``node`` with every intrinsic function evaluated."""
        if isinstance(node, list):
            values = [self.resolve(item) for item in node]
            return [value for value in values if value is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((function, argument),) = node.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Condition":
                return self.condition(argument)
            if function.startswith("Fn::"):
                return self._intrinsic(function, argument)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    def _intrinsic(self, function: str, argument: Any) -> Any:
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.get_att(logical_id, attribute)
        if function == "Fn::Sub":
            return self._sub(argument)
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(str(part) for part in self.resolve(parts))
        if function == "Fn::Select":
            index, values = argument
            return self.resolve(values)[int(self.resolve(index))]
        if function == "Fn::If":
            name, when_true, when_false = argument
            return self.resolve(when_true if self.condition(name) else when_false)
        if function == "Fn::Equals":
            left, right = self.resolve(argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self.resolve(argument)[0]
        if function == "Fn::And":
            return all(self.resolve(argument))
        if function == "Fn::Or":
            return any(self.resolve(argument))
        raise TemplateError(f"{function} is not emulated by the local runtime")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")
