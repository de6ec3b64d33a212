"""Comparison app for the synth benchmark: the dev app's shape built with AWS Solutions Constructs.

One queue with a dead-letter queue and a consumer function (``SqsToLambda``), and a
producer function that sends to the same queue (``LambdaToSqs``).

Both handlers import Powertools for AWS Lambda, so a function deployed from the bare
handler folder fails on its first import. The functions therefore ship what the dev
app's functions ship: each handler folder with its ``requirements.txt`` installed,
built by the same Docker-free bundling (``sqs_kit.bundling``). Only the bundling
comes from the kit. The queue, the functions, their roles and the event source
come from Solutions Constructs.
"""

import sys
from pathlib import Path

from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from aws_solutions_constructs.aws_lambda_sqs import LambdaToSqs
from aws_solutions_constructs.aws_sqs_lambda import SqsToLambda

REPOSITORY = Path(__file__).resolve().parents[3]
LAMBDA_ROOT = REPOSITORY / "lambda"
# .venv-bench does not install the kit, but its bundling module needs only aws-cdk-lib.
sys.path.insert(0, str(REPOSITORY / "constructs"))
from sqs_kit.bundling import python_code  # noqa: E402

# The dev app's runtime and architecture (constructs/sqs_kit/function.py).
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64


def function_props(folder: str) -> lambda_.FunctionProps:
    return lambda_.FunctionProps(
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler="handler.handler",
        code=python_code(LAMBDA_ROOT / folder, runtime=RUNTIME, architecture=ARCHITECTURE),
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
