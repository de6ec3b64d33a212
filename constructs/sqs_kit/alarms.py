"""Alarms for the things that page people, the topic they notify, and a dashboard."""

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from . import limits
from ._props import duration_prop, prop_checker, report, seconds_of
from .consumer import ConsumerFunction
from .imported import ImportedQueue
from .queue import KitQueue
from .rules import check_oldest_message_age

# The oldest message may wait this share of the retention period before the alarm fires, which
# leaves the other half to fix the consumer and drain the queue before messages expire.
OLDEST_MESSAGE_AGE_SHARE = 0.5
QUEUE_ALARM_PERIOD = Duration.minutes(1)
FUNCTION_ALARM_PERIOD = Duration.minutes(5)
PROP_NAMES = {"alarms.oldest_message_age": "oldest_message_age", "retention": "retention_period"}


def default_oldest_message_age(retention_seconds: int) -> int:
    """Return the default alarm threshold for a queue's retention: half of it, at least a minute."""
    return max(limits.MINUTE_SECONDS, int(retention_seconds * OLDEST_MESSAGE_AGE_SHARE))


class AlarmTopic(Construct):
    """An SNS topic for alarm notifications: encrypted with its own key, TLS only, and open to CloudWatch.

    CloudWatch cannot use the AWS managed ``aws/sns`` key, so the topic gets
    a customer-managed key with rotation on whose policy lets CloudWatch in
    this account use it.
    """

    def __init__(self, scope: Construct, id: str, *, removal_policy: RemovalPolicy, email: str | None = None) -> None:
        """Create the key, the topic and, when ``email`` is given, an email subscription to confirm."""
        super().__init__(scope, id)
        account = Stack.of(self).account
        from_this_account = {"StringEquals": {"aws:SourceAccount": account}}
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        self.key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the alarm notifications of {self.node.path}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[cloudwatch_principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions=from_this_account,
            )
        )
        self.topic = sns.Topic(self, "Resource", master_key=self.key, enforce_ssl=True)
        # The TLS-only topic policy replaces SNS's default policy, so CloudWatch needs its own statement.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=from_this_account,
            )
        )
        if email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))


class QueueAlarms(Construct):
    """The alarms of one queue and its consumer, each notifying one SNS topic.

    - ``DeadLetterMessages``: at least one message visible in the dead-letter queue.
    - ``OldestMessageAge``: the oldest message is older than the threshold.
    - ``ConsumerErrors`` and ``ConsumerThrottles``: at least one error or throttle
      of the consumer function in five minutes.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue: KitQueue | ImportedQueue,
        topic: sns.ITopic,
        retention_period: Duration | None = None,
        consumer: ConsumerFunction | None = None,
        oldest_message_age: Duration | None = None,
    ) -> None:
        """Create the alarms that apply: a queue without a kit-managed dead-letter queue gets no DLQ alarm.

        :param retention_period: the queue's retention, from which the age threshold is derived.
            Default: 4 days, the SQS default.
        :param oldest_message_age: age of the oldest message that fires the alarm, 1 minute up to
            the retention period (up to 14 days when the retention is not given). Default: half the
            retention period.
        """
        super().__init__(scope, id)
        checker = prop_checker(PROP_NAMES)
        given_retention = seconds_of(duration_prop(checker, "retention", retention_period))
        retention = int(given_retention or limits.DEFAULT_RETENTION_SECONDS)
        threshold = seconds_of(duration_prop(checker, "alarms.oldest_message_age", oldest_message_age))
        if threshold is None:
            threshold = default_oldest_message_age(retention)
        check_oldest_message_age(threshold, int(given_retention) if given_retention else None, checker)
        report(self, checker, "sqs-kit:alarms")

        action = cloudwatch_actions.SnsAction(topic)
        self.alarms: list[cloudwatch.Alarm] = []
        dead_letter_queue = queue.dead_letter_queue
        if dead_letter_queue is not None:
            self._add(
                "DeadLetterMessages",
                dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=QUEUE_ALARM_PERIOD, statistic="Maximum"
                ),
                threshold=1,
                description=f"Messages are waiting in the dead-letter queue of {queue.node.path}. See docs/runbook.md.",
                action=action,
            )
        self._add(
            "OldestMessageAge",
            queue.queue.metric_approximate_age_of_oldest_message(period=QUEUE_ALARM_PERIOD, statistic="Maximum"),
            threshold=threshold,
            description=f"The oldest message of {queue.node.path} is older than {threshold} s; messages expire after "
            f"{retention} s.",
            action=action,
        )
        if consumer is not None:
            self._add(
                "ConsumerErrors",
                consumer.function.metric_errors(period=FUNCTION_ALARM_PERIOD, statistic="Sum"),
                threshold=1,
                description=f"The consumer {consumer.node.path} failed invocations.",
                action=action,
            )
            self._add(
                "ConsumerThrottles",
                consumer.function.metric_throttles(period=FUNCTION_ALARM_PERIOD, statistic="Sum"),
                threshold=1,
                description=f"The consumer {consumer.node.path} was throttled.",
                action=action,
            )

    def _add(
        self,
        id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        action: cloudwatch.IAlarmAction,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No data means an idle queue or function, which is healthy.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(action)
        self.alarms.append(alarm)


@dataclass(frozen=True)
class DashboardQueue:
    """One queue on the dashboard: its label, the queue and its consumer if any."""

    label: str
    queue: KitQueue | ImportedQueue
    consumer: ConsumerFunction | None = None


class MessagingDashboard(Construct):
    """A CloudWatch dashboard with one row of graphs per queue and its consumer."""

    def __init__(self, scope: Construct, id: str, *, queues: list[DashboardQueue]) -> None:
        super().__init__(scope, id)
        self.dashboard = cloudwatch.Dashboard(self, "Resource")
        for entry in queues:
            self.dashboard.add_widgets(*_queue_widgets(entry))
            if entry.consumer is not None:
                self.dashboard.add_widgets(*_consumer_widgets(entry.label, entry.consumer))


def _queue_widgets(entry: DashboardQueue) -> list[cloudwatch.IWidget]:
    queue = entry.queue.queue
    widgets: list[cloudwatch.IWidget] = [
        cloudwatch.GraphWidget(
            title=f"{entry.label}: queue depth",
            left=[
                queue.metric_approximate_number_of_messages_visible(statistic="Maximum"),
                queue.metric_approximate_number_of_messages_not_visible(statistic="Maximum"),
            ],
        ),
        cloudwatch.GraphWidget(
            title=f"{entry.label}: age of oldest message (s)",
            left=[queue.metric_approximate_age_of_oldest_message(statistic="Maximum")],
        ),
    ]
    dead_letter_queue = entry.queue.dead_letter_queue
    if dead_letter_queue is not None:
        widgets.append(
            cloudwatch.GraphWidget(
                title=f"{entry.label}: dead-letter queue depth",
                left=[dead_letter_queue.metric_approximate_number_of_messages_visible(statistic="Maximum")],
            )
        )
    return widgets


def _consumer_widgets(label: str, consumer: ConsumerFunction) -> list[cloudwatch.IWidget]:
    function = consumer.function
    return [
        cloudwatch.GraphWidget(
            title=f"{label} consumer: invocations and errors",
            left=[function.metric_invocations(statistic="Sum"), function.metric_errors(statistic="Sum")],
        ),
        cloudwatch.GraphWidget(
            title=f"{label} consumer: duration (ms)",
            left=[function.metric_duration(statistic="Average"), function.metric_duration(statistic="Maximum")],
        ),
        cloudwatch.GraphWidget(
            title=f"{label} consumer: concurrent executions",
            left=[function.metric("ConcurrentExecutions", statistic="Maximum")],
        ),
    ]
