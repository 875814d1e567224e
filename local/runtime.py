"""The whole template on one machine: moto for AWS, and what moto cannot do, done here.

``LocalRuntime(...).start()`` brings up, in this process: a moto server on loopback with
Step Functions execution on; the template's resources; its functions (served in-process,
also to Step Functions through the Invoke hook); SQS event-source mappings; EventBridge
schedules; Stripe's stand-in (``local/stripe.py``); and an HTTP front that is API Gateway
plus the local-only ``/dev`` endpoints.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore.session
import requests
from moto import backends as moto_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from local import moto_dynamodb
from local.apigateway import ApiGateway
from local.cognito import LocalCognito
from local.dev import DevConsole
from local.functions import FunctionRegistry
from local.outbox import Outbox
from local.provision import provision
from local.quickbooks import LocalQuickBooks
from local.salesforce import LocalSalesforce
from local.schedules import Schedule, Scheduler
from local.ses_events import SesEvents
from local.smtp import SmtpListener
from local.sqs import EventSourceMapping, QueuePoller
from local.step_functions import SimulatedSteps
from local.stripe import LocalStripe
from local.stripe_billing import LocalStripeBilling
from local.stripe_billing import install as install_stripe_billing
from local.template import REGION, Template
from local.virtual_time import VirtualTime
from relance import aws, clock
from relance.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("local")

_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


POLL_SECONDS = 0.05
"""How often the HTTP servers (moto's, the runtime's) look whether they are asked to stop: stopping
waits for it (the default, 0.5 s, was half a second of every stop)."""

_MOTO_MODULES = tuple(moto_backends.list_of_moto_modules())


def _moto_modules() -> tuple[str, ...]:
    return _MOTO_MODULES


_create_loader = botocore.session.create_loader
_loaders: dict[str | None, Any] = {}


def _shared_loader(search_path_string: str | None = None) -> Any:
    """botocore's loader of JSON models, one per search path for the whole process. Each boto3 session
    made its own, which read the models again: relance.aws makes a session per client and moto more,
    so a start parsed endpoints.json (1.2 MB) 13 times. A session's clients already share what its loader
    read; now every session's do."""
    loader = _loaders.get(search_path_string)
    if loader is None:
        loader = _loaders.setdefault(search_path_string, _create_loader(search_path_string))
    return loader


def _read_once() -> None:
    """What moto and botocore read again and again in a process, although it never changes there, read once."""
    moto_backends.list_of_moto_modules = _moto_modules
    botocore.session.create_loader = _shared_loader


class MotoServer(ThreadedMotoServer):
    """moto on loopback, with DynamoDB requests handled one at a time.

    DynamoDB makes each item write and each transaction atomic; moto's Python backend does
    not guard against threads, so concurrent writes (20 payments at once) could lose an
    update here that AWS would never lose.

    moto lists its own package's folders (a ``listdir`` and ~150 ``stat`` calls) twice for every
    request it dispatches: the list is read once here (0.4 ms of a 2 ms DynamoDB request).
    """

    def _server_entry(self) -> None:
        _read_once()  # before any boto3 session is made, ours or moto's
        app = DomainDispatcherApplication(create_backend_app)
        dynamodb = threading.Lock()

        def serialized(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
                with dynamodb:
                    return list(app(environ, start_response))
            return app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, serialized, True)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=POLL_SECONDS)


class LocalRuntime:
    def __init__(
        self,
        template_path: Path = ROOT / "template.yaml",
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        smtp_port: int = 2525,
        time_scale: float = 1.0,
        clock_start: datetime | None = None,
        parameters: dict[str, str] | None = None,
        session_file: Path | None = ROOT / ".local" / "session.json",
    ) -> None:
        self.template_path = template_path
        self.host = host
        self.port = port
        self.smtp_port = smtp_port  # 0: any free port
        self.smtp: SmtpListener | None = None
        self.time_scale = time_scale
        self.clock_start = clock_start
        self.parameters = {"Stage": "local", **(parameters or {})}
        self.virtual_time = VirtualTime()
        self._simulated_steps = SimulatedSteps(self.virtual_time)
        self.session_file = session_file
        self.session: dict[str, Any] = {}
        self.skipped: list[str] = []
        self.pollers: list[QueuePoller] = []
        self.outbox = Outbox()
        self._moto: MotoServer | None = None
        self._server: BaseWSGIServer | None = None
        self._server_thread: threading.Thread | None = None
        self.scheduler: Scheduler | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self, seed: Any = None) -> LocalRuntime:
        """Bring everything up; ``seed()`` (after provisioning) returns the session's facts."""
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's and our access lines
        warnings.filterwarnings("ignore", "No application metrics to publish")
        self._moto = MotoServer(ip_address=self.host, port=0, verbose=False)
        self._moto.start()
        moto_dynamodb.install()  # Query reads its partition, not the whole table (and more: see there)
        moto_port = self._moto.get_host_and_port()[1]
        self.moto_url = f"http://{self.host}:{moto_port}"
        os.environ.update(_AWS_ENVIRONMENT, AWS_ENDPOINT_URL=self.moto_url, MOTO_PORT=str(moto_port))
        # moto's backends are process-wide: a runtime always starts from empty ones.
        requests.post(f"{self.moto_url}/moto-api/reset", timeout=10).raise_for_status()
        requests.post(
            f"{self.moto_url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()
        self._simulated_steps.install()

        # Bound first: the public URL (portal links) is a template parameter. Requests wait until serving.
        self._server = make_server(self.host, self.port, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self.base_url = f"http://{self.host}:{self.port}"
        self.template = Template(self.template_path, parameters=dict(self.parameters), endpoint_url=self.moto_url)
        self._apply_local_parameters()
        aws.reset_clients()
        get_settings.cache_clear()
        self.outbox.install()
        self.skipped = provision(self.template, aws.client)  # records ids moto chose (user pool, secret ARNs)
        self.stripe = self._local_stripe()
        self.cognito = self._local_cognito()
        self.ses_events = SesEvents(self.template, self.virtual_time.activity)
        self.ses_events.install()
        self.functions = FunctionRegistry(self.template, self.virtual_time.activity)
        os.environ.update(self.functions.environment())
        self._attach_cognito()
        get_settings.cache_clear()
        self.functions.install_invoke_hook()
        for function in self.functions.functions.values():
            function.load()  # a broken handler fails the start, not the first request
        clock.configure(time_scale=self.time_scale, start=self.clock_start)
        self._start_sources()  # seeded on the clock: after it is set

        functions = list(self.functions.functions.values())
        self.pollers = [
            QueuePoller(mapping, aws.client("sqs"), self.virtual_time)
            for mapping in EventSourceMapping.all_in(self.template, functions)
        ]
        self.virtual_time.activity.checks = [poller.settled for poller in self.pollers]
        self.scheduler = Scheduler(Schedule.all_in(functions), self.virtual_time)
        self.virtual_time.start()
        self.api = ApiGateway(self.template, self.functions)

        self.smtp = SmtpListener(self.template, self.host, self.smtp_port)
        self.session = {"baseUrl": self.base_url, "apiKey": None, "users": [], "smtpPort": self.smtp.port}
        if seed is not None:
            self.session.update(seed())
        self.dev = DevConsole(self.outbox, self.session, self.sign_in)
        self._write_session()

        for poller in self.pollers:
            poller.start()
        self.scheduler.start()
        self.smtp.start()
        self._server_thread = threading.Thread(target=self._serve, name="http", daemon=True)
        self._server_thread.start()
        return self

    def _serve(self) -> None:
        if self._server is not None:
            self._server.serve_forever(poll_interval=POLL_SECONDS)

    def stop(self) -> None:
        """Stop serving and polling, free both ports."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._server_thread is not None:
            self._server_thread.join(timeout=5)
        for poller in self.pollers:
            poller.signal_stop()
        for poller in self.pollers:
            poller.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None
        self.virtual_time.stop()
        self._simulated_steps.uninstall()
        if getattr(self, "functions", None) is not None:
            self.functions.uninstall_invoke_hook()
        self.outbox.uninstall()
        cognito: LocalCognito | None = getattr(self, "cognito", None)
        if cognito is not None:
            cognito.uninstall()
        salesforce: LocalSalesforce | None = getattr(self, "salesforce", None)
        if salesforce is not None:
            salesforce.stop()
        install_stripe_billing(None)
        if getattr(self, "ses_events", None) is not None:
            self.ses_events.uninstall()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        moto_dynamodb.uninstall()
        clock.reset()

    def __enter__(self) -> LocalRuntime:
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def _apply_local_parameters(self) -> None:
        """Local values of the deployment parameters the template declares (unless given explicitly)."""
        declared = self.template.raw.get("Parameters", {})
        local = {
            "PublicBaseUrl": self.base_url,
            "ReplyDomain": "replies.relance.local",
            # One organization drives the local API (the tests, the demo): its share is the whole stage.
            "OrganizationRequestsPerSecond": "1000",
        }
        for name, value in local.items():
            if name in declared and name not in self.parameters:
                self.template.parameters[name] = value

    def _local_stripe(self) -> LocalStripe:
        """Stripe's stand-in, with fresh test keys put into the template's Stripe secret."""
        stripe = LocalStripe(self.base_url, f"sk_test_local_{secrets.token_hex(12)}", f"whsec_{secrets.token_hex(16)}")
        if "StripeSecret" in self.template.raw.get("Resources", {}):
            aws.client("secretsmanager").put_secret_value(
                SecretId=self.template.physical_ids["StripeSecret"],
                SecretString=json.dumps({"apiKey": stripe.api_key, "webhookSecret": stripe.webhook_secret}),
            )
        os.environ["STRIPE_API_BASE"] = stripe.api_base
        return stripe

    def _local_salesforce(self) -> LocalSalesforce:
        """Salesforce's stand-in, served over HTTPS on a port of its own, where the connector signs in
        (``SALESFORCE_LOGIN_URL``) trusting its certificate authority (``SALESFORCE_CA_BUNDLE``)."""
        salesforce = LocalSalesforce(self.host).start()
        os.environ.update(SALESFORCE_LOGIN_URL=salesforce.base_url, SALESFORCE_CA_BUNDLE=salesforce.ca_bundle)
        get_settings.cache_clear()
        return salesforce

    def _start_sources(self) -> None:
        """The stand-ins of the source systems an organization syncs from (docs/integrations.md)."""
        self.salesforce = self._local_salesforce()
        self.quickbooks = self._local_quickbooks()
        self.stripe_billing = self._local_stripe_billing()

    def _local_stripe_billing(self) -> LocalStripeBilling:
        """Organizations' own Stripe accounts, on this port (``STRIPE_BILLING_API_BASE``); the demo opens one."""
        stripe_billing = LocalStripeBilling(self.base_url, spawn=self.virtual_time.activity.spawn)
        os.environ["STRIPE_BILLING_API_BASE"] = stripe_billing.api_base
        get_settings.cache_clear()
        install_stripe_billing(stripe_billing)
        return stripe_billing

    def _local_quickbooks(self) -> LocalQuickBooks:
        """QuickBooks Online's stand-in and Intuit's OAuth server, on this port (``QUICKBOOKS_API_BASE``,
        ``QUICKBOOKS_DISCOVERY_URL``); oauthlib is told plain HTTP is fine here, as it is nowhere else."""
        quickbooks = LocalQuickBooks(
            self.base_url,
            f"AB{secrets.token_hex(12)}",
            secrets.token_hex(20),
            f"RT1-{secrets.token_hex(20)}",
            secrets.token_hex(16),
            spawn=self.virtual_time.activity.spawn,
            subscriber=lambda: (self.session.get("organization") or {}).get("id"),  # the app's webhooks' endpoint
        )
        os.environ.update(
            QUICKBOOKS_API_BASE=quickbooks.api_base,
            QUICKBOOKS_DISCOVERY_URL=quickbooks.discovery_url,
            OAUTHLIB_INSECURE_TRANSPORT="1",
        )
        get_settings.cache_clear()
        return quickbooks

    def _local_cognito(self) -> LocalCognito | None:
        """The managed login's stand-in, where the web app's sign-in goes (``COGNITO_LOGIN_BASE``)."""
        ids = self.template.physical_ids
        if "UserPool" not in ids or "UserPoolClient" not in ids:
            return None
        cognito = LocalCognito(
            self.base_url, ids["UserPool"], ids["UserPoolClient"], lambda: self.session.get("users", [])
        )
        os.environ["COGNITO_LOGIN_BASE"] = cognito.login_base
        return cognito

    def _attach_cognito(self) -> None:
        """The managed login's stand-in calls the template's pre-sign-up trigger and answers its link."""
        if self.cognito is not None:
            self.cognito.functions = self.functions
            self.cognito.install()

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until what was asked is done (every execution at its next wait, every queue empty)."""
        return self.virtual_time.settle(timeout)

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        """Cognito tokens for a user of the template's user pool (moto's Cognito)."""
        answer = aws.client("cognito-idp").admin_initiate_auth(
            UserPoolId=self.template.physical_ids["UserPool"],
            ClientId=self.template.physical_ids["UserPoolClient"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )["AuthenticationResult"]
        return {"idToken": answer["IdToken"], "expiresIn": answer["ExpiresIn"]}

    # ------------------------------------------------------------ serving
    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        started = time.monotonic()
        cognito = self.cognito.handle(request) if self.cognito is not None else None
        response = (
            self.stripe.handle(request)
            or cognito
            or self.salesforce.handle(request)
            or self.quickbooks.handle(request)
            or self.stripe_billing.handle(request)
            or self.dev.handle(request)
        )
        if response is None and request.path == "/" and self.api.find_route("GET", "/") is None:
            response = Response(status=302, headers={"Location": "/dev"})
        if response is None:
            response = self.api.handle(request)
        elapsed = (time.monotonic() - started) * 1000
        log.info("%s %s → %s (%.0f ms)", request.method, request.path, response.status_code, elapsed)
        return response(environ, start_response)

    def _write_session(self) -> None:
        if self.session_file is None:
            return
        self.session_file.parent.mkdir(parents=True, exist_ok=True)
        public = {k: v for k, v in self.session.items() if k != "organization"}
        self.session_file.write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
