"""Routers imported on a request's first need: a cold start loads the module that serves its path, not all.

An HTTP function whose routers serve unrelated resources (the API: customers, the ledger, analytics,
workflows…) would import every service and every model at its cold start, though a request that
lists customers needs one router. A ``RouterTable`` names, for each router module, the paths it
serves; the resolver imports the module that serves the request's path and includes its router
before routing it (once per process), so the first request pays for its own router and a warm
function has everything it has served. Routing is unchanged: a path is served by one module only,
which the function's tests check route by route against the table (``RouterTable.check``), so
which modules happen to be loaded never changes which route answers.

A pattern is a path prefix, segment by segment, where ``*`` is any one segment:
``/v1/customers/*/contacts`` covers ``/v1/customers/c1/contacts`` and anything below it. The pattern
with the most segments wins, so ``/v1/customers`` can leave its contacts to another module, and of
two as long, the one with fewer ``*``: ``/customers/count`` before ``/customers/*``.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

_PARAMETER = re.compile(r"<[^>]+>")


def _segments(path: str) -> tuple[str, ...]:
    return tuple(segment for segment in path.split("/") if segment)


@dataclass
class RouterTable:
    """Which module of ``package`` has the ``router`` serving each path prefix (module name → its patterns).

    The package is imported with the handler (Lambda's code folder is on the path then, and the local
    runtime runs every function in one process): its modules are found through it later, anywhere."""

    package: ModuleType
    modules: Mapping[str, Sequence[str]]
    _patterns: list[tuple[tuple[str, ...], str]] = field(init=False, repr=False)
    _included: set[str] = field(default_factory=set, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        patterns = [(_segments(pattern), module) for module, paths in self.modules.items() for pattern in paths]
        seen: dict[tuple[str, ...], str] = {}
        for segments, module in patterns:
            if segments in seen:
                raise ValueError(f"{'/'.join(segments)!r} is claimed by {seen[segments]} and {module}")
            seen[segments] = module
        # The most specific first: the longest, and of two as long the one with fewer ``*``.
        self._patterns = sorted(patterns, key=lambda pattern: (-len(pattern[0]), pattern[0].count("*")))

    def module_for(self, path: str) -> str | None:
        """The module serving ``path`` (its most specific pattern), or None when no module serves it."""
        segments = _segments(path)
        for pattern, module in self._patterns:
            if len(pattern) <= len(segments) and all(p in ("*", s) for p, s in zip(pattern, segments, strict=False)):
                return module
        return None

    def include_for(self, app: ApiGatewayResolver, path: str) -> None:
        """Include the router serving ``path`` in ``app`` unless it is already (nothing when none serves it)."""
        module = self.module_for(path)
        if module is not None and module not in self._included:
            self._include(app, module)

    def include_all(self, app: ApiGatewayResolver) -> None:
        """Include every router (the OpenAPI document, tests that walk every route)."""
        for module in self.modules:
            if module not in self._included:
                self._include(app, module)

    def _include(self, app: ApiGatewayResolver, module: str) -> None:
        with self._lock:  # two threads of one process (the local runtime) must not include a router twice
            if module not in self._included:
                app.include_router(self._router_module(module).router)
                self._included.add(module)

    def _router_module(self, module: str) -> ModuleType:
        return importlib.import_module(f"{self.package.__name__}.{module}")

    def check(self, app: ApiGatewayResolver) -> Iterator[str]:
        """What is wrong with the table: each route of each module whose path the table gives to another
        module (or to none), and each path that routes of two modules would both match — but for a fixed
        path (``/customers/count``) matched by another module's parameter (``/customers/<id>``): the
        resolver tries fixed paths first, and the table brings the fixed path's module (``app``
        compiles the rules as it routes them)."""
        routes = []
        for module in self.modules:
            router = self._router_module(module).router
            for key in router._routes:
                rule, methods = key[0], key[1]
                for method in (methods,) if isinstance(methods, str) else methods:
                    routes.append((module, method.upper(), rule, app._compile_regex(rule)))
        for module, method, rule, _ in routes:
            sample = _PARAMETER.sub("x1", rule)
            if (served_by := self.module_for(sample)) != module:
                yield f"{method} {rule} is routed by {module} but the table gives {sample} to {served_by}"
            for other, other_method, other_rule, regex in routes:
                fixed_before_parameter = sample == rule and _PARAMETER.search(other_rule)
                if other != module and other_method == method and regex.match(sample) and not fixed_before_parameter:
                    yield f"{method} {sample} matches {rule} in {module} and {other_rule} in {other}"
