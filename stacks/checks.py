"""The cdk-nag packs that every synth of the kit's app runs."""

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks, ServerlessChecks


def add_nag_checks(app: App) -> None:
    """Register the AwsSolutions and Serverless packs on ``app``.

    cdk-nag 3 runs as a validation plugin, so an unacknowledged finding fails synth.
    """
    Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
