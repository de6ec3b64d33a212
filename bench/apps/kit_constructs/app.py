"""Comparison app for the synth benchmark: the Solutions Constructs app's shape built from the kit's constructs.

One ``KitQueue`` (queue and dead-letter queue), a ``ProducerFunction`` and a
``ConsumerFunction`` on it, with the dev config's settings, in a plain CDK app.
Unlike the dev app it reads no YAML, runs no cdk-nag and creates no alarms,
topic, dashboard, SSM parameters or outputs. It measures what the construct
library costs a user who installs it into their own app.
"""

from pathlib import Path

from aws_cdk import App, Duration, RemovalPolicy, Stack

from sqs_kit import ConsumerFunction, KitQueue, ProducerFunction

LAMBDA_ROOT = Path(__file__).resolve().parents[3] / "lambda"


def main() -> None:
    app = App()
    stack = Stack(app, "BenchKitConstructs")
    queue = KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY, retention_period=Duration.days(4))
    ProducerFunction(stack, "OrdersProducer", queue=queue, code_path=str(LAMBDA_ROOT / "producer"))
    ConsumerFunction(
        stack,
        "OrdersConsumer",
        queue=queue,
        code_path=str(LAMBDA_ROOT / "consumer"),
        timeout=Duration.seconds(30),
        batch_size=10,
        max_concurrency=10,
    )
    app.synth()


if __name__ == "__main__":
    main()
