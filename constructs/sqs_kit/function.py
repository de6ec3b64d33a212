"""The parts every kit function shares: runtime, architecture, role and log group."""

import os

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import compliance
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

    The role carries no AWS managed policy: it may write to its own log group
    and, for active X-Ray tracing, send trace segments. Callers add grants for
    the queue.
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
        tracing=lambda_.Tracing.ACTIVE,
    )
    _acknowledge_function_findings(function, role, log_group)
    return function, role, log_group


def _acknowledge_function_findings(function: lambda_.Function, role: iam.Role, log_group: logs.LogGroup) -> None:
    default_policy = role.node.try_find_child("DefaultPolicy")
    if default_policy is not None:
        compliance.acknowledge_nag(
            default_policy, "AwsSolutions::AwsSolutions-IAM5[Resource::*]", compliance.XRAY_NEEDS_WILDCARD
        )
    cfn_function = function.node.default_child
    assert isinstance(cfn_function, lambda_.CfnFunction)
    compliance.skip_checkov(cfn_function, "CKV_AWS_117", compliance.NO_VPC)
    compliance.skip_checkov(cfn_function, "CKV_AWS_115", compliance.CONCURRENCY_BOUNDED_ELSEWHERE)
    compliance.skip_checkov(cfn_function, "CKV_AWS_173", compliance.ENVIRONMENT_HOLDS_NO_SECRETS)
    # compliance.LOG_GROUP_IN_LOGGING_CONFIG and compliance.CDK_ROLE_DEPENDS_ON
    compliance.ignore_cfn_lint(cfn_function, "WS1004")
    compliance.ignore_cfn_lint(cfn_function, "W3005")
    cfn_log_group = log_group.node.default_child
    assert isinstance(cfn_log_group, logs.CfnLogGroup)
    compliance.skip_checkov(cfn_log_group, "CKV_AWS_158", compliance.LOGS_SERVICE_ENCRYPTION)
