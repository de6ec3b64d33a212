"""The parts every kit function shares: runtime, architecture, role and log group."""

import os

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .bundling import python_code

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64


def build_function(
    scope: Construct,
    *,
    code_path: str | os.PathLike[str],
    handler: str,
    timeout: Duration,
    memory_mb: int,
    environment: dict[str, str],
    log_retention_days: int,
    removal_policy: RemovalPolicy,
) -> tuple[lambda_.Function, iam.Role, logs.LogGroup]:
    """Create a Python function on arm64 with its own role and a log group with a retention period.

    The role carries no AWS managed policy: its only permission so far is to
    write to its own log group. Callers add grants for the queue.
    """
    log_group = logs.LogGroup(scope, "LogGroup", removal_policy=removal_policy)
    # Set in days directly: the RetentionDays enum names periods, not numbers.
    cfn_log_group = log_group.node.default_child
    assert isinstance(cfn_log_group, logs.CfnLogGroup)
    cfn_log_group.retention_in_days = log_retention_days
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Execution role of {scope.node.path}",
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        "Function",
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=handler,
        code=python_code(code_path, runtime=RUNTIME, architecture=ARCHITECTURE),
        timeout=timeout,
        memory_size=memory_mb,
        environment=environment,
        role=role,
        log_group=log_group,
    )
    return function, role, log_group
