"""A browser for the web app's integration tests: follows redirects, keeps cookies, signs in.

``requests`` would not send a ``Secure`` cookie over ``http://127.0.0.1`` (Chromium does, for
loopback); this one keeps every cookie the app sets, as Chromium does there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from bs4 import BeautifulSoup

from relance.domain.organizations import Principal


class Browser:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        self.http = requests.Session()
        self.trail: list[requests.Response] = []

    def _keep(self, response: requests.Response) -> None:
        for cookie in response.cookies:
            if cookie.value and not (cookie.expires is not None and cookie.expires <= 0):
                self.cookies[cookie.name] = cookie.value
            else:
                self.cookies.pop(cookie.name, None)
        for header in response.raw.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            if "Max-Age=0" in rest:
                self.cookies.pop(name, None)

    def request(self, method: str, url: str, *, follow: bool = True, **kwargs: Any) -> requests.Response:
        url = urljoin(self.base_url, url)
        self.trail = []
        while True:
            headers = {"Origin": self.base_url} if method == "POST" else {}
            headers |= kwargs.pop("headers", {})
            response = self.http.request(
                method, url, cookies=dict(self.cookies), headers=headers, allow_redirects=False, timeout=60, **kwargs
            )
            self._keep(response)
            self.trail.append(response)
            if not follow or response.status_code not in (301, 302, 303, 307):
                return response
            url = urljoin(url, response.headers["Location"])
            method, kwargs = "GET", {}

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, data=data, **kwargs)

    def csrf(self, page: requests.Response) -> str:
        return str(BeautifulSoup(page.text, "html.parser").find("input", {"name": "csrf"})["value"])

    def sign_in(self, email: str, password: str, next_path: str = "/customers") -> requests.Response:
        """Through the managed login's page, as a person types it."""
        page = self.get(next_path)
        assert urlsplit(page.url).path == "/dev/cognito/oauth2/authorize", page.url
        form = BeautifulSoup(page.text, "html.parser").find("form")
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") == "hidden"}
        return self.post(form["action"], {**fields, "email": email, "password": password})


def text_of(response: requests.Response) -> str:
    return " ".join(BeautifulSoup(response.text, "html.parser").get_text(" ").split())


def admin(runtime: Any) -> Principal:
    """An admin of the runtime's organization, for setting up through the services."""
    return Principal(organization_id=runtime.session["organization"]["id"], role="admin", principal_id="test")
