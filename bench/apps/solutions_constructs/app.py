"""Comparison app for the synth benchmark: the dev app's shape built with AWS Solutions Constructs.

One queue with a dead-letter queue and a consumer function (``SqsToLambda``), and a
producer function that sends to the same queue (``LambdaToSqs``). The functions use
the repository's handler folders as plain assets: unlike the dev app, nothing is
pip-installed into them, so this app does no dependency bundling.
"""

from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_solutions_constructs.aws_lambda_sqs import LambdaToSqs
from aws_solutions_constructs.aws_sqs_lambda import SqsToLambda

LAMBDA_ROOT = Path(__file__).resolve().parents[3] / "lambda"
# The dev app's runtime and architecture (constructs/sqs_kit/function.py).
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64


def function_props(folder: str) -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler="handler.handler",
        code=lambda_.Code.from_asset(str(LAMBDA_ROOT / folder)),
        memory_size=256,
    )


def main() -> None:
    app = App()
    stack = Stack(app, "BenchSolutionsConstructs")
    consumer = SqsToLambda(stack, "Orders", lambda_function_props=function_props("consumer"))
    LambdaToSqs(
        stack,
        "OrdersProducer",
        lambda_function_props=function_props("producer"),
        existing_queue_obj=consumer.sqs_queue,
    )
    app.synth()


if __name__ == "__main__":
    main()
