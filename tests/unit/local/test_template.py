"""template.yaml read as CloudFormation would."""

import textwrap

import pytest

from local.template import ACCOUNT, REGION, Template, TemplateError
from tests.conftest import ROOT


@pytest.fixture
def write(tmp_path):
    def template(body: str, **parameters: str) -> Template:
        path = tmp_path / "template.yaml"
        path.write_text(textwrap.dedent(body))
        return Template(path, stack_name="s", parameters=parameters, endpoint_url="http://127.0.0.1:9")

    return template


def test_intrinsics_resolve_to_local_physical_ids(write):
    template = write("""
        Parameters:
          Stage: {Type: String, Default: dev}
        Resources:
          Queue: {Type: AWS::SQS::Queue}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Environment:
                Variables:
                  QUEUE_URL: !Ref Queue
                  QUEUE_ARN: !GetAtt Queue.Arn
                  NAME: !Sub "relance-${Stage}-${AWS::Region}"
                  JOINED: !Join ["/", [a, !Ref Stage]]
    """)

    variables = template.properties("Fn")["Environment"]["Variables"]

    assert variables == {
        "QUEUE_URL": f"http://127.0.0.1:9/{ACCOUNT}/s-Queue",
        "QUEUE_ARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:s-Queue",
        "NAME": f"relance-dev-{REGION}",
        "JOINED": "a/dev",
    }


def test_globals_merge_into_functions_maps_merge_and_resource_wins(write):
    template = write("""
        Globals:
          Function:
            Timeout: 3
            Environment: {Variables: {A: "1", B: "1"}}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Timeout: 9
              Environment: {Variables: {B: "2"}}
    """)

    props = template.properties("Fn")

    assert props["Timeout"] == 9
    assert props["Environment"]["Variables"] == {"A": "1", "B": "2"}


def test_conditions_select_resources_and_values(write):
    template = write("""
        Parameters:
          Email: {Type: String, Default: ""}
        Conditions:
          HasEmail: !Not [!Equals [!Ref Email, ""]]
        Resources:
          Sub:
            Type: AWS::SNS::Subscription
            Condition: HasEmail
          Topic:
            Type: AWS::SNS::Topic
            Properties:
              DisplayName: !If [HasEmail, with, without]
              KmsMasterKeyId: !If [HasEmail, key, !Ref AWS::NoValue]
    """)

    assert set(template.resources()) == {"Topic"}
    assert template.properties("Topic") == {"DisplayName": "without"}


def test_unknown_parameter_or_reference_is_an_error(write):
    body = """
        Resources:
          Topic: {Type: AWS::SNS::Topic, Properties: {DisplayName: !Ref Nowhere}}
    """
    with pytest.raises(TemplateError, match="unknown template parameters"):
        write(body, Missing="x")
    with pytest.raises(TemplateError, match="Nowhere"):
        write(body).properties("Topic")


def test_the_real_template_resolves_every_function():
    template = Template(ROOT / "template.yaml", parameters={"Stage": "local"})

    for logical_id in template.resources("AWS::Serverless::Function"):
        variables = template.properties(logical_id)["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == "relance-local-Table"
        assert variables["DOCUMENTS_BUCKET"] == "relance-local-documentsbucket"
