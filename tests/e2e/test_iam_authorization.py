"""Deploy the synthesized dev template into a moto server with IAM authorization on, then call SQS as each role.

The producer role must be able to send and nothing else. The consumer role must be able to receive, delete, change
visibility and read attributes, and not send. A negative control shows that authorization is really on.

Why a moto server rather than in-process ``mock_aws``: the server is its own process, so switching authorization
on changes no global moto setting of the pytest process that other test modules rely on. Every call also crosses
HTTP with SigV4 signatures, as it would against AWS. Starting the server took about 0.3 s and the whole module 12 to
19 s, synthesis included, on a 2-core machine shared with other test runs (pytest's own timing, four runs).

Setup identity: the server lets the first ``UNAUTHENTICATED_ACTION_COUNT`` (3) actions through unchecked. They
create an admin user, its allow-everything inline policy and its access key. Everything after that is signed with
the admin's key: the asset bucket and placeholder code, the bootstrap version parameter and ``CreateStack``.

Role trust: moto 5.2.5 does check a role's trust policy on ``AssumeRole`` once authorization is on. It compares
the caller's ARN literally, so an account root principal does not admit the admin user. It also fails with HTTP 500
on the template's ``Service: lambda.amazonaws.com`` statement. The test therefore replaces each role's trust policy
with one that trusts only the admin user; see ``iam_helpers.trust_only``.
"""

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqs_kit.local.server import MotoServer

from ..synth.helpers import synth_env
from .iam_helpers import (
    Credentials,
    Denial,
    assume,
    client,
    create_admin,
    denial_of,
    deploy_template,
    enable_authorization,
    physical_id,
    prepare_bootstrap,
    trust_only,
)

pytestmark = pytest.mark.e2e

STACK_NAME = "sqs-kit-dev"
# The keys conftest.py puts in the environment. No IAM user owns them, so moto accepts them only while the
# unauthenticated actions last.
ENVIRONMENT_CREDENTIALS = Credentials("testing", "testing")
# Shaped like an IAM user's key, so moto looks it up among the users' keys and finds none.
UNKNOWN_CREDENTIALS = Credentials("AKIAUNKNOWNKEY000000", "not-a-secret")
# Every receive sets its own wait, because the dev queue's default of 20 s would stall each receive that finds nothing.
RECEIVE_WAIT_SECONDS = 1
RECEIVE_ATTEMPTS = 5
MAX_MESSAGES_PER_RECEIVE = 10
ACCESS_DENIED = "AccessDenied"
FORBIDDEN = 403


@dataclass(frozen=True)
class AuthorizedStack:
    """The dev stack deployed in a moto server that checks every action, and the admin that deployed it."""

    endpoint_url: str
    admin: Credentials
    admin_arn: str
    template: dict[str, Any]
    resources: dict[str, str]
    queue_url: str
    dead_letter_queue_url: str

    def role_arn(self, logical_prefix: str) -> str:
        """Let only the admin assume the stack's role with ``logical_prefix``, and return the role's ARN."""
        role_name = physical_id(self.template, self.resources, "AWS::IAM::Role", logical_prefix)
        trust_only(self.endpoint_url, self.admin, role_name, self.admin_arn)
        role = client("iam", self.endpoint_url, self.admin).get_role(RoleName=role_name)["Role"]
        return str(role["Arn"])

    def sqs_as(self, credentials: Credentials) -> Any:
        return client("sqs", self.endpoint_url, credentials)


@dataclass(frozen=True)
class ReceivedMessage:
    """A message the producer sent and the consumer received."""

    body: str
    receipt_handle: str


@pytest.fixture(scope="module")
def dev_template() -> dict[str, Any]:
    template, _ = synth_env("dev")
    return dict(template.to_json())


@pytest.fixture(scope="module")
def authorized_stack(dev_template: dict[str, Any]) -> Iterator[AuthorizedStack]:
    with MotoServer() as server:
        endpoint_url = server.endpoint_url
        enable_authorization(endpoint_url)
        admin, admin_arn = create_admin(endpoint_url, ENVIRONMENT_CREDENTIALS)
        prepare_bootstrap(endpoint_url, admin, dev_template)
        resources = deploy_template(endpoint_url, admin, dev_template, STACK_NAME)

        # moto polls a mapped queue on each SendMessage and, without Docker, fails the invocation. Its receive
        # would hide the test's messages from the consumer for the queue's visibility timeout.
        mapping_id = physical_id(dev_template, resources, "AWS::Lambda::EventSourceMapping", "OrdersConsumer")
        client("lambda", endpoint_url, admin).update_event_source_mapping(UUID=mapping_id, Enabled=False)

        # CloudFormation reports the queue URL on AWS's host, and GetQueueUrl returns the one on this server.
        admin_sqs = client("sqs", endpoint_url, admin)
        queue_name = physical_id(dev_template, resources, "AWS::SQS::Queue", "Orders2").rsplit("/", 1)[-1]
        dead_letter_name = physical_id(dev_template, resources, "AWS::SQS::Queue", "OrdersDeadLetter").rsplit("/", 1)[
            -1
        ]
        yield AuthorizedStack(
            endpoint_url=endpoint_url,
            admin=admin,
            admin_arn=admin_arn,
            template=dev_template,
            resources=resources,
            queue_url=admin_sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
            dead_letter_queue_url=admin_sqs.get_queue_url(QueueName=dead_letter_name)["QueueUrl"],
        )


@pytest.fixture(scope="module")
def producer_arn(authorized_stack: AuthorizedStack) -> str:
    return authorized_stack.role_arn("OrdersProducerRole")


@pytest.fixture(scope="module")
def producer_sqs(authorized_stack: AuthorizedStack, producer_arn: str) -> Any:
    return authorized_stack.sqs_as(assume(authorized_stack.endpoint_url, authorized_stack.admin, producer_arn))


@pytest.fixture(scope="module")
def consumer_arn(authorized_stack: AuthorizedStack) -> str:
    return authorized_stack.role_arn("OrdersConsumerRole")


@pytest.fixture(scope="module")
def consumer_sqs(authorized_stack: AuthorizedStack, consumer_arn: str) -> Any:
    return authorized_stack.sqs_as(assume(authorized_stack.endpoint_url, authorized_stack.admin, consumer_arn))


@pytest.fixture(scope="module")
def receive_only_sqs(authorized_stack: AuthorizedStack) -> Any:
    """Return an SQS client of a role outside the stack whose only permission is ``sqs:ReceiveMessage``."""
    iam = client("iam", authorized_stack.endpoint_url, authorized_stack.admin)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": authorized_stack.admin_arn}, "Action": "sts:AssumeRole"}
        ],
    }
    permissions = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": "*"}],
    }
    role = iam.create_role(RoleName="ReceiveOnlyControl", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName="ReceiveOnlyControl", PolicyName="ReceiveOnly", PolicyDocument=json.dumps(permissions))
    return authorized_stack.sqs_as(assume(authorized_stack.endpoint_url, authorized_stack.admin, role["Arn"]))


def receive_body(sqs: Any, queue_url: str, body: str) -> dict[str, Any]:
    """Receive from ``queue_url`` until the message with ``body`` arrives, and fail after ``RECEIVE_ATTEMPTS`` tries.

    Messages of other tests received on the way stay in flight for the queue's visibility timeout, unchanged.
    """
    for _ in range(RECEIVE_ATTEMPTS):
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=MAX_MESSAGES_PER_RECEIVE, WaitTimeSeconds=RECEIVE_WAIT_SECONDS
        )
        for message in response.get("Messages", []):
            if message["Body"] == body:
                return message
    raise AssertionError(f"message {body!r} not received from {queue_url} in {RECEIVE_ATTEMPTS} receives")


@pytest.fixture
def received(authorized_stack: AuthorizedStack, producer_sqs: Any, consumer_sqs: Any) -> ReceivedMessage:
    body = f"order-{uuid.uuid4().hex}"
    producer_sqs.send_message(QueueUrl=authorized_stack.queue_url, MessageBody=body)
    message = receive_body(consumer_sqs, authorized_stack.queue_url, body)
    return ReceivedMessage(body=body, receipt_handle=message["ReceiptHandle"])


def denial(call: Callable[[], Any]) -> Denial:
    """Run ``call``, which must be rejected, and return how it was rejected."""
    with pytest.raises(ClientError) as caught:
        call()
    return denial_of(caught.value)


def role_name_of(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


# Each entry calls one SQS action with a client, the queue URL and a receipt handle the consumer received.
SqsCall = Callable[[Any, str, str], Any]
PRODUCER_DENIED: dict[str, SqsCall] = {
    "ReceiveMessage": lambda sqs, url, _: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=RECEIVE_WAIT_SECONDS),
    "DeleteMessage": lambda sqs, url, handle: sqs.delete_message(QueueUrl=url, ReceiptHandle=handle),
    "PurgeQueue": lambda sqs, url, _: sqs.purge_queue(QueueUrl=url),
    "DeleteQueue": lambda sqs, url, _: sqs.delete_queue(QueueUrl=url),
}
CONSUMER_DENIED: dict[str, SqsCall] = {
    "SendMessage": lambda sqs, url, _: sqs.send_message(QueueUrl=url, MessageBody="from-consumer"),
    "PurgeQueue": lambda sqs, url, _: sqs.purge_queue(QueueUrl=url),
    "DeleteQueue": lambda sqs, url, _: sqs.delete_queue(QueueUrl=url),
}

# moto 5.2.5 matches the Resource of identity policies for SQS actions: it resolves the queue ARN from the
# request's QueueUrl (SQSResponse._determine_resource). So the dead-letter tests below prove resource scoping too.
# NOTE: moto does not evaluate resource-based policies, condition keys of identity policies or KMS. The queue
# policy's deny of requests without TLS is therefore not in force here, although every call is plain HTTP. The exact
# actions, resources, queue policies and the prod KMS grants are asserted on the template in
# tests/synth/test_dev_stack.py and tests/synth/test_prod_stack.py.


def test_environment_keys_rejected_after_setup(authorized_stack: AuthorizedStack) -> None:
    iam = client("iam", authorized_stack.endpoint_url, ENVIRONMENT_CREDENTIALS)
    rejected = denial(iam.list_users)
    assert rejected.code == "InvalidClientTokenId"
    assert rejected.status == FORBIDDEN


def test_unknown_access_key_rejected(authorized_stack: AuthorizedStack) -> None:
    sqs = authorized_stack.sqs_as(UNKNOWN_CREDENTIALS)
    rejected = denial(lambda: sqs.send_message(QueueUrl=authorized_stack.queue_url, MessageBody="unsigned"))
    assert rejected.code == "InvalidClientTokenId"
    assert rejected.message == "The security token included in the request is invalid."
    assert rejected.status == FORBIDDEN


def test_wrong_secret_rejected(authorized_stack: AuthorizedStack) -> None:
    forged = Credentials(authorized_stack.admin.access_key_id, "wrong-secret")
    rejected = denial(lambda: authorized_stack.sqs_as(forged).list_queues())
    assert rejected.code == "SignatureDoesNotMatch"
    assert rejected.status == FORBIDDEN


def test_receive_only_control_denied_send(authorized_stack: AuthorizedStack, receive_only_sqs: Any) -> None:
    url = authorized_stack.queue_url
    rejected = denial(lambda: receive_only_sqs.send_message(QueueUrl=url, MessageBody="control"))
    assert rejected.code == ACCESS_DENIED
    assert rejected.message.endswith("is not authorized to perform: sqs:SendMessage")
    assert rejected.status == FORBIDDEN


def test_receive_only_control_can_receive(authorized_stack: AuthorizedStack, receive_only_sqs: Any) -> None:
    # The control's credentials work, so its denial above comes from its policy, not from a broken session. It reads
    # the dead-letter queue, which no other test fills, so it takes no message that another test waits for.
    url = authorized_stack.dead_letter_queue_url
    response = receive_only_sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_producer_sends_message(authorized_stack: AuthorizedStack, producer_sqs: Any) -> None:
    response = producer_sqs.send_message(QueueUrl=authorized_stack.queue_url, MessageBody="producer-send")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["MessageId"]


@pytest.mark.parametrize("action", list(PRODUCER_DENIED), ids=list(PRODUCER_DENIED))
def test_producer_denied(
    action: str, authorized_stack: AuthorizedStack, producer_arn: str, producer_sqs: Any, received: ReceivedMessage
) -> None:
    call = PRODUCER_DENIED[action]
    rejected = denial(lambda: call(producer_sqs, authorized_stack.queue_url, received.receipt_handle))
    assert rejected.code == ACCESS_DENIED
    assert f"assumed-role/{role_name_of(producer_arn)}/" in rejected.message
    assert rejected.message.endswith(f"is not authorized to perform: sqs:{action}")
    assert rejected.status == FORBIDDEN


def test_producer_denied_dead_letter_queue(authorized_stack: AuthorizedStack, producer_sqs: Any) -> None:
    url = authorized_stack.dead_letter_queue_url
    rejected = denial(lambda: producer_sqs.send_message(QueueUrl=url, MessageBody="to-dead-letter-queue"))
    assert rejected.code == ACCESS_DENIED
    assert rejected.message.endswith("is not authorized to perform: sqs:SendMessage")
    assert rejected.status == FORBIDDEN


def test_consumer_receives_producer_message(received: ReceivedMessage) -> None:
    # The fixture sent the body as the producer and received it as the consumer.
    assert received.body.startswith("order-")
    assert received.receipt_handle


def test_consumer_deletes_message(
    authorized_stack: AuthorizedStack, consumer_sqs: Any, received: ReceivedMessage
) -> None:
    response = consumer_sqs.delete_message(QueueUrl=authorized_stack.queue_url, ReceiptHandle=received.receipt_handle)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_consumer_changes_visibility(
    authorized_stack: AuthorizedStack, consumer_sqs: Any, received: ReceivedMessage
) -> None:
    url = authorized_stack.queue_url
    consumer_sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=received.receipt_handle, VisibilityTimeout=0)
    # A visibility timeout of zero returns the message to the queue at once, so the change took effect.
    again = receive_body(consumer_sqs, url, received.body)
    assert again["Body"] == received.body


def test_consumer_reads_queue_attributes(authorized_stack: AuthorizedStack, consumer_sqs: Any) -> None:
    url = authorized_stack.queue_url
    attributes = consumer_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert attributes["QueueArn"].endswith(":" + url.rsplit("/", 1)[-1])


@pytest.mark.parametrize("action", list(CONSUMER_DENIED), ids=list(CONSUMER_DENIED))
def test_consumer_denied(action: str, authorized_stack: AuthorizedStack, consumer_arn: str, consumer_sqs: Any) -> None:
    call = CONSUMER_DENIED[action]
    rejected = denial(lambda: call(consumer_sqs, authorized_stack.queue_url, ""))
    assert rejected.code == ACCESS_DENIED
    assert f"assumed-role/{role_name_of(consumer_arn)}/" in rejected.message
    assert rejected.message.endswith(f"is not authorized to perform: sqs:{action}")
    assert rejected.status == FORBIDDEN


def test_consumer_denied_dead_letter_queue(authorized_stack: AuthorizedStack, consumer_sqs: Any) -> None:
    url = authorized_stack.dead_letter_queue_url
    rejected = denial(lambda: consumer_sqs.receive_message(QueueUrl=url, WaitTimeSeconds=RECEIVE_WAIT_SECONDS))
    assert rejected.code == ACCESS_DENIED
    assert rejected.message.endswith("is not authorized to perform: sqs:ReceiveMessage")
    assert rejected.status == FORBIDDEN
