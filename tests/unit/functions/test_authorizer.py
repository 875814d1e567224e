"""The authorizer refuses without looking anything up when no key is presented."""

import pytest

from local.functions import FunctionError, FunctionRegistry
from local.template import Template
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def authorizer():
    return FunctionRegistry(Template(ROOT / "template.yaml"))["AuthorizerFunction"]


def test_no_credentials_is_unauthorized(authorizer, sample_event):
    with pytest.raises(FunctionError) as error:
        authorizer.invoke(sample_event("authorizer/request-no-credentials.json"))

    assert error.value.payload["errorMessage"] == "Unauthorized"


def test_something_that_is_not_a_key_is_unauthorized(authorizer, sample_event):
    event = sample_event("authorizer/request-no-credentials.json")
    event["headers"]["X-Api-Key"] = "let-me-in"

    with pytest.raises(FunctionError) as error:
        authorizer.invoke(event)

    assert error.value.payload["errorMessage"] == "Unauthorized"
