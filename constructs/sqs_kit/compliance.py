"""Scanner acknowledgements, each scoped to one resource and one finding, with its reason.

cdk-nag 3 reads acknowledgements from CDK's ``Validations`` API. checkov reads
``Metadata.checkov.skip`` and cfn-lint reads ``Metadata.cfn-lint.config.ignore_checks``
on the resource itself. Every reason is defined once here, and docs/security.md
lists them.
"""

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

# Reasons, one per finding the kit accepts on purpose.
SQS_EVENT_SOURCE_NO_FUNCTION_DLQ = (
    "An SQS event source invokes the function synchronously, and a function dead-letter queue applies only "
    "to asynchronous invocations. Failed records return to the queue and move to the queue's own dead-letter "
    "queue through its redrive policy."
)
PRODUCER_NO_FUNCTION_DLQ = (
    "The producer is meant to be invoked synchronously: it raises SendFailedError naming every entry SQS did "
    "not accept, so the caller sees each failure. A function dead-letter queue would only catch asynchronous "
    "invocations."
)
SQS_MAPPING_NO_ON_FAILURE = (
    "Lambda supports on-failure destinations for stream and Kafka event sources, not for SQS. Records that keep "
    "failing move to the queue's dead-letter queue through its redrive policy."
)
DEAD_LETTER_QUEUE_NO_REDRIVE = (
    "This queue is the dead-letter queue. A redrive policy here would move failed messages a second time "
    "instead of keeping them for inspection and redrive."
)
XRAY_NEEDS_WILDCARD = (
    "AWS X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so active "
    "tracing needs Resource '*' for these two actions only."
)
SQS_MANAGED_SSE_CHECKOV_DEFECT = (
    "The queue is encrypted with SQS-managed keys (SqsManagedSseEnabled), but checkov 3.3 recognises only a "
    "KMS key here (checkov issue #7381)."
)
LOGS_SERVICE_ENCRYPTION = (
    "CloudWatch Logs encrypts log data at rest with service-owned keys. The kit's handlers log message ids "
    "and error types, never message bodies, so a customer key would add cost without protecting more."
)
NO_VPC = (
    "The function reaches only SQS, CloudWatch Logs and X-Ray, over TLS through their public endpoints. "
    "Running it in a VPC would need NAT or interface endpoints and adds no control here."
)
CONCURRENCY_BOUNDED_ELSEWHERE = (
    "Concurrency is bounded by the event source mapping's maximum concurrency for a consumer, and by the "
    "caller for a producer. Reserved concurrency would take capacity from the account's shared pool."
)
ENVIRONMENT_HOLDS_NO_SECRETS = (
    "The environment holds only the queue URL and settings, no secrets. Lambda encrypts environment "
    "variables at rest with an AWS managed key."
)
LOG_GROUP_IN_LOGGING_CONFIG = (
    "The function's log group is set through LoggingConfig.LogGroup and has a retention period. The rule "
    "looks only for a log group named /aws/lambda/<function name>."
)
CDK_ROLE_DEPENDS_ON = (
    "CDK adds an explicit DependsOn on the role next to the GetAtt of its ARN, so that the role's default "
    "policy exists before the function is created."
)


def acknowledge_nag(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge a cdk-nag finding on one construct, such as ``AwsSolutions::AwsSolutions-IAM5[Resource::*]``."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def skip_checkov(resource: CfnResource, check_id: str, reason: str) -> None:
    """Add a checkov skip with its reason to one resource's metadata."""
    metadata = dict(resource.get_metadata("checkov") or {})
    skips = [*metadata.get("skip", []), {"id": check_id, "comment": reason}]
    resource.add_metadata("checkov", {**metadata, "skip": skips})


def ignore_cfn_lint(resource: CfnResource, rule: str) -> None:
    """Make cfn-lint skip one rule on one resource; the caller names the reason constant beside the call."""
    metadata = dict(resource.get_metadata("cfn-lint") or {})
    config = dict(metadata.get("config", {}))
    config["ignore_checks"] = [*config.get("ignore_checks", []), rule]
    resource.add_metadata("cfn-lint", {**metadata, "config": config})
