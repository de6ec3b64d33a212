"""The IAM actions each role of the kit needs, shared by the constructs and the local redrive command.

This module imports nothing from aws-cdk-lib, so ``sqs-kit redrive`` can use it
without starting jsii.
"""

# The actions a producer needs. SendMessageBatch is authorized by sqs:SendMessage.
SEND_ACTIONS = ("sqs:SendMessage",)
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
)
REDRIVE_DEAD_LETTER_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:StartMessageMoveTask",
    "sqs:ListMessageMoveTasks",
    "sqs:CancelMessageMoveTask",
)
REDRIVE_SOURCE_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes")
# SQS calls KMS for a data key when it stores a message, and to decrypt the key when the message is read.
KMS_SEND_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
KMS_CONSUME_ACTIONS = ("kms:Decrypt",)
