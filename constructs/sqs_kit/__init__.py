"""CDK v2 constructs for Amazon SQS: a queue with its dead-letter queue, a producer and a consumer.

Every construct validates all of its props before it creates a resource and
raises ``SettingsError`` listing each invalid one.

The constructs are imported on first use, so that ``sqs_kit.local`` (the
``sqs-kit`` command) starts without loading aws-cdk-lib and its Node.js process.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .consumer import ConsumerFunction
    from .errors import Problem, SettingsError
    from .imported import ImportedQueue
    from .producer import ProducerFunction
    from .queue import KitQueue

_EXPORTS = {
    "ConsumerFunction": ".consumer",
    "ImportedQueue": ".imported",
    "KitQueue": ".queue",
    "Problem": ".errors",
    "ProducerFunction": ".producer",
    "SettingsError": ".errors",
}
__all__ = ["ConsumerFunction", "ImportedQueue", "KitQueue", "Problem", "ProducerFunction", "SettingsError"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sqs_kit' has no attribute '{name}'")
    return getattr(import_module(module, __name__), name)
