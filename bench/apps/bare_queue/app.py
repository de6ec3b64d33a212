"""Baseline for the synth benchmark: a CDK app with one SQS queue and nothing else.

Run by bench/run.py with ``CDK_OUTDIR`` set; ``JSII_NODE`` picks the Node.js that jsii starts.
"""

from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs


def main() -> None:
    app = App()
    stack = Stack(app, "BenchBareQueue")
    sqs.Queue(stack, "Queue")
    app.synth()


if __name__ == "__main__":
    main()
