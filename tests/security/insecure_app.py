"""A deliberately insecure CDK app: the negative control every scanner must flag.

Its queue is unencrypted, has no dead-letter queue and no TLS-only policy, and
its queue policy allows any principal every SQS action. If a scanner stops
reporting these, it has stopped checking, and the security tests fail.
"""

from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

STACK_NAME = "InsecureFixture"


def build(app: App) -> Stack:
    stack = Stack(app, STACK_NAME)
    queue = sqs.Queue(stack, "Queue", encryption=sqs.QueueEncryption.UNENCRYPTED)
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["sqs:*"],
            resources=[queue.queue_arn],
        )
    )
    return stack
