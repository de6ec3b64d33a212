"""Switch on IAM authorization in a moto server, deploy a synthesized template as an admin, and assume its roles.

Every behaviour relied on here was read in moto 5.2.5's source: ``moto/core/authorization.py`` (the count of
unauthenticated actions), ``moto/iam/access_control.py`` (signature, identity policy and trust policy checks) and
``moto/moto_api/_internal/responses.py`` (the ``/moto-api/reset-auth`` endpoint).
"""

import io
import json
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from sqs_kit.local.server import LOCAL_ACCOUNT_ID, LOCAL_REGION, require_loopback

# CreateUser, PutUserPolicy and CreateAccessKey: the admin user, its policy and its key. Every later call is signed
# with that key or with credentials derived from it, so one more free action would let a setup mistake pass unseen.
UNAUTHENTICATED_ACTION_COUNT = 3
ADMIN_USER_NAME = "sqs-kit-admin"
# The CDK default synthesizer's qualifier, which names the bootstrap bucket and the version parameter.
BOOTSTRAP_QUALIFIER = "hnb659fds"
ASSET_BUCKET = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{LOCAL_ACCOUNT_ID}-{LOCAL_REGION}"
BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
# The template's CheckBootstrapVersion rule rejects versions 1 to 5, and 30 is a recent `cdk bootstrap` version.
BOOTSTRAP_VERSION = "30"
POLICY_VERSION = "2012-10-17"
# A denied call is final: retrying it only slows the test down.
SINGLE_ATTEMPT = Config(retries={"total_max_attempts": 1})


@dataclass(frozen=True)
class Credentials:
    """Keys that sign requests to the moto server, with the session token of an assumed role."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


@dataclass(frozen=True)
class Denial:
    """The error code, message and HTTP status of a rejected call."""

    code: str
    message: str
    status: int


def enable_authorization(endpoint_url: str, *, free_actions: int = UNAUTHENTICATED_ACTION_COUNT) -> None:
    """Make the server check every action after the next ``free_actions`` ones, and restart its count at zero.

    This is the request that moto's ``set_initial_no_auth_action_count`` sends in server mode.
    """
    require_loopback(endpoint_url)
    request = urllib.request.Request(
        f"{endpoint_url}/moto-api/reset-auth",
        data=str(free_actions).encode(),
        method="POST",
        # moto reads the raw body, which a form content type would route to the parsed form fields instead.
        headers={"Content-Type": "text/plain"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        response.read()


def client(service: str, endpoint_url: str, credentials: Credentials) -> Any:
    """Return a boto3 client for ``service`` that signs with ``credentials`` and only reaches ``endpoint_url``."""
    require_loopback(endpoint_url)
    # A session of its own, so neither the environment's fake keys nor a profile can sign these requests.
    session = boto3.session.Session(
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        region_name=LOCAL_REGION,
    )
    return session.client(service, endpoint_url=endpoint_url, config=SINGLE_ATTEMPT)


def create_admin(endpoint_url: str, unauthenticated: Credentials) -> tuple[Credentials, str]:
    """Create an IAM user allowed every action, using exactly ``UNAUTHENTICATED_ACTION_COUNT`` calls.

    Returns the user's access key and ARN.
    """
    iam = client("iam", endpoint_url, unauthenticated)
    user = iam.create_user(UserName=ADMIN_USER_NAME)["User"]
    iam.put_user_policy(
        UserName=ADMIN_USER_NAME,
        PolicyName="AllowEverything",
        PolicyDocument=json.dumps(
            {"Version": POLICY_VERSION, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=ADMIN_USER_NAME)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"]), str(user["Arn"])


def function_code_keys(template: dict[str, Any]) -> set[str]:
    """Return the S3 keys of the bootstrap bucket that the template's Lambda functions load their code from."""
    keys = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            keys.add(resource["Properties"]["Code"]["S3Key"])
    return keys


def placeholder_zip() -> bytes:
    """Build a zip with one handler file, in place of the real assets that `cdk deploy` would publish."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def prepare_bootstrap(endpoint_url: str, admin: Credentials, template: dict[str, Any]) -> None:
    """Create what `cdk bootstrap` and asset publishing leave behind: the asset bucket, its objects and the version."""
    s3 = client("s3", endpoint_url, admin)
    s3.create_bucket(Bucket=ASSET_BUCKET)
    code = placeholder_zip()
    for key in sorted(function_code_keys(template)):
        s3.put_object(Bucket=ASSET_BUCKET, Key=key, Body=code)
    ssm = client("ssm", endpoint_url, admin)
    ssm.put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String")


def deploy_template(endpoint_url: str, admin: Credentials, template: dict[str, Any], stack_name: str) -> dict[str, str]:
    """Create the stack from ``template`` and return its physical resource ids by logical id.

    Raises ``AssertionError`` with the stack's status reason unless the stack reaches CREATE_COMPLETE.
    """
    cloudformation = client("cloudformation", endpoint_url, admin)
    cloudformation.create_stack(
        StackName=stack_name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"]
    )
    # moto creates the stack within the CreateStack call, so no waiter is needed.
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", f"{stack_name}: {stack.get('StackStatusReason')}"
    summaries = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    # moto 5.2.5 lists resource types it cannot create (here AWS::SQS::QueuePolicy) with an empty logical id.
    return {
        summary["LogicalResourceId"]: summary["PhysicalResourceId"]
        for summary in summaries
        if summary["LogicalResourceId"]
    }


def physical_id(template: dict[str, Any], resources: dict[str, str], resource_type: str, logical_prefix: str) -> str:
    """Return the physical id of the one ``resource_type`` resource whose logical id starts with ``logical_prefix``.

    The type narrows the match because CDK logical ids share prefixes, as a role and its default policy do.
    """
    found = [
        physical
        for logical, physical in resources.items()
        if logical.startswith(logical_prefix) and template["Resources"][logical]["Type"] == resource_type
    ]
    assert len(found) == 1, f"expected one {resource_type} with logical id prefix {logical_prefix}, found {found}"
    return found[0]


def trust_only(endpoint_url: str, admin: Credentials, role_name: str, principal_arn: str) -> None:
    """Replace the trust policy of ``role_name`` with one that lets only ``principal_arn`` assume it.

    moto 5.2.5 checks trust policies on AssumeRole once authorization is on. It matches the caller's ARN literally,
    so an account root principal does not admit a user of that account (AccessDenied). A statement with a
    ``Service`` principal, such as the template's lambda.amazonaws.com one, makes it fail with HTTP 500.
    That is why the Lambda statement is replaced here rather than extended.

    NOTE: so the template's own trust policy (lambda.amazonaws.com only) is not exercised here, and no synth test
    asserts it either.
    """
    policy = {
        "Version": POLICY_VERSION,
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"}],
    }
    client("iam", endpoint_url, admin).update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(policy))


def assume(endpoint_url: str, caller: Credentials, role_arn: str) -> Credentials:
    """Assume ``role_arn`` through moto's STS as ``caller`` and return the session's credentials."""
    sts = client("sts", endpoint_url, caller)
    session_name = f"sqs-kit-test-{uuid.uuid4().hex[:8]}"
    issued = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return Credentials(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])


def denial_of(error: ClientError) -> Denial:
    """Return the code, message and status of a rejected call, also when botocore could not parse the error body.

    moto 5.2.5 rejects an unauthorized SQS call with a query-protocol XML ``ErrorResponse``, while boto3 uses SQS's
    JSON protocol. botocore then reports the HTTP status as the code and the whole XML
    document as the message, so the real code and message are read from that document.
    """
    response = error.response
    status = int(response["ResponseMetadata"]["HTTPStatusCode"])
    code = str(response["Error"].get("Code", ""))
    message = str(response["Error"].get("Message", ""))
    if message.lstrip().startswith("<?xml"):
        document = ElementTree.fromstring(message)
        code = document.findtext("./Errors/Error/Code", default=code)
        message = document.findtext("./Errors/Error/Message", default=message)
    return Denial(code=code, message=message, status=status)


__all__ = [
    "UNAUTHENTICATED_ACTION_COUNT",
    "Credentials",
    "Denial",
    "assume",
    "client",
    "create_admin",
    "denial_of",
    "deploy_template",
    "enable_authorization",
    "physical_id",
    "prepare_bootstrap",
    "trust_only",
]
