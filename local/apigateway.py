"""An API Gateway (REST API, Lambda proxy integration) in front of the template's functions.

Reads every ``Type: Api`` event of the template: routes with path parameters and greedy
``{proxy+}``, the API's Lambda authorizers (REQUEST and TOKEN, with their identity
sources), binary media types and gateway responses. Each request becomes the proxy event
the function gets in AWS; its answer becomes the HTTP response.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from local.functions import FunctionError, FunctionRegistry, LambdaFunction
from local.template import ACCOUNT, REGION, Template

MAX_PAYLOAD = 10 * 1024 * 1024
IMPLICIT_API = "ServerlessRestApi"

_DEFAULT_GATEWAY_RESPONSES: dict[str, tuple[int, dict[str, Any]]] = {
    "UNAUTHORIZED": (401, {"message": "Unauthorized"}),
    "ACCESS_DENIED": (
        403,
        {"Message": "User is not authorized to access this resource with an explicit deny"},
    ),
    "MISSING_AUTHENTICATION_TOKEN": (403, {"message": "Missing Authentication Token"}),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, {"message": None}),
    "AUTHORIZER_FAILURE": (500, {"message": None}),
    "REQUEST_TOO_LARGE": (413, {"message": "Request Too Long"}),
    "BAD_GATEWAY": (502, {"message": "Internal server error"}),
}


@dataclass
class Authorizer:
    name: str
    function: LambdaFunction
    payload_type: str  # REQUEST or TOKEN
    headers: list[str] = field(default_factory=list)
    query_strings: list[str] = field(default_factory=list)


@dataclass
class RestApi:
    logical_id: str
    api_id: str
    stage: str
    binary_media_types: list[str]
    gateway_responses: dict[str, Any]
    authorizers: dict[str, Authorizer]
    default_authorizer: str | None


@dataclass
class Route:
    api: RestApi
    resource: str  # e.g. /v1/customers/{id}
    method: str  # GET, POST… or ANY
    function: LambdaFunction
    authorizer: Authorizer | None

    @property
    def segments(self) -> list[str]:
        return [s for s in self.resource.split("/") if s]

    def match(self, path: str) -> dict[str, str] | None:
        """Path parameters when ``path`` fits this resource, else None."""
        parts = [p for p in path.split("/") if p]
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = parts[index:]
                if not rest:
                    return None
                params[segment[1:-2]] = "/".join(rest)
                return params
            if index >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                params[segment[1:-1]] = parts[index]
            elif segment != parts[index]:
                return None
        return params if len(parts) == len(self.segments) else None

    def specificity(self) -> tuple[int, ...]:
        """API Gateway prefers static segments, then {param}, then {proxy+}; then a method."""
        rank = [2 if not s.startswith("{") else (0 if s.endswith("+}") else 1) for s in self.segments]
        return (*rank, 1 if self.method != "ANY" else 0)


def _media_type_matches(content_type: str, patterns: list[str]) -> bool:
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    return bool(media) and any(fnmatch.fnmatchcase(media, p.lower()) for p in patterns)


def _stringify(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


class ApiGateway:
    """A WSGI application that routes requests to the template's functions."""

    def __init__(self, template: Template, functions: FunctionRegistry) -> None:
        self.apis = self._load_apis(template, functions)
        self.routes = self._load_routes(template, functions)

    # ------------------------------------------------------------ from the template
    def _load_apis(self, template: Template, functions: FunctionRegistry) -> dict[str, RestApi]:
        apis = {}
        for logical_id in template.resources("AWS::Serverless::Api"):
            props = template.properties(logical_id)
            auth = props.get("Auth", {})
            authorizers = {}
            for name, spec in auth.get("Authorizers", {}).items():
                if "FunctionArn" not in spec:
                    raise ValueError(f"{logical_id}: authorizer {name} is not a Lambda authorizer")
                function = functions.by_name_or_arn(spec["FunctionArn"])
                if function is None:
                    raise ValueError(f"{logical_id}: authorizer {name} names an unknown function")
                identity = spec.get("Identity", {})
                payload_type = spec.get("FunctionPayloadType", "TOKEN")
                headers = identity.get("Headers", [])
                if payload_type == "TOKEN":
                    headers = [identity.get("Header", "Authorization")]
                authorizers[name] = Authorizer(name, function, payload_type, headers, identity.get("QueryStrings", []))
            apis[logical_id] = RestApi(
                logical_id=logical_id,
                api_id=template.api_id(logical_id),
                stage=str(props.get("StageName", "Prod")),
                binary_media_types=[t.replace("~1", "/") for t in props.get("BinaryMediaTypes", [])],
                gateway_responses=props.get("GatewayResponses", {}),
                authorizers=authorizers,
                default_authorizer=auth.get("DefaultAuthorizer"),
            )
        apis[IMPLICIT_API] = RestApi(IMPLICIT_API, "implicit", "Prod", [], {}, {}, None)
        return apis

    def _load_routes(self, template: Template, functions: FunctionRegistry) -> list[Route]:
        routes = []
        for function in functions.functions.values():
            for event in function.events.values():
                if event.get("Type") != "Api":
                    continue
                props = event["Properties"]
                api = self.apis[self._api_logical_id(props)]
                authorizer_name = props.get("Auth", {}).get("Authorizer", api.default_authorizer)
                authorizer = None if authorizer_name in (None, "NONE") else api.authorizers[authorizer_name]
                method = props["Method"].upper()
                routes.append(Route(api, props["Path"], method, function, authorizer))
        return sorted(routes, key=lambda r: r.specificity(), reverse=True)

    def _api_logical_id(self, props: dict[str, Any]) -> str:
        api_id = props.get("RestApiId")
        if api_id is None:
            return IMPLICIT_API
        for logical_id, api in self.apis.items():
            if api.api_id == api_id:
                return logical_id
        raise ValueError(f"route {props.get('Path')} names an unknown API {api_id}")

    # ------------------------------------------------------------ request → event
    def find_route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            params = route.match(path)
            if params is not None and route.method in (method, "ANY"):
                return route, params
        return None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self.handle(request)(environ, start_response)

    def handle(self, request: Request) -> Response:
        found = self.find_route(request.method, request.path)
        api = found[0].api if found else next(iter(self.apis.values()))
        if found is None:
            return self.gateway_response(api, "MISSING_AUTHENTICATION_TOKEN")
        route, path_params = found
        body = request.get_data(cache=False)
        if len(body) > MAX_PAYLOAD:
            return self.gateway_response(api, "REQUEST_TOO_LARGE")
        request_id = str(uuid.uuid4())
        event = self.proxy_event(route, request, path_params, body, request_id)
        if route.authorizer is not None:
            outcome = self.authorize(route, request, event)
            if isinstance(outcome, Response):
                return outcome
            event["requestContext"]["authorizer"] = outcome
        try:
            result = route.function.invoke(event)
            return self.to_response(result, request_id)
        except (FunctionError, ValueError, TypeError, KeyError):
            return self.gateway_response(api, "BAD_GATEWAY")

    def proxy_event(
        self,
        route: Route,
        request: Request,
        path_params: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> dict[str, Any]:
        headers = {key: value for key, value in request.headers.items()}
        multi_headers: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            multi_headers.setdefault(key, []).append(value)
        query = {key: values[-1] for key, values in request.args.lists()}
        multi_query = {key: values for key, values in request.args.lists()}
        binary = _media_type_matches(request.content_type or "", route.api.binary_media_types)
        if not body:
            event_body, encoded = None, False
        elif binary:
            event_body, encoded = base64.b64encode(body).decode(), True
        else:
            event_body, encoded = body.decode("utf-8", errors="replace"), False
        now = datetime.now(UTC)
        return {
            "resource": route.resource,
            "path": request.path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": uuid.uuid4().hex[:6],
                "resourcePath": route.resource,
                "httpMethod": request.method,
                "extendedRequestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{route.api.stage}{request.path}",
                "accountId": ACCOUNT,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "stage": route.api.stage,
                "domainPrefix": "localhost",
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {
                    "sourceIp": request.remote_addr or "127.0.0.1",
                    "userAgent": request.headers.get("User-Agent"),
                },
                "domainName": request.host,
                "apiId": route.api.api_id,
            },
            "body": event_body,
            "isBase64Encoded": encoded,
        }

    # ------------------------------------------------------------ authorizers
    def authorize(self, route: Route, request: Request, event: dict[str, Any]) -> dict[str, Any] | Response:
        """The authorizer context for the request, or the gateway response that refuses it."""
        authorizer = route.authorizer
        assert authorizer is not None
        missing_header = any(request.headers.get(h) is None for h in authorizer.headers)
        missing_query = any(q not in request.args for q in authorizer.query_strings)
        if missing_header or missing_query:
            return self.gateway_response(route.api, "UNAUTHORIZED")
        method_arn = (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{route.api.api_id}/"
            f"{route.api.stage}/{request.method}{request.path}"
        )
        if authorizer.payload_type == "TOKEN":
            auth_event: dict[str, Any] = {
                "type": "TOKEN",
                "authorizationToken": request.headers.get(authorizer.headers[0]),
                "methodArn": method_arn,
            }
        else:
            auth_event = {"type": "REQUEST", "methodArn": method_arn, **event}
            auth_event.pop("body"), auth_event.pop("isBase64Encoded")
        started = time.monotonic()
        try:
            result = authorizer.function.invoke(auth_event)
        except FunctionError as error:
            unauthorized = error.payload.get("errorMessage") == "Unauthorized"
            kind = "UNAUTHORIZED" if unauthorized else "AUTHORIZER_CONFIGURATION_ERROR"
            return self.gateway_response(route.api, kind)
        if not isinstance(result, dict) or "policyDocument" not in result:
            return self.gateway_response(route.api, "AUTHORIZER_CONFIGURATION_ERROR")
        if not self._allows(result["policyDocument"], method_arn):
            return self.gateway_response(route.api, "ACCESS_DENIED")
        context = {key: _stringify(value) for key, value in (result.get("context") or {}).items()}
        latency = int((time.monotonic() - started) * 1000)
        return {**context, "principalId": result.get("principalId"), "integrationLatency": latency}

    @staticmethod
    def _allows(policy: dict[str, Any], method_arn: str) -> bool:
        """IAM evaluation of an authorizer policy: an explicit Deny wins, else an Allow is needed."""
        allowed = False
        statements = policy.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
                continue
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            if not any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
        return allowed

    # ------------------------------------------------------------ responses
    def gateway_response(self, api: RestApi, kind: str) -> Response:
        """API Gateway's own answer: the template's GatewayResponses, else AWS' default."""
        status, default_body = _DEFAULT_GATEWAY_RESPONSES[kind]
        family = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        custom = api.gateway_responses.get(kind) or api.gateway_responses.get(family)
        if custom:
            status = int(custom.get("StatusCode", status))
            body = custom.get("ResponseTemplates", {}).get("application/json")
            headers = custom.get("ResponseParameters", {}).get("Headers", {})
            response = Response(body if body is not None else json.dumps(default_body), status)
            for name, value in headers.items():
                response.headers[name] = str(value).strip("'")
        else:
            response = Response(json.dumps(default_body), status)
        response.headers["Content-Type"] = "application/json"
        response.headers["x-amzn-ErrorType"] = kind
        return response

    @staticmethod
    def to_response(result: Any, request_id: str) -> Response:
        """A Lambda proxy result as HTTP; anything malformed is a 502 as in AWS."""
        if not isinstance(result, dict) or "statusCode" not in result:
            raise ValueError("malformed Lambda proxy response")
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        headers = Headers()
        for name, value in (result.get("headers") or {}).items():
            headers[name] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.remove(name)
            for value in values:
                headers.add(name, str(value))
        headers.setdefault("Content-Type", "application/json")
        headers["x-amzn-RequestId"] = request_id
        return Response(data, int(result["statusCode"]), headers=headers)
