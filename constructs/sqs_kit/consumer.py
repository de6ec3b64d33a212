"""A Lambda function attached to a kit queue through an SQS event source mapping."""

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
from .rules import ConsumerValues, QueueValues, check_consumer, derived_visibility_timeout

PROP_NAMES = {
    "consumer.timeout": "timeout",
    "consumer.memory_mb": "memory_size",
    "consumer.log_retention_days": "log_retention_days",
    "consumer.batch_size": "batch_size",
    "consumer.batching_window": "max_batching_window",
    "consumer.max_concurrency": "max_concurrency",
    "queue": "queue",
}
QUEUE_FIX = "Pass the KitQueue or ImportedQueue that the function consumes."


class ConsumerFunction(Construct):
    """A Lambda function that drains one ``KitQueue`` with partial batch responses.

    The event source mapping always reports batch item failures, so the
    handler returns ``batchItemFailures`` and only the failed records return to
    the queue. When the queue's visibility timeout was not given, it is set to
    six times this function's timeout plus the batching window, as Lambda's
    guide recommends. A given value shorter than the function timeout is an
    error. A value shorter than the recommendation is a warning with the id
    ``sqs-kit:visibilityTimeout``.

    Its role may write its own logs, call ``sqs:ReceiveMessage``,
    ``sqs:DeleteMessage``, ``sqs:ChangeMessageVisibility`` and
    ``sqs:GetQueueAttributes`` on the queue and, with a customer-managed key,
    ``kms:Decrypt`` on that key.
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
        batch_size: int | None = None,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
        log_retention_days: int | None = None,
        removal_policy: RemovalPolicy | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        """Create the function, its role, its log group and the event source mapping.

        :param queue: the queue it consumes.
        :param code_path: folder with the handler module and an optional ``requirements.txt``.
        :param handler: ``module.function`` inside ``code_path``. Default: ``handler.handler``.
        :param timeout: 1 s to 15 minutes. Default: 30 s.
        :param memory_size: 128 to 10,240 MB. Default: 256 MB.
        :param batch_size: records per invocation: 1 to 10,000 for a standard queue (above 10
            needs a batching window of at least 1 s), 1 to 10 for FIFO. Default: 10.
        :param max_batching_window: how long Lambda gathers records, 0 to 300 s; not allowed
            for FIFO. Default: 0 s.
        :param max_concurrency: concurrent invocations the event source may start, 2 to 1,000.
            Default: 10.
        :param log_retention_days: a CloudWatch Logs retention period in days. Default: 30.
        :param removal_policy: for the log group. Default: the queue's removal policy.
        :param environment: extra environment variables.
        """
        super().__init__(scope, id)
        queue_given = isinstance(queue, KitQueue | ImportedQueue)
        queue_label = queue.node.path if queue_given else "the queue"
        checker = prop_checker({**PROP_NAMES, "visibility_timeout": f"visibility_timeout of {queue_label}"})
        if not queue_given:
            checker.fail_type("queue", queue, "a KitQueue or ImportedQueue", QUEUE_FIX)
        timeout = duration_prop(checker, "consumer.timeout", timeout) or Duration.seconds(
            limits.DEFAULT_FUNCTION_TIMEOUT_SECONDS
        )
        max_batching_window = duration_prop(
            checker, "consumer.batching_window", max_batching_window
        ) or Duration.seconds(limits.DEFAULT_BATCHING_WINDOW_SECONDS)
        memory_size = given_or(memory_size, limits.DEFAULT_FUNCTION_MEMORY_MB)
        batch_size = given_or(batch_size, limits.DEFAULT_BATCH_SIZE)
        max_concurrency = given_or(max_concurrency, limits.DEFAULT_MAX_CONCURRENCY)
        log_retention_days = given_or(log_retention_days, limits.DEFAULT_LOG_RETENTION_DAYS)

        values = ConsumerValues(
            timeout=seconds_of(timeout),
            memory_mb=number_prop(checker, "consumer.memory_mb", memory_size),
            log_retention_days=number_prop(checker, "consumer.log_retention_days", log_retention_days),
            batch_size=number_prop(checker, "consumer.batch_size", batch_size),
            batching_window=seconds_of(max_batching_window),
            max_concurrency=number_prop(checker, "consumer.max_concurrency", max_concurrency),
        )
        # Without a queue, the consumer's own props are still checked, as if for a standard queue.
        queue_values = (
            QueueValues(fifo=queue.fifo, visibility_timeout=queue.visibility_timeout_seconds)
            if queue_given
            else QueueValues()
        )
        check_consumer(values, queue_values, checker)
        check_handler(code_path, handler, checker)
        environment = environment_prop(checker, environment)
        removal_policy = removal_policy_prop(checker, removal_policy, fallback=None)
        if isinstance(queue, ImportedQueue) and not queue.visibility_timeout_known and values.timeout is not None:
            recommended = derived_visibility_timeout(values.timeout, values.batching_window or 0)
            checker.warn(
                f"The visibility timeout of the imported queue {queue.node.path} is not known at synth time. "
                f"Lambda rejects the event source mapping if it is shorter than the function timeout "
                f"({values.timeout} s), and at least {recommended} s (six times the timeout plus the batching "
                "window) is recommended. Pass visibility_timeout to ImportedQueue to have it checked."
            )
        report(self, checker, "sqs-kit:visibilityTimeout")

        self.queue = queue
        self.function, self.role, self.log_group = build_function(
            self,
            code_path=code_path,
            handler=handler,
            timeout=timeout,
            memory_mb=memory_size,
            environment={**environment, "POWERTOOLS_SERVICE_NAME": id},
            log_retention_days=log_retention_days,
            removal_policy=removal_policy or queue.removal_policy,
        )
        if values.timeout is not None and values.batching_window is not None:
            queue.derive_visibility_timeout(derived_visibility_timeout(values.timeout, values.batching_window))
        queue.grant_consume_messages(self.role)
        self.event_source_mapping = self.function.add_event_source_mapping(
            "SqsEventSource",
            event_source_arn=queue.queue_arn,
            batch_size=batch_size,
            max_batching_window=max_batching_window if values.batching_window else None,
            max_concurrency=max_concurrency,
            report_batch_item_failures=True,
        )
        # The mapping fails to create if Lambda cannot yet read the queue.
        self.event_source_mapping.node.add_dependency(self.role)
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        compliance.acknowledge_nag(
            self.function, "Serverless::Serverless-LambdaDLQ", compliance.SQS_EVENT_SOURCE_NO_FUNCTION_DLQ
        )
        compliance.acknowledge_nag(
            self.event_source_mapping,
            "Serverless::Serverless-LambdaEventSourceMappingDestination",
            compliance.SQS_MAPPING_NO_ON_FAILURE,
        )
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        compliance.skip_checkov(cfn_function, "CKV_AWS_116", compliance.SQS_EVENT_SOURCE_NO_FUNCTION_DLQ)
        cfn_mapping = self.event_source_mapping.node.default_child
        assert isinstance(cfn_mapping, lambda_.CfnEventSourceMapping)
        # compliance.SQS_MAPPING_NO_ON_FAILURE
        compliance.ignore_cfn_lint(cfn_mapping, "ES1001")

    @property
    def function_arn(self) -> str:
        return self.function.function_arn
