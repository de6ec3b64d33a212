"""Create local stand-ins for queues a stack imports, then deploy: imported queues must exist before ``cdk deploy``.

A stack that imports a queue (``Queue.from_queue_arn``) refers to it by a
literal ARN: in an event source mapping's ``EventSourceArn`` and in the IAM
policies of its functions. In AWS that queue exists already. In a fresh moto
server it does not, and moto's ``CreateEventSourceMapping`` fails for an ARN
it has no queue for, which fails the whole deploy. So the app is synthesized
first, every literal SQS ARN in its templates that the stack does not create
itself is found, and an empty queue of that name is created in the server.

A stand-in has SQS's default attributes: the owning stack's visibility timeout,
redrive policy and encryption are not known here.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .deploy import CdkApp, CdkCommandError, bootstrap, cli_environment, deploy, run_cdk
from .report import QueueInfo, StackInventory, read_inventory
from .server import LOCAL_ACCOUNT_ID, LOCAL_REGION, MotoServer, aws_client

logger = logging.getLogger(__name__)

SQS_ARN_PREFIX = "arn:aws:sqs:"
QUEUE_TYPE = "AWS::SQS::Queue"
EVENT_SOURCE_MAPPING_TYPE = "AWS::Lambda::EventSourceMapping"
POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role")
COMPLETE_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
FIFO_SUFFIX = ".fifo"


@dataclass
class LocalDeployment:
    """The stacks deployed into the local server, and the stand-ins created for the queues they import."""

    inventories: list[StackInventory]
    stand_ins: list[QueueInfo] = field(default_factory=list)


# Finding imported queues in the cloud assembly


def imported_queue_arns(assembly_dir: Path) -> list[str]:
    """Return the literal SQS ARNs that the assembly's templates use but whose queues no template creates."""
    referenced: set[str] = set()
    created_names: set[str] = set()
    for template_path in sorted(assembly_dir.glob("**/*.template.json")):
        resources = json.loads(template_path.read_text()).get("Resources", {})
        for resource in resources.values():
            referenced |= set(_literal_queue_arns(resource))
            if resource.get("Type") == QUEUE_TYPE:
                name = resource.get("Properties", {}).get("QueueName")
                if isinstance(name, str):
                    created_names.add(name)
    return sorted(arn for arn in referenced if _queue_name(arn) not in created_names)


def _literal_queue_arns(resource: Mapping[str, Any]) -> Iterator[str]:
    properties = resource.get("Properties", {})
    if resource.get("Type") == EVENT_SOURCE_MAPPING_TYPE:
        yield from _sqs_arns(properties.get("EventSourceArn"))
    elif resource.get("Type") in POLICY_TYPES:
        yield from _sqs_arns(properties)


def _sqs_arns(value: Any) -> Iterator[str]:
    # Only whole strings: an ARN built with Fn::Join or Fn::GetAtt names a queue of the stack or a parameter.
    if isinstance(value, str):
        if value.startswith(SQS_ARN_PREFIX) and "*" not in value:
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from _sqs_arns(item)
    elif isinstance(value, dict) and not any(key.startswith("Fn::") or key == "Ref" for key in value):
        for item in value.values():
            yield from _sqs_arns(item)


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


# Creating the stand-ins


def create_stand_ins(sqs: Any, arns: list[str]) -> list[QueueInfo]:
    """Create an empty queue for each ARN in the local account and region; skip ARNs of another account or region.

    A queue of another account or region cannot be created here under the same
    ARN, so its consumers and producers would not find it. Each such ARN is
    logged as a warning.
    """
    stand_ins = []
    for arn in arns:
        _, _, _, region, account, name = arn.split(":", 5)
        if (account, region) != (LOCAL_ACCOUNT_ID, LOCAL_REGION):
            # NOTE: moto keeps one backend per account and region; a cross-account import is not reproduced.
            logger.warning(
                "Imported queue %s is in account %s, region %s; the local server only has account %s, region %s, "
                "so no stand-in is created and the deploy may fail",
                arn,
                account,
                region,
                LOCAL_ACCOUNT_ID,
                LOCAL_REGION,
            )
            continue
        attributes = {"FifoQueue": "true"} if name.endswith(FIFO_SUFFIX) else {}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        queue_attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        logger.info("Created a local stand-in for the imported queue %s", arn)
        stand_ins.append(QueueInfo(logical_id=f"{name} (imported)", url=url, attributes=queue_attributes))
    return stand_ins


def prepare_imported_queues(server: MotoServer, app: CdkApp) -> list[QueueInfo]:
    """Synthesize the app into its output folder and create stand-ins for the queues its stacks import."""
    run_cdk(app, ["synth", "--quiet"], cli_environment(server.endpoint_url, os.environ))
    arns = imported_queue_arns(app.output_dir)
    return create_stand_ins(aws_client("sqs", server.endpoint_url), arns)


def deploy_with_stand_ins(server: MotoServer, app: CdkApp) -> LocalDeployment:
    """Create stand-ins for imported queues, bootstrap, deploy, and read every stack back from moto.

    Raise ``CdkCommandError`` if a CLI command fails or a stack did not complete.
    """
    stand_ins = prepare_imported_queues(server, app)
    # Bootstrap and deploy read the cloud assembly just written instead of running the app twice more.
    synthesized = replace(app, app=str(app.output_dir))
    logger.info("Bootstrapping aws://%s/%s at %s", LOCAL_ACCOUNT_ID, LOCAL_REGION, server.endpoint_url)
    bootstrap(synthesized, server.endpoint_url)
    logger.info("Deploying %s", app.app_dir)
    names = deploy(synthesized, server.endpoint_url)
    clients = {
        "cloudformation": aws_client("cloudformation", server.endpoint_url),
        "sqs": aws_client("sqs", server.endpoint_url),
        "lambda_client": aws_client("lambda", server.endpoint_url),
    }
    inventories = [read_inventory(name, **clients) for name in names]
    for inventory in inventories:
        if inventory.status not in COMPLETE_STATUSES:
            raise CdkCommandError(f"Stack {inventory.name} is {inventory.status}, expected one of {COMPLETE_STATUSES}")
    return LocalDeployment(inventories=inventories, stand_ins=stand_ins)


__all__ = ["LocalDeployment", "create_stand_ins", "deploy_with_stand_ins", "imported_queue_arns"]
