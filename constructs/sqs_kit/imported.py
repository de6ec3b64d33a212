"""A queue that exists outside the stack, to attach kit producers and consumers to."""

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from . import limits
from ._props import duration_prop, given_or, prop_checker, report, seconds_of
from .queue import QueueGrants
from .rules import check_imported_queue

PROP_NAMES = {
    "arn": "queue_arn",
    "fifo": "fifo",
    "kms_key_arn": "encryption_key_arn",
    "visibility_timeout": "visibility_timeout",
}


class ImportedQueue(QueueGrants, Construct):
    """A queue created elsewhere, given by ARN, with the same grants as ``KitQueue``.

    Whether the queue is FIFO comes from its name when the ARN is a literal.
    An ARN that is a token (an SSM parameter, a reference to another stack)
    must come with ``fifo``, because CDK would otherwise assume a standard
    queue. Nothing is created: the queue's settings, policy and dead-letter
    queue stay with its owner.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue_arn: str,
        fifo: bool | None = None,
        encryption_key_arn: str | None = None,
        visibility_timeout: Duration | None = None,
        max_message_size_bytes: int | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        """Reference the queue.

        :param queue_arn: the queue's ARN, a literal or a token.
        :param fifo: whether the queue is FIFO. Required when ``queue_arn`` is a token; must
            match the name's ``.fifo`` suffix otherwise. Default: from the name.
        :param encryption_key_arn: the customer-managed KMS key that encrypts the queue, so
            that producers and consumers get its KMS actions. Default: none (SQS-managed keys).
        :param visibility_timeout: the queue's visibility timeout, when known, so that an
            attached consumer's timeout can be checked against it. Default: unknown, which
            makes an attached consumer add a warning.
        :param max_message_size_bytes: the queue's maximum message size, passed to producers.
            Default: 1 MiB.
        :param removal_policy: for the log groups of attached functions; the queue itself is
            never deleted by this stack. Default: ``RETAIN``.
        """
        super().__init__(scope, id)
        checker = prop_checker(PROP_NAMES)
        visibility_timeout = duration_prop(checker, "visibility_timeout", visibility_timeout)
        visibility = seconds_of(visibility_timeout)
        self.fifo = check_imported_queue(queue_arn, fifo, encryption_key_arn, visibility, checker)
        report(self, checker, "sqs-kit:importedQueue")

        self.removal_policy = removal_policy
        self.visibility_timeout_seconds = visibility
        self.visibility_timeout_known = visibility_timeout is not None
        self.max_message_size_bytes = given_or(max_message_size_bytes, limits.DEFAULT_MAX_MESSAGE_SIZE_BYTES)
        self.encryption_key: kms.IKey | None = (
            kms.Key.from_key_arn(self, "Key", encryption_key_arn) if encryption_key_arn is not None else None
        )
        self.queue = sqs.Queue.from_queue_attributes(
            self, "Resource", queue_arn=queue_arn, fifo=self.fifo, key_arn=encryption_key_arn
        )
        self.dead_letter_queue: sqs.IQueue | None = None

    @classmethod
    def from_parameter(
        cls,
        scope: Construct,
        id: str,
        *,
        arn_parameter_name: str,
        fifo: bool,
        encryption_key_arn: str | None = None,
        visibility_timeout: Duration | None = None,
        max_message_size_bytes: int | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> "ImportedQueue":
        """Reference a queue whose ARN is stored in an SSM parameter, such as those ``MessagingStack`` writes.

        The ARN is resolved at deploy time, so no CloudFormation export ties
        the two stacks together.
        """
        holder = Construct(scope, id)
        arn = ssm.StringParameter.value_for_string_parameter(holder, arn_parameter_name)
        return cls(
            holder,
            "Queue",
            queue_arn=arn,
            fifo=fifo,
            encryption_key_arn=encryption_key_arn,
            visibility_timeout=visibility_timeout,
            max_message_size_bytes=max_message_size_bytes,
            removal_policy=removal_policy,
        )

    def derive_visibility_timeout(self, seconds: int) -> None:
        """Leave the visibility timeout alone: the queue's owner sets it."""
