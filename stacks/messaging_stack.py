"""The messaging stack: one kit queue per configured queue, with its producer and consumer."""

from pathlib import Path

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from sqs_kit import ConsumerFunction, KitQueue, ProducerFunction
from sqs_kit.config import AppSettings, QueueSettings

LAMBDA_ROOT = Path(__file__).resolve().parent.parent / "lambda"
ENCRYPTION = {
    "sqs-managed": sqs.QueueEncryption.SQS_MANAGED,
    "kms-managed": sqs.QueueEncryption.KMS_MANAGED,
    "kms": sqs.QueueEncryption.KMS,
}
REMOVAL_POLICY = {"destroy": RemovalPolicy.DESTROY, "retain": RemovalPolicy.RETAIN}


class MessagingStack(Stack):
    """Queues, dead-letter queues, producers and consumers from validated settings."""

    def __init__(self, scope: Construct, id: str, *, settings: AppSettings, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        removal_policy = REMOVAL_POLICY[settings.removal_policy]
        for key, queue_settings in settings.queues.items():
            self._add_queue(key, queue_settings, removal_policy, settings.log_retention_days)

    def _add_queue(
        self, key: str, settings: QueueSettings, removal_policy: RemovalPolicy, log_retention_days: int
    ) -> None:
        # Construct ids are PascalCase nouns and part of the public contract:
        # renaming one replaces the queue and loses its messages.
        construct_id = "".join(part.capitalize() for part in key.split("-"))
        queue = KitQueue(
            self,
            construct_id,
            removal_policy=removal_policy,
            queue_name=settings.name,
            fifo=settings.fifo,
            content_based_deduplication=settings.content_based_deduplication,
            retention_period=Duration.seconds(settings.retention),
            visibility_timeout=_optional_seconds(settings.visibility_timeout),
            delivery_delay=Duration.seconds(settings.delivery_delay),
            receive_message_wait_time=Duration.seconds(settings.receive_wait),
            max_message_size_bytes=settings.max_message_size_bytes,
            encryption=ENCRYPTION[settings.encryption],
            max_receive_count=settings.dead_letter.max_receive_count,
            dead_letter_retention_period=Duration.seconds(settings.dead_letter.retention),
        )
        if settings.producer is not None:
            ProducerFunction(
                self,
                f"{construct_id}Producer",
                queue=queue,
                code_path=LAMBDA_ROOT / "producer",
                timeout=Duration.seconds(settings.producer.timeout),
                memory_size=settings.producer.memory_mb,
                log_retention_days=_or_default(settings.producer.log_retention_days, log_retention_days),
            )
        if settings.consumer is not None:
            ConsumerFunction(
                self,
                f"{construct_id}Consumer",
                queue=queue,
                code_path=LAMBDA_ROOT / "consumer",
                timeout=Duration.seconds(settings.consumer.timeout),
                memory_size=settings.consumer.memory_mb,
                batch_size=settings.consumer.batch_size,
                max_batching_window=Duration.seconds(settings.consumer.batching_window),
                max_concurrency=settings.consumer.max_concurrency,
                log_retention_days=_or_default(settings.consumer.log_retention_days, log_retention_days),
            )
        CfnOutput(self, f"{construct_id}QueueUrl", value=queue.queue_url, description=f"URL of queue '{key}'")
        CfnOutput(self, f"{construct_id}QueueArn", value=queue.queue_arn, description=f"ARN of queue '{key}'")
        if queue.dead_letter_queue is not None:
            CfnOutput(
                self,
                f"{construct_id}DeadLetterQueueUrl",
                value=queue.dead_letter_queue.queue_url,
                description=f"URL of the dead-letter queue of '{key}'",
            )


def _optional_seconds(seconds: int | None) -> Duration | None:
    return None if seconds is None else Duration.seconds(seconds)


def _or_default(value: int | None, default: int) -> int:
    return default if value is None else value
