"""A queue with its dead-letter queue, TLS-only policies and explicit removal."""

from collections.abc import Sequence

from aws_cdk import Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import compliance, limits
from ._props import (
    duration_prop,
    given_or,
    number_prop,
    prop_checker,
    removal_policy_prop,
    report,
    seconds_of,
    strings_prop,
    typed_or,
)
from .actions import (
    CONSUME_ACTIONS,
    KMS_CONSUME_ACTIONS,
    KMS_SEND_ACTIONS,
    REDRIVE_DEAD_LETTER_ACTIONS,
    REDRIVE_SOURCE_ACTIONS,
    SEND_ACTIONS,
)
from .rules import DEAD_LETTER_SUFFIX, Checker, QueueValues, check_cross_account, check_queue, dead_letter_name

# Construct prop names for the canonical setting keys of ``rules``.
PROP_NAMES = {
    "retention": "retention_period",
    "visibility_timeout": "visibility_timeout",
    "delivery_delay": "delivery_delay",
    "receive_wait": "receive_message_wait_time",
    "max_message_size_bytes": "max_message_size_bytes",
    "dead_letter.max_receive_count": "max_receive_count",
    "dead_letter.retention": "dead_letter_retention_period",
    "encryption": "encryption",
    "name": "queue_name",
    "dead_letter_queue": "dead_letter_queue",
    "cross_account_producers.principals": "cross_account_send_principals",
    "cross_account_producers.organization_id": "cross_account_organization_id",
}


class QueueGrants:
    """The URL, ARN and least-privilege grants shared by ``KitQueue`` and ``ImportedQueue``."""

    queue: sqs.IQueue
    encryption_key: kms.IKey | None

    @property
    def queue_arn(self) -> str:
        return self.queue.queue_arn

    @property
    def queue_url(self) -> str:
        return self.queue.queue_url

    def grant_send_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grant ``sqs:SendMessage`` on the queue, and ``kms:GenerateDataKey`` and ``kms:Decrypt`` on a customer key.

        Narrower than ``sqs.Queue.grant_send_messages``, which also grants
        ``kms:Encrypt`` and ``kms:ReEncrypt*`` that sending never uses.
        """
        return grant_send(grantee, self.queue_arn, self.encryption_key)

    def grant_consume_messages(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grant what a Lambda SQS event source needs on the queue, and ``kms:Decrypt`` on a customer key.

        The SQS actions are ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``,
        ``sqs:ChangeMessageVisibility`` and ``sqs:GetQueueAttributes``.
        """
        return grant_consume(grantee, self.queue_arn, self.encryption_key)


class KitQueue(QueueGrants, Construct):
    """An SQS queue with a dead-letter queue, encryption at rest and a TLS-only queue policy.

    Both queues deny every request made without TLS, and the dead-letter queue
    accepts redrives only from its own source queue. Physical names are
    generated from the construct path unless ``queue_name`` is given, because
    the redrive allow policy must name the source queue before it exists.

    Raises ``SettingsError`` listing every invalid prop at once, before any
    resource is created. Unresolved tokens are not checked.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        removal_policy: RemovalPolicy,
        queue_name: str | None = None,
        fifo: bool = False,
        content_based_deduplication: bool | None = None,
        deduplication_scope: sqs.DeduplicationScope | None = None,
        fifo_throughput_limit: sqs.FifoThroughputLimit | None = None,
        retention_period: Duration | None = None,
        visibility_timeout: Duration | None = None,
        delivery_delay: Duration | None = None,
        receive_message_wait_time: Duration | None = None,
        max_message_size_bytes: int | None = None,
        encryption: sqs.QueueEncryption = sqs.QueueEncryption.SQS_MANAGED,
        encryption_master_key: kms.IKey | None = None,
        dead_letter: bool = True,
        dead_letter_queue: sqs.IQueue | None = None,
        max_receive_count: int | None = None,
        dead_letter_retention_period: Duration | None = None,
        cross_account_send_principals: Sequence[str] = (),
        cross_account_organization_id: str | None = None,
    ) -> None:
        """Create the queue and, unless ``dead_letter`` is False, its dead-letter queue.

        :param removal_policy: what happens to both queues and a created key when they leave
            the stack. Required, because CDK's default deletes the queues and their messages.
            Use ``RemovalPolicy.RETAIN`` where losing messages is unacceptable.
        :param queue_name: physical name: letters, digits, hyphens and underscores, at most
            80 characters; a FIFO queue's name ends in ``.fifo``, which counts towards the 80.
            Default: generated from the construct path.
        :param fifo: create a FIFO queue and a FIFO dead-letter queue. Default: standard queues.
        :param content_based_deduplication: FIFO only. Default: off, so producers send a
            deduplication id.
        :param deduplication_scope: FIFO only. High-throughput FIFO needs ``MESSAGE_GROUP``
            together with ``fifo_throughput_limit=PER_MESSAGE_GROUP_ID``. Default: ``QUEUE``.
        :param fifo_throughput_limit: FIFO only; see ``deduplication_scope``. Default: ``PER_QUEUE``.
        :param retention_period: how long messages stay in the queue, 60 s to 14 days.
            Default: 4 days.
        :param visibility_timeout: 0 s to 12 hours. Default: derived by an attached
            ``ConsumerFunction`` as six times its timeout plus its batching window, or 30 s
            when no consumer is attached.
        :param delivery_delay: 0 s to 15 minutes. Default: 0 s.
        :param receive_message_wait_time: long-polling wait, 0 to 20 s. Default: 20 s.
        :param max_message_size_bytes: 1,024 bytes to 1 MiB. Default: 1 MiB.
        :param encryption: ``SQS_MANAGED`` (default), ``KMS_MANAGED`` (the ``aws/sqs`` key) or
            ``KMS`` (a customer-managed key). ``UNENCRYPTED`` is rejected.
        :param encryption_master_key: the customer-managed key for ``KMS``. Default: a new key
            with rotation on, shared by the queue and its dead-letter queue.
        :param dead_letter: give the queue a dead-letter queue and a redrive policy. Default: True.
        :param dead_letter_queue: an existing queue to use as the dead-letter queue, of the same
            type (FIFO or standard) as this one. Its redrive allow policy and retention are its
            owner's to set. Default: a new dead-letter queue.
        :param max_receive_count: receives before a message moves to the dead-letter queue,
            1 to 1,000. Default: 5.
        :param dead_letter_retention_period: 60 s to 14 days, and longer than
            ``retention_period`` for a standard queue. Default: 14 days.
        :param cross_account_send_principals: account ids or IAM ARNs in other accounts that
            may call ``sqs:SendMessage``, over TLS only. With a customer key they may also use
            the key, through SQS only. Wildcards are rejected. Default: none.
        :param cross_account_organization_id: also require those principals to belong to this
            AWS Organization (``aws:PrincipalOrgID``). Default: no organization condition.
        """
        super().__init__(scope, id)
        checker = prop_checker(PROP_NAMES)
        # A prop of the wrong type is recorded and then treated as omitted, so the other rules still run.
        removal_policy = removal_policy_prop(checker, removal_policy, fallback=RemovalPolicy.RETAIN)
        fifo = typed_or(checker, "fifo", fifo, fallback=False, types=bool, expected="True or False")
        dead_letter = typed_or(checker, "dead_letter", dead_letter, fallback=True, types=bool, expected="True or False")
        content_based_deduplication = typed_or(
            checker,
            "content_based_deduplication",
            content_based_deduplication,
            fallback=None,
            types=bool,
            expected="True or False",
        )
        encryption = typed_or(
            checker,
            "encryption",
            encryption,
            fallback=sqs.QueueEncryption.SQS_MANAGED,
            types=sqs.QueueEncryption,
            expected="an sqs.QueueEncryption",
        )
        deduplication_scope = typed_or(
            checker,
            "deduplication_scope",
            deduplication_scope,
            fallback=None,
            types=sqs.DeduplicationScope,
            expected="an sqs.DeduplicationScope",
        )
        fifo_throughput_limit = typed_or(
            checker,
            "fifo_throughput_limit",
            fifo_throughput_limit,
            fallback=None,
            types=sqs.FifoThroughputLimit,
            expected="an sqs.FifoThroughputLimit",
        )
        queue_name = typed_or(checker, "name", queue_name, fallback=None, types=str, expected="a str")
        if dead_letter_queue is not None and not _is_queue(dead_letter_queue):
            checker.fail_type("dead_letter_queue", dead_letter_queue, "an SQS queue", "Pass an sqs.IQueue.")
            dead_letter_queue = None
        cross_account_send_principals = strings_prop(
            checker, "cross_account_producers.principals", cross_account_send_principals
        )
        cross_account_organization_id = typed_or(
            checker,
            "cross_account_producers.organization_id",
            cross_account_organization_id,
            fallback=None,
            types=str,
            expected="a str",
        )
        retention_period = duration_prop(checker, "retention", retention_period) or Duration.seconds(
            limits.DEFAULT_RETENTION_SECONDS
        )
        visibility_timeout = duration_prop(checker, "visibility_timeout", visibility_timeout)
        delivery_delay = duration_prop(checker, "delivery_delay", delivery_delay)
        receive_message_wait_time = duration_prop(checker, "receive_wait", receive_message_wait_time)
        dead_letter_retention_period = duration_prop(
            checker, "dead_letter.retention", dead_letter_retention_period
        ) or Duration.seconds(limits.DEFAULT_DEAD_LETTER_RETENTION_SECONDS)
        max_receive_count = given_or(max_receive_count, limits.DEFAULT_MAX_RECEIVE_COUNT)
        values = QueueValues(
            fifo=fifo,
            name=queue_name,
            retention=seconds_of(retention_period),
            visibility_timeout=seconds_of(visibility_timeout),
            delivery_delay=seconds_of(delivery_delay),
            receive_wait=seconds_of(receive_message_wait_time),
            max_message_size_bytes=number_prop(checker, "max_message_size_bytes", max_message_size_bytes),
            dead_letter=dead_letter,
            max_receive_count=number_prop(checker, "dead_letter.max_receive_count", max_receive_count),
            dead_letter_retention=seconds_of(dead_letter_retention_period) if dead_letter_queue is None else None,
            content_based_deduplication=content_based_deduplication,
            deduplication_scope=_cfn_value(deduplication_scope),
            throughput_limit=_cfn_value(fifo_throughput_limit),
            given_dead_letter_fifo=dead_letter_queue.fifo if dead_letter_queue is not None else None,
            given_dead_letter_name=_queue_label(dead_letter_queue) if dead_letter_queue is not None else None,
        )
        check_queue(values, checker)
        _check_encryption(encryption, encryption_master_key, checker)
        check_cross_account(cross_account_send_principals, cross_account_organization_id, checker)
        report(self, checker, "sqs-kit:deadLetterRetention")

        self.fifo = fifo
        self.removal_policy = removal_policy
        self.visibility_timeout_given = visibility_timeout is not None
        self.visibility_timeout_seconds = values.visibility_timeout
        self.max_message_size_bytes = given_or(max_message_size_bytes, limits.DEFAULT_MAX_MESSAGE_SIZE_BYTES)
        self.encryption_key = self._encryption_key(encryption, encryption_master_key, removal_policy)

        name = _queue_name(self, queue_name, fifo, reserve=len(DEAD_LETTER_SUFFIX))
        self.dead_letter_queue: sqs.IQueue | None = dead_letter_queue
        redrive: sqs.DeadLetterQueue | None = None
        if dead_letter and self.dead_letter_queue is None:
            self.dead_letter_queue = self._dead_letter_queue(name, fifo, encryption, dead_letter_retention_period)
        if dead_letter and self.dead_letter_queue is not None:
            redrive = sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=max_receive_count)

        self.queue = sqs.Queue(
            self,
            "Resource",
            queue_name=name,
            fifo=fifo or None,
            content_based_deduplication=content_based_deduplication if fifo else None,
            deduplication_scope=deduplication_scope if fifo else None,
            fifo_throughput_limit=fifo_throughput_limit if fifo else None,
            retention_period=retention_period,
            visibility_timeout=visibility_timeout or Duration.seconds(limits.DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
            delivery_delay=delivery_delay or Duration.seconds(limits.DEFAULT_DELIVERY_DELAY_SECONDS),
            receive_message_wait_time=receive_message_wait_time
            or Duration.seconds(limits.DEFAULT_RECEIVE_WAIT_SECONDS),
            max_message_size_bytes=given_or(max_message_size_bytes, limits.DEFAULT_MAX_MESSAGE_SIZE_BYTES),
            encryption=encryption,
            encryption_master_key=self.encryption_key,
            dead_letter_queue=redrive,
            enforce_ssl=True,
            removal_policy=removal_policy,
        )
        self.queue_name = name
        self._derived_visibility_seconds = 0
        self._acknowledge_findings(encryption)
        if cross_account_send_principals:
            self._allow_cross_account_send(list(cross_account_send_principals), cross_account_organization_id)

    def _allow_cross_account_send(self, principals: list[str], organization_id: str | None) -> None:
        iam_principals: list[iam.IPrincipal] = [
            iam.AccountPrincipal(principal) if principal.isdigit() else iam.ArnPrincipal(principal)
            for principal in principals
        ]
        conditions: dict[str, dict[str, str]] = {"Bool": {"aws:SecureTransport": "true"}}
        if organization_id is not None:
            conditions["StringEquals"] = {"aws:PrincipalOrgID": organization_id}
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CrossAccountSendOverTls",
                principals=iam_principals,
                actions=list(SEND_ACTIONS),
                resources=[self.queue_arn],
                conditions=conditions,
            )
        )
        if isinstance(self.encryption_key, kms.Key):
            # Only through SQS in this region: the principals cannot use the key directly.
            key_conditions = {"kms:ViaService": f"sqs.{Stack.of(self).region}.amazonaws.com"}
            if organization_id is not None:
                key_conditions["aws:PrincipalOrgID"] = organization_id
            self.encryption_key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CrossAccountSendThroughSqs",
                    principals=iam_principals,
                    actions=list(KMS_SEND_ACTIONS),
                    resources=["*"],
                    conditions={"StringEquals": key_conditions},
                )
            )

    def _acknowledge_findings(self, encryption: sqs.QueueEncryption) -> None:
        queues = [self.queue]
        if isinstance(self.dead_letter_queue, sqs.Queue) and self.dead_letter_queue.node.scope is self:
            queues.append(self.dead_letter_queue)
            compliance.acknowledge_nag(
                self.dead_letter_queue,
                "Serverless::Serverless-SQSRedrivePolicy",
                compliance.DEAD_LETTER_QUEUE_NO_REDRIVE,
            )
            cfn_dead_letter = self.dead_letter_queue.node.default_child
            assert isinstance(cfn_dead_letter, sqs.CfnQueue)
            # compliance.DEAD_LETTER_QUEUE_NO_REDRIVE
            compliance.ignore_cfn_lint(cfn_dead_letter, "ES6000")
        if encryption == sqs.QueueEncryption.SQS_MANAGED:
            for queue in queues:
                cfn_queue = queue.node.default_child
                assert isinstance(cfn_queue, sqs.CfnQueue)
                compliance.skip_checkov(cfn_queue, "CKV_AWS_27", compliance.SQS_MANAGED_SSE_CHECKOV_DEFECT)

    def redrive_statements(self) -> list[iam.PolicyStatement]:
        """Return the IAM statements that moving messages from the dead-letter queue back to this queue needs.

        On the dead-letter queue: ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``,
        ``sqs:ChangeMessageVisibility``, ``sqs:GetQueueAttributes`` and the message
        move task actions ``sqs:StartMessageMoveTask``, ``sqs:ListMessageMoveTasks``
        and ``sqs:CancelMessageMoveTask``. On this queue: ``sqs:SendMessage`` and
        ``sqs:GetQueueAttributes`` (to find the DLQ from the redrive policy).
        With a customer key: ``kms:GenerateDataKey`` and ``kms:Decrypt`` on it.
        Returns no statement when the queue has no dead-letter queue.
        """
        if self.dead_letter_queue is None:
            return []
        statements = [
            iam.PolicyStatement(
                actions=list(REDRIVE_DEAD_LETTER_ACTIONS), resources=[self.dead_letter_queue.queue_arn]
            ),
            iam.PolicyStatement(actions=list(REDRIVE_SOURCE_ACTIONS), resources=[self.queue_arn]),
        ]
        if self.encryption_key is not None:
            statements.append(
                iam.PolicyStatement(actions=list(KMS_SEND_ACTIONS), resources=[self.encryption_key.key_arn])
            )
        return statements

    def derive_visibility_timeout(self, seconds: int) -> None:
        """Raise the queue's visibility timeout to ``seconds`` unless the user set it.

        Called by each attached consumer; the largest derived value wins.
        """
        if self.visibility_timeout_given or seconds <= self._derived_visibility_seconds:
            return
        self._derived_visibility_seconds = seconds
        cfn_queue = self.queue.node.default_child
        assert isinstance(cfn_queue, sqs.CfnQueue)
        cfn_queue.visibility_timeout = seconds

    def _encryption_key(
        self, encryption: sqs.QueueEncryption, key: kms.IKey | None, removal_policy: RemovalPolicy
    ) -> kms.IKey | None:
        if encryption != sqs.QueueEncryption.KMS:
            return None
        if key is not None:
            return key
        key = kms.Key(
            self,
            "Key",
            description=f"Encrypts the messages of {self.node.path}",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        # CDK's default key policy lets the account administer the key, and IAM grants give the kit's
        # roles its use. This statement lets SQS use the key for work it starts itself, such as moving
        # a message to the dead-letter queue.
        # NOTE: not verified against AWS, because moto does not enforce KMS key policies.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSqsForThisAccount",
                principals=[iam.ServicePrincipal("sqs.amazonaws.com")],
                actions=list(KMS_SEND_ACTIONS),
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        return key

    def _dead_letter_queue(
        self, source_name: str, fifo: bool, encryption: sqs.QueueEncryption, retention: Duration
    ) -> sqs.Queue:
        name = dead_letter_name(source_name, fifo)
        # The ARN is built from the source queue's name: referencing the source
        # queue itself would make the two queues depend on each other.
        source_arn = Stack.of(self).format_arn(service="sqs", resource=source_name)
        return sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=name,
            fifo=fifo or None,
            retention_period=retention,
            encryption=encryption,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            redrive_allow_policy=sqs.RedriveAllowPolicy(
                redrive_permission=sqs.RedrivePermission.BY_QUEUE,
                source_queues=[sqs.Queue.from_queue_arn(self, "SourceQueueRef", source_arn)],
            ),
            removal_policy=self.removal_policy,
        )


def grant_send(grantee: iam.IGrantable, queue_arn: str, key: kms.IKey | None) -> iam.Grant:
    """Grant the send actions on one queue, and the KMS actions sending needs on its customer key."""
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=list(SEND_ACTIONS), resource_arns=[queue_arn])
    if key is not None:
        key.grant(grantee, *KMS_SEND_ACTIONS)
    return grant


def grant_consume(grantee: iam.IGrantable, queue_arn: str, key: kms.IKey | None) -> iam.Grant:
    """Grant the actions a Lambda SQS event source needs on one queue, and ``kms:Decrypt`` on its customer key."""
    grant = iam.Grant.add_to_principal(grantee=grantee, actions=list(CONSUME_ACTIONS), resource_arns=[queue_arn])
    if key is not None:
        key.grant(grantee, *KMS_CONSUME_ACTIONS)
    return grant


# CloudFormation's values for the enum members, which jsii names in upper case.
_CFN_VALUES = {
    "QUEUE": "queue",
    "MESSAGE_GROUP": "messageGroup",
    "PER_QUEUE": "perQueue",
    "PER_MESSAGE_GROUP_ID": "perMessageGroupId",
}


def _cfn_value(member: sqs.DeduplicationScope | sqs.FifoThroughputLimit | None) -> str | None:
    return None if member is None else _CFN_VALUES[member.name]


def _is_queue(value: object) -> bool:
    """Tell whether ``value`` is an SQS queue construct: jsii interfaces such as sqs.IQueue support no isinstance."""
    return isinstance(value, Construct) and hasattr(value, "queue_arn") and hasattr(value, "fifo")


def _queue_label(queue: sqs.IQueue) -> str:
    """Return a queue's name for messages, or its construct path when the name is not known at synth time."""
    cfn_queue = queue.node.default_child
    if isinstance(cfn_queue, sqs.CfnQueue) and cfn_queue.queue_name and not Token.is_unresolved(cfn_queue.queue_name):
        return cfn_queue.queue_name
    name = queue.queue_name
    return queue.node.path if Token.is_unresolved(name) else name


def _check_encryption(encryption: sqs.QueueEncryption, key: kms.IKey | None, checker: Checker) -> None:
    if encryption == sqs.QueueEncryption.UNENCRYPTED:
        checker.fail(
            "encryption",
            "UNENCRYPTED",
            "queues must be encrypted at rest",
            "Use SQS_MANAGED (the default), KMS_MANAGED or KMS.",
        )
    if key is not None and encryption != sqs.QueueEncryption.KMS:
        checker.fail(
            "encryption",
            encryption.name,
            "encryption_master_key is given, so encryption must be KMS",
            "Set encryption=QueueEncryption.KMS, or remove encryption_master_key.",
        )


def _queue_name(scope: Construct, requested_name: str | None, fifo: bool, *, reserve: int) -> str:
    """Return the physical queue name, with room for the dead-letter suffix when generated."""
    suffix = limits.FIFO_SUFFIX if fifo else ""
    if requested_name is not None:
        return requested_name
    max_length = limits.QUEUE_NAME_MAX_LENGTH - len(suffix) - reserve
    base = Names.unique_resource_name(scope, max_length=max_length, separator="-", allowed_special_characters="-_")
    return base + suffix
