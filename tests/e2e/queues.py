"""Find the deployed dev queues in a moto server, and read a queue's bodies without keeping them."""

from typing import Any

from sqs_kit.local.redrive import queue_pair
from sqs_kit.local.server import MotoServer, aws_client

STACK_NAME = "sqs-kit-dev"


def queue_urls(server: MotoServer) -> tuple[str, str]:
    """Return the deployed orders queue URL from its SSM parameter, and its DLQ URL from the RedrivePolicy."""
    # moto 5.2.5 returns no Outputs for a stack deployed through a change set, so the parameter is the way in.
    ssm = aws_client("ssm", server.endpoint_url)
    source_url = ssm.get_parameter(Name=f"/{STACK_NAME}/queues/orders/url")["Parameter"]["Value"]
    pair = queue_pair(aws_client("sqs", server.endpoint_url), source_url=source_url, dlq_url=None)
    return pair.source_url, pair.dlq_url


def bodies(sqs: Any, url: str) -> list[str]:
    found: list[str] = []
    for _ in range(50):
        # Short polling: the source queue's 20-second receive wait would otherwise end every call.
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        found.extend(message["Body"] for message in batch)
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found
