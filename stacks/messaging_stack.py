"""The messaging stack: the configured queues and imported queues, each with its optional producer and consumer."""

from pathlib import Path

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from sqs_kit import ConsumerFunction, ImportedQueue, KitQueue, ProducerFunction
from sqs_kit.alarms import AlarmTopic, DashboardQueue, MessagingDashboard, QueueAlarms
from sqs_kit.config import (
    AlarmSettings,
    AppSettings,
    ConsumerSettings,
    ImportedQueueSettings,
    ProducerSettings,
    QueueAlarmSettings,
    QueueSettings,
)

LAMBDA_ROOT = Path(__file__).resolve().parent.parent / "lambda"
ENCRYPTION = {
    "sqs-managed": sqs.QueueEncryption.SQS_MANAGED,
    "kms-managed": sqs.QueueEncryption.KMS_MANAGED,
    "kms": sqs.QueueEncryption.KMS,
}
DEDUPLICATION_SCOPE = {"queue": sqs.DeduplicationScope.QUEUE, "message-group": sqs.DeduplicationScope.MESSAGE_GROUP}
THROUGHPUT_LIMIT = {
    "per-queue": sqs.FifoThroughputLimit.PER_QUEUE,
    "per-message-group-id": sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
}
REMOVAL_POLICY = {"destroy": RemovalPolicy.DESTROY, "retain": RemovalPolicy.RETAIN}


class MessagingStack(Stack):
    """Queues, dead-letter queues, producers, consumers, their alarms and a dashboard, from validated settings."""

    def __init__(self, scope: Construct, id: str, *, settings: AppSettings, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        removal_policy = REMOVAL_POLICY[settings.removal_policy]
        self.alarm_topic = self._alarm_topic(settings.alarms, removal_policy)
        dashboard: list[DashboardQueue] = []
        redrive_statements: list[iam.PolicyStatement] = []
        for key, queue_settings in settings.queues.items():
            queue, consumer = self._add_queue(key, queue_settings, removal_policy, settings.log_retention_days)
            dashboard.append(DashboardQueue(key, queue, consumer))
            redrive_statements.extend(queue.redrive_statements())
            self._add_alarms(key, queue, consumer, queue_settings.alarms, Duration.seconds(queue_settings.retention))
        for key, imported_settings in settings.imported_queues.items():
            imported, consumer = self._add_imported_queue(
                key, imported_settings, removal_policy, settings.log_retention_days
            )
            dashboard.append(DashboardQueue(key, imported, consumer))
            self._add_alarms(key, imported, consumer, imported_settings.alarms, None)
        MessagingDashboard(self, "Dashboard", queues=dashboard)
        if redrive_statements:
            self._add_redrive_policy(redrive_statements)

    def _alarm_topic(self, settings: AlarmSettings, removal_policy: RemovalPolicy) -> sns.ITopic:
        if settings.topic_arn is not None:
            return sns.Topic.from_topic_arn(self, "AlarmTopic", settings.topic_arn)
        return AlarmTopic(self, "AlarmTopic", removal_policy=removal_policy, email=settings.email).topic

    def _add_alarms(
        self,
        key: str,
        queue: KitQueue | ImportedQueue,
        consumer: ConsumerFunction | None,
        settings: QueueAlarmSettings,
        retention: Duration | None,
    ) -> None:
        if not settings.enabled:
            return
        QueueAlarms(
            self,
            f"{_construct_id(key)}Alarms",
            queue=queue,
            topic=self.alarm_topic,
            retention_period=retention,
            consumer=consumer,
            oldest_message_age=_optional_seconds(settings.oldest_message_age),
        )

    def _add_redrive_policy(self, statements: list[iam.PolicyStatement]) -> None:
        """Add a customer managed policy that operators attach to the role they redrive with."""
        policy = iam.ManagedPolicy(
            self,
            "RedrivePolicy",
            description=f"Moves messages from the dead-letter queues of {self.stack_name} back to their sources",
            statements=statements,
        )
        CfnOutput(self, "RedrivePolicyArn", value=policy.managed_policy_arn, description=policy.description)

    def _add_queue(
        self, key: str, settings: QueueSettings, removal_policy: RemovalPolicy, log_retention_days: int
    ) -> tuple[KitQueue, ConsumerFunction | None]:
        construct_id = _construct_id(key)
        cross_account = settings.cross_account_producers
        queue = KitQueue(
            self,
            construct_id,
            removal_policy=removal_policy,
            queue_name=settings.name,
            fifo=settings.fifo,
            content_based_deduplication=settings.content_based_deduplication,
            deduplication_scope=DEDUPLICATION_SCOPE.get(settings.deduplication_scope or ""),
            fifo_throughput_limit=THROUGHPUT_LIMIT.get(settings.fifo_throughput_limit or ""),
            retention_period=Duration.seconds(settings.retention),
            visibility_timeout=_optional_seconds(settings.visibility_timeout),
            delivery_delay=Duration.seconds(settings.delivery_delay),
            receive_message_wait_time=Duration.seconds(settings.receive_wait),
            max_message_size_bytes=settings.max_message_size_bytes,
            encryption=ENCRYPTION[settings.encryption],
            max_receive_count=settings.dead_letter.max_receive_count,
            dead_letter_retention_period=Duration.seconds(settings.dead_letter.retention),
            cross_account_send_principals=cross_account.principals if cross_account else (),
            cross_account_organization_id=cross_account.organization_id if cross_account else None,
        )
        consumer = self._add_functions(construct_id, queue, settings.producer, settings.consumer, log_retention_days)
        self._publish(key, construct_id, queue)
        return queue, consumer

    def _add_imported_queue(
        self, key: str, settings: ImportedQueueSettings, removal_policy: RemovalPolicy, log_retention_days: int
    ) -> tuple[ImportedQueue, ConsumerFunction | None]:
        construct_id = _construct_id(key)
        visibility_timeout = _optional_seconds(settings.visibility_timeout)
        queue: ImportedQueue
        if settings.arn_parameter is not None:
            assert settings.fifo is not None  # Validation requires it with arn_parameter.
            queue = ImportedQueue.from_parameter(
                self,
                construct_id,
                arn_parameter_name=settings.arn_parameter,
                fifo=settings.fifo,
                encryption_key_arn=settings.kms_key_arn,
                visibility_timeout=visibility_timeout,
                max_message_size_bytes=settings.max_message_size_bytes,
                removal_policy=removal_policy,
            )
        else:
            assert settings.arn is not None  # Validation requires arn or arn_parameter.
            queue = ImportedQueue(
                self,
                construct_id,
                queue_arn=settings.arn,
                fifo=settings.fifo,
                encryption_key_arn=settings.kms_key_arn,
                visibility_timeout=visibility_timeout,
                max_message_size_bytes=settings.max_message_size_bytes,
                removal_policy=removal_policy,
            )
        consumer = self._add_functions(construct_id, queue, settings.producer, settings.consumer, log_retention_days)
        return queue, consumer

    def _add_functions(
        self,
        construct_id: str,
        queue: KitQueue | ImportedQueue,
        producer: ProducerSettings | None,
        consumer: ConsumerSettings | None,
        log_retention_days: int,
    ) -> ConsumerFunction | None:
        if producer is not None:
            ProducerFunction(
                self,
                f"{construct_id}Producer",
                queue=queue,
                code_path=LAMBDA_ROOT / "producer",
                timeout=Duration.seconds(producer.timeout),
                memory_size=producer.memory_mb,
                log_retention_days=_or_default(producer.log_retention_days, log_retention_days),
            )
        if consumer is None:
            return None
        return ConsumerFunction(
            self,
            f"{construct_id}Consumer",
            queue=queue,
            code_path=LAMBDA_ROOT / "consumer",
            timeout=Duration.seconds(consumer.timeout),
            memory_size=consumer.memory_mb,
            batch_size=consumer.batch_size,
            max_batching_window=Duration.seconds(consumer.batching_window),
            max_concurrency=consumer.max_concurrency,
            log_retention_days=_or_default(consumer.log_retention_days, log_retention_days),
        )

    def _publish(self, key: str, construct_id: str, queue: KitQueue) -> None:
        """Expose a queue's URL and ARN as outputs and SSM parameters.

        Outputs carry no export, because other stacks are meant to read the SSM
        parameters, and a reader of a parameter does not block changes to this stack.
        """
        CfnOutput(self, f"{construct_id}QueueUrl", value=queue.queue_url, description=f"URL of queue '{key}'")
        CfnOutput(self, f"{construct_id}QueueArn", value=queue.queue_arn, description=f"ARN of queue '{key}'")
        if queue.dead_letter_queue is not None:
            CfnOutput(
                self,
                f"{construct_id}DeadLetterQueueUrl",
                value=queue.dead_letter_queue.queue_url,
                description=f"URL of the dead-letter queue of '{key}'",
            )
        for attribute, value in (("url", queue.queue_url), ("arn", queue.queue_arn)):
            ssm.StringParameter(
                self,
                f"{construct_id}Queue{attribute.capitalize()}Parameter",
                parameter_name=parameter_name(self.stack_name, key, attribute),
                string_value=value,
                description=f"{attribute.upper()} of queue '{key}' of stack {self.stack_name}",
            )


def parameter_name(stack_name: str, key: str, attribute: str) -> str:
    """Return the SSM parameter that stores a queue's ``url`` or ``arn``: ``/<stack>/queues/<key>/<attribute>``."""
    return f"/{stack_name}/queues/{key}/{attribute}"


def _construct_id(key: str) -> str:
    # Construct ids are PascalCase nouns and part of the public contract:
    # renaming one replaces the queue and loses its messages.
    return "".join(part.capitalize() for part in key.split("-"))


def _optional_seconds(seconds: int | None) -> Duration | None:
    return None if seconds is None else Duration.seconds(seconds)


def _or_default(value: int | None, default: int) -> int:
    return default if value is None else value
