"""CDK v2 constructs for Amazon SQS: a queue with its dead-letter queue, a producer and a consumer.

Every construct validates all of its props before it creates a resource and
raises ``SettingsError`` listing each invalid one.
"""

from .consumer import ConsumerFunction
from .errors import Problem, SettingsError
from .imported import ImportedQueue
from .producer import ProducerFunction
from .queue import KitQueue

__all__ = ["ConsumerFunction", "ImportedQueue", "KitQueue", "Problem", "ProducerFunction", "SettingsError"]
