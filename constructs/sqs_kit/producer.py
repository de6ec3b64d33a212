"""A Lambda function that may only send messages to one kit queue."""

import os

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from . import compliance, limits
from ._props import (
    check_handler,
    duration_prop,
    environment_prop,
    given_or,
    number_prop,
    prop_checker,
    removal_policy_prop,
    report,
    seconds_of,
)
from .function import build_function
from .imported import ImportedQueue
from .queue import KitQueue
from .rules import FunctionValues, check_function

PROP_NAMES = {
    "producer.timeout": "timeout",
    "producer.memory_mb": "memory_size",
    "producer.log_retention_days": "log_retention_days",
    "queue": "queue",
}
QUEUE_FIX = "Pass the KitQueue or ImportedQueue that the function sends to."


class ProducerFunction(Construct):
    """A Lambda function that sends to one ``KitQueue`` and has no other queue permission.

    Its environment carries ``QUEUE_URL``, ``QUEUE_FIFO`` (``true`` or
    ``false``) and ``MAX_MESSAGE_SIZE_BYTES``. Its role may write its own logs,
    call ``sqs:SendMessage`` on the queue and, with a customer-managed key,
    ``kms:GenerateDataKey`` and ``kms:Decrypt`` on that key.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue: KitQueue | ImportedQueue,
        code_path: str | os.PathLike[str],
        handler: str = "handler.handler",
        timeout: Duration | None = None,
        memory_size: int | None = None,
        log_retention_days: int | None = None,
        removal_policy: RemovalPolicy | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        """Create the function, its role and its log group.

        :param queue: the queue it sends to.
        :param code_path: folder with the handler module and an optional ``requirements.txt``,
            whose packages are bundled into the asset.
        :param handler: ``module.function`` inside ``code_path``. Default: ``handler.handler``.
        :param timeout: 1 s to 15 minutes. Default: 10 s.
        :param memory_size: 128 to 10,240 MB. Default: 256 MB.
        :param log_retention_days: a CloudWatch Logs retention period in days. Default: 30.
        :param removal_policy: for the log group. Default: the queue's removal policy.
        :param environment: extra environment variables; the kit's own names win.
        """
        super().__init__(scope, id)
        checker = prop_checker(PROP_NAMES)
        if not isinstance(queue, KitQueue | ImportedQueue):
            checker.fail_type("queue", queue, "a KitQueue or ImportedQueue", QUEUE_FIX)
        timeout = duration_prop(checker, "producer.timeout", timeout) or Duration.seconds(
            limits.DEFAULT_PRODUCER_TIMEOUT_SECONDS
        )
        memory_size = given_or(memory_size, limits.DEFAULT_FUNCTION_MEMORY_MB)
        log_retention_days = given_or(log_retention_days, limits.DEFAULT_LOG_RETENTION_DAYS)
        values = FunctionValues(
            timeout=seconds_of(timeout),
            memory_mb=number_prop(checker, "producer.memory_mb", memory_size),
            log_retention_days=number_prop(checker, "producer.log_retention_days", log_retention_days),
        )
        check_function("producer", values, checker)
        check_handler(code_path, handler, checker)
        environment = environment_prop(checker, environment)
        removal_policy = removal_policy_prop(checker, removal_policy, fallback=None)
        report(self, checker, "sqs-kit:producer")

        self.queue = queue
        self.function, self.role, self.log_group = build_function(
            self,
            code_path=code_path,
            handler=handler,
            timeout=timeout,
            memory_mb=memory_size,
            environment={
                **environment,
                "QUEUE_URL": queue.queue_url,
                "QUEUE_FIFO": "true" if queue.fifo else "false",
                "MAX_MESSAGE_SIZE_BYTES": str(queue.max_message_size_bytes),
                "POWERTOOLS_SERVICE_NAME": id,
            },
            log_retention_days=log_retention_days,
            removal_policy=removal_policy or queue.removal_policy,
        )
        queue.grant_send_messages(self.role)
        compliance.acknowledge_nag(
            self.function, "Serverless::Serverless-LambdaDLQ", compliance.PRODUCER_NO_FUNCTION_DLQ
        )
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        compliance.skip_checkov(cfn_function, "CKV_AWS_116", compliance.PRODUCER_NO_FUNCTION_DLQ)
