"""Read what a stack deployed into moto, and print it with the outcome of a local run.

Everything here comes from the moto server (CloudFormation, SQS, Lambda),
never from the app's config, so the report shows what the deploy created.
Template entries that moto did not create are listed apart, with the reason.
"""

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from .runner import RunSummary

logger = logging.getLogger(__name__)

QUEUE_TYPE = "AWS::SQS::Queue"
FUNCTION_TYPE = "AWS::Lambda::Function"
QUEUE_POLICY_TYPE = "AWS::SQS::QueuePolicy"
# Reasons moto's CloudFormation (5.2.5) leaves a template resource out; others get a generic reason.
SKIP_REASONS = {
    QUEUE_POLICY_TYPE: "moto's CloudFormation skips queue policies",
    "AWS::CDK::Metadata": "CDK's usage metadata; it has no effect on the application",
}
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class QueueInfo:
    """A deployed queue: its logical id, local URL and attributes as ``GetQueueAttributes`` returns them."""

    logical_id: str
    url: str
    attributes: Mapping[str, str]

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def arn(self) -> str:
        return self.attributes.get("QueueArn", "")

    @property
    def redrive_policy(self) -> dict[str, Any] | None:
        """The parsed ``RedrivePolicy`` attribute, or None when the queue has no dead-letter queue."""
        raw = self.attributes.get("RedrivePolicy")
        return json.loads(raw) if raw else None

    @property
    def encryption(self) -> str:
        if self.attributes.get("KmsMasterKeyId"):
            return f"KMS key {self.attributes['KmsMasterKeyId']}"
        if self.attributes.get("SqsManagedSseEnabled") == "true":
            return "SQS-managed (SSE-SQS)"
        return "none"


@dataclass(frozen=True)
class FunctionInfo:
    """A deployed function: its configuration from Lambda and where its code zip lives in S3."""

    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    architectures: tuple[str, ...]
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, str]
    code_bucket: str
    code_key: str


@dataclass(frozen=True)
class MappingInfo:
    """A deployed event source mapping, as ``ListEventSourceMappings`` returns it."""

    uuid: str
    function_arn: str
    event_source_arn: str
    batch_size: int
    batching_window_seconds: int
    function_response_types: tuple[str, ...]
    maximum_concurrency: int | None
    state: str


@dataclass(frozen=True)
class Gap:
    """A template fact the local deploy does not reproduce: a skipped resource or a differing property."""

    logical_id: str
    resource_type: str
    reason: str


@dataclass
class StackInventory:
    """One stack deployed into moto, as read back from moto."""

    name: str
    status: str
    queues: list[QueueInfo] = field(default_factory=list)
    functions: list[FunctionInfo] = field(default_factory=list)
    mappings: list[MappingInfo] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def queue_by_arn(self, arn: str) -> QueueInfo | None:
        """Return the stack's queue with ``arn``, or None."""
        return next((queue for queue in self.queues if queue.arn == arn), None)

    def function_by_arn(self, arn: str) -> FunctionInfo | None:
        """Return the stack's function with ``arn``, or None."""
        return next((function for function in self.functions if function.arn == arn), None)


# Reading the deployed stack


def read_inventory(stack_name: str, *, cloudformation: Any, sqs: Any, lambda_client: Any) -> StackInventory:
    """Read a deployed stack's queues, functions, mappings and skipped resources from moto."""
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    template = cloudformation.get_template(StackName=stack_name)["TemplateBody"]
    if isinstance(template, str):
        template = json.loads(template)
    resources = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    # moto lists a resource it skipped without a logical id or type, so created ones are matched by logical id.
    created = {
        item["LogicalResourceId"]: item["PhysicalResourceId"]
        for item in resources
        if item.get("LogicalResourceId") and item.get("PhysicalResourceId")
    }
    account, region = _account_and_region(stack["StackId"])
    inventory = StackInventory(name=stack_name, status=stack["StackStatus"])
    for logical_id, resource in template.get("Resources", {}).items():
        resource_type = resource.get("Type", "")
        physical_id = created.get(logical_id)
        if physical_id is None:
            inventory.gaps.append(Gap(logical_id, resource_type, _skip_reason(resource)))
        elif resource_type == QUEUE_TYPE:
            inventory.queues.append(_read_queue(sqs, logical_id, physical_id))
        elif resource_type == FUNCTION_TYPE:
            function = _read_function(lambda_client, logical_id, physical_id, resource, account=account, region=region)
            inventory.functions.append(function)
            inventory.gaps.extend(_function_differences(function, resource))
    for function in inventory.functions:
        inventory.mappings.extend(_read_mappings(lambda_client, function.name))
    return inventory


def _account_and_region(stack_id: str) -> tuple[str, str]:
    # arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID
    parts = stack_id.split(":")
    return parts[4], parts[3]


def _skip_reason(resource: Mapping[str, Any]) -> str:
    resource_type = resource.get("Type", "")
    reason = SKIP_REASONS.get(resource_type, "moto's CloudFormation did not create it")
    if resource_type == QUEUE_POLICY_TYPE and _denies_insecure_transport(resource):
        return f"not created by moto: the TLS-only queue policy exists in the template but {reason}"
    return f"not created by moto: {reason}"


def _denies_insecure_transport(resource: Mapping[str, Any]) -> bool:
    statements = resource.get("Properties", {}).get("PolicyDocument", {}).get("Statement", [])
    return any(
        statement.get("Effect") == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for statement in statements
    )


def _read_queue(sqs: Any, logical_id: str, physical_id: str) -> QueueInfo:
    # The physical id is the queue URL on the AWS host name; the local server has its own URL for it.
    name = physical_id.rsplit("/", 1)[-1]
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return QueueInfo(logical_id=logical_id, url=url, attributes=attributes)


def _read_function(
    lambda_client: Any, logical_id: str, name: str, resource: Mapping[str, Any], *, account: str, region: str
) -> FunctionInfo:
    configuration = lambda_client.get_function_configuration(FunctionName=name)
    bucket, key = _code_location(resource, account, region)
    return FunctionInfo(
        logical_id=logical_id,
        name=configuration["FunctionName"],
        arn=configuration["FunctionArn"],
        handler=configuration.get("Handler", ""),
        runtime=configuration.get("Runtime", ""),
        architectures=tuple(configuration.get("Architectures", [])),
        timeout_seconds=int(configuration.get("Timeout", 3)),
        memory_mb=int(configuration.get("MemorySize", 128)),
        environment=configuration.get("Environment", {}).get("Variables", {}),
        code_bucket=bucket,
        code_key=key,
    )


def _code_location(resource: Mapping[str, Any], account: str, region: str) -> tuple[str, str]:
    """Return the S3 bucket and key of a function's code zip, resolving the pseudo parameters CDK uses."""
    code = resource.get("Properties", {}).get("Code", {})
    bucket = code.get("S3Bucket", "")
    if isinstance(bucket, dict) and "Fn::Sub" in bucket:
        bucket = str(bucket["Fn::Sub"]).replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)
    key = code.get("S3Key", "")
    if not isinstance(bucket, str) or not isinstance(key, str) or "${" in bucket:
        # Inline code (ZipFile) or a bucket from a parameter or import: no zip to download.
        return "", ""
    return bucket, key


def _function_differences(function: FunctionInfo, resource: Mapping[str, Any]) -> list[Gap]:
    expected = tuple(resource.get("Properties", {}).get("Architectures", ["x86_64"]))
    if expected == function.architectures:
        return []
    reason = (
        f"architecture {', '.join(expected)} in the template, {', '.join(function.architectures)} in moto: "
        "moto's CloudFormation ignores Architectures"
    )
    return [Gap(function.logical_id, FUNCTION_TYPE, reason)]


def _read_mappings(lambda_client: Any, function_name: str) -> list[MappingInfo]:
    mappings = lambda_client.list_event_source_mappings(FunctionName=function_name)["EventSourceMappings"]
    return [
        MappingInfo(
            uuid=mapping["UUID"],
            function_arn=mapping["FunctionArn"],
            event_source_arn=mapping.get("EventSourceArn", ""),
            batch_size=int(mapping.get("BatchSize", 10)),
            batching_window_seconds=int(mapping.get("MaximumBatchingWindowInSeconds", 0)),
            function_response_types=tuple(mapping.get("FunctionResponseTypes", [])),
            maximum_concurrency=mapping.get("ScalingConfig", {}).get("MaximumConcurrency"),
            state=mapping.get("State", ""),
        )
        for mapping in mappings
    ]


# Printing


def format_inventory(inventory: StackInventory) -> list[str]:
    """Return report lines for the stack's queues, functions, mappings and gaps."""
    lines = [f"Stack {inventory.name}: {inventory.status}", "", "Queues:"]
    for queue in inventory.queues:
        lines += _queue_lines(queue, inventory)
    lines += ["", "Functions:"]
    for function in inventory.functions:
        lines.append(
            f"  {function.logical_id} ({function.name}): handler {function.handler}, {function.runtime}, "
            f"{'/'.join(function.architectures)}, timeout {function.timeout_seconds} s, {function.memory_mb} MB"
        )
    lines += ["", "Event source mappings:"]
    for mapping in inventory.mappings:
        lines.append(_mapping_line(mapping, inventory))
    if inventory.gaps:
        lines += ["", "In the template but not reproduced by moto:"]
        lines += [f"  {gap.logical_id} ({gap.resource_type}): {gap.reason}" for gap in inventory.gaps]
    return lines


def _queue_lines(queue: QueueInfo, inventory: StackInventory) -> list[str]:
    attributes = queue.attributes
    retention = int(attributes.get("MessageRetentionPeriod", 0))
    lines = [
        f"  {queue.logical_id} ({queue.name})",
        f"    retention {retention} s ({retention / SECONDS_PER_DAY:g} d), "
        f"visibility timeout {attributes.get('VisibilityTimeout')} s, delay {attributes.get('DelaySeconds')} s, "
        f"receive wait {attributes.get('ReceiveMessageWaitTimeSeconds')} s, "
        f"max message size {attributes.get('MaximumMessageSize')} bytes, encryption {queue.encryption}",
    ]
    redrive = queue.redrive_policy
    if redrive is not None:
        target = inventory.queue_by_arn(redrive.get("deadLetterTargetArn", ""))
        target_name = target.logical_id if target else redrive.get("deadLetterTargetArn")
        lines.append(f"    redrive to {target_name} after {redrive.get('maxReceiveCount')} receives")
    return lines


def _mapping_line(mapping: MappingInfo, inventory: StackInventory) -> str:
    function = inventory.function_by_arn(mapping.function_arn)
    queue = inventory.queue_by_arn(mapping.event_source_arn)
    source = queue.logical_id if queue else mapping.event_source_arn
    target = function.logical_id if function else mapping.function_arn
    return (
        f"  {source} -> {target}: batch size {mapping.batch_size}, "
        f"batching window {mapping.batching_window_seconds} s, "
        f"response types {', '.join(mapping.function_response_types) or 'none'}, "
        f"maximum concurrency {mapping.maximum_concurrency or 'unset'}, {mapping.state}"
    )


def format_summary(summary: RunSummary) -> list[str]:
    """Return report lines for a run's message counts, listing lost message ids."""
    lines = [
        "",
        "Messages:",
        f"  sent       {len(summary.sent_ids)}",
        f"  processed  {len(summary.processed_ids & summary.sent_ids)}",
        f"  failed     {summary.failed_records} record failures in {summary.failed_invocations} failed invocations",
        f"  in DLQ     {len(summary.dead_letter_ids & summary.sent_ids)}",
        f"  lost       {len(summary.lost_ids)}",
    ]
    if summary.lost_ids:
        lines.append(f"  lost ids: {', '.join(sorted(summary.lost_ids))}")
    lines += [f"  note: {note}" for note in summary.notes]
    return lines


@dataclass
class DrillOutcome:
    """The ids a drill sent and the fate of each one, for the drill report."""

    sent_ids: set[str]
    processed: Mapping[str, int]
    dead_letter_ids: set[str]
    receives: Mapping[str, int]
    # Ids expected in a dead-letter queue (poison and malformed), with the receives they should take to get there.
    expected_dead_letters: Mapping[str, int | None]
    requests: Mapping[str, Mapping[str, int]]
    faults: Mapping[str, int]
    duplicates_sent: int
    invocations: int
    failed_invocations: int
    timeouts: int
    elapsed_seconds: float
    time_scale: float
    stand_ins: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def processed_ids(self) -> set[str]:
        return {message_id for message_id, count in self.processed.items() if count > 0} & self.sent_ids

    @property
    def processed_more_than_once(self) -> set[str]:
        return {message_id for message_id, count in self.processed.items() if count > 1} & self.sent_ids

    @property
    def lost_ids(self) -> set[str]:
        """Ids sent but neither processed nor in a dead-letter queue."""
        return self.sent_ids - self.processed_ids - self.dead_letter_ids

    @property
    def wrong_receive_counts(self) -> dict[str, int]:
        """Dead-lettered ids expected there whose receives differ from their queue's maxReceiveCount."""
        return {
            message_id: self.receives.get(message_id, 0)
            for message_id, expected in self.expected_dead_letters.items()
            if expected is not None and self.receives.get(message_id, 0) != expected
        }


def format_drill_report(outcome: DrillOutcome) -> list[str]:
    """Return the drill report: message outcomes, faults, dead-letter receive counts and requests by operation."""
    expected_in_dlq = {i for i, count in outcome.expected_dead_letters.items() if count is not None}
    lines = [
        "",
        f"Drill: {outcome.elapsed_seconds:.1f} s, timers divided by {outcome.time_scale:g}",
        f"  faults     {', '.join(f'{name} {count}' for name, count in outcome.faults.items()) or 'none'}; "
        f"{outcome.duplicates_sent} sent twice",
        f"  sent                      {len(outcome.sent_ids)}",
        f"  processed (unique ids)    {len(outcome.processed_ids)}",
        f"  processed more than once  {len(outcome.processed_more_than_once)}",
        f"  in DLQ                    {len(outcome.dead_letter_ids & outcome.sent_ids)} "
        f"({len(expected_in_dlq & outcome.dead_letter_ids)} of {len(expected_in_dlq)} poison or malformed)",
        f"  lost                      {len(outcome.lost_ids)}",
        f"  invocations               {outcome.invocations}, {outcome.failed_invocations} failed, "
        f"{outcome.timeouts} timed out",
    ]
    if outcome.lost_ids:
        lines.append(f"  lost ids: {', '.join(sorted(outcome.lost_ids)[:50])}")
    wrong = outcome.wrong_receive_counts
    lines.append(
        "  poison and malformed receives: "
        + (f"{len(wrong)} differ from maxReceiveCount: {wrong}" if wrong else "each exactly maxReceiveCount")
    )
    lines += ["", "API requests by operation:"]
    for role, counts in outcome.requests.items():
        lines.append(f"  {role}:")
        lines += [f"    {operation:<40} {count}" for operation, count in sorted(counts.items())]
    lines += [f"  note: {name} is an empty local stand-in for an imported queue" for name in outcome.stand_ins]
    lines += [f"  note: {note}" for note in outcome.notes]
    return lines


def print_report(inventories: Iterable[StackInventory], summary: RunSummary | None, stream: TextIO) -> None:
    """Write the inventory of each stack, then the run summary when there was a run."""
    for inventory in inventories:
        stream.write("\n".join(format_inventory(inventory)) + "\n")
    if summary is not None:
        stream.write("\n".join(format_summary(summary)) + "\n")


__all__ = [
    "DrillOutcome",
    "FunctionInfo",
    "Gap",
    "MappingInfo",
    "QueueInfo",
    "StackInventory",
    "format_drill_report",
    "format_inventory",
    "format_summary",
    "print_report",
    "read_inventory",
]
