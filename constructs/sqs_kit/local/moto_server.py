"""Run moto's server with two corrections to its FIFO queues: ``python -m sqs_kit.local.moto_server``.

moto 5.2.5 keeps a received message in its "pending" set until the message is
received again or deleted, even after its visibility timeout has ended. When a
whole FIFO batch times out together, the next receive therefore skips the
first messages of the group, because the later ones still count as in flight,
and returns the last one first. SQS returns the group in order. This module
releases every message whose visibility timeout has ended before a receive
starts and each time moto lists a queue's visible messages, at the start of
every pass of a long poll. A group then counts as in flight exactly while one
of its messages is invisible, and a message released during a long poll waits
for the next receive rather than letting a later one of its group pass it.

moto's server also handles requests on several threads without a lock around
a receive. Two receives on one FIFO queue at the same moment both see no group
in flight, so the second can return the next message of a group the first has
just taken. SQS makes a receive atomic, so this module lets one receive at a
time run per queue.

``tests/functional/test_moto_fifo.py`` shows the first defect in plain moto,
so the correction can be removed when moto fixes it. The FIFO drill in
``tests/e2e/test_local_mixed.py`` checks the group order end to end.
"""

import sys
import threading
from collections import defaultdict
from typing import Any

import moto.sqs.models as sqs_models
from moto.server import main as moto_main


def release_expired(queue: Any) -> None:
    """Drop the messages whose visibility timeout has ended from a queue's in-flight set."""
    for message in [message for message in queue.pending_messages if message.visible]:
        queue.pending_messages.remove(message)


def apply_fifo_correction() -> None:
    """Patch moto's SQS backend: a group is in flight only while a message of it is invisible, one receive at a time."""
    original_receive = sqs_models.SQSBackend.receive_message
    locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
    locks_guard = threading.Lock()

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        with locks_guard:
            lock = locks[queue_name]
        with lock:
            # Released before moto computes the groups in flight, and again at each pass through ``messages``.
            release_expired(self.get_queue(queue_name))
            return original_receive(self, queue_name, *args, **kwargs)

    def messages(self: Any) -> list[Any]:
        # Each message's clock is read once. A message that turned visible between its release and the list
        # would still be pending. moto would then recompute the groups in flight halfway through a pass,
        # after it had already skipped an earlier message of the same group.
        visible = []
        for message in list(self._messages):
            if message.visible and not message.delayed:
                self.pending_messages.discard(message)
                visible.append(message)
        return visible

    # Patching moto's classes is the point here, so mypy's objection to assigning methods does not apply.
    sqs_models.SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    sqs_models.Queue.messages = property(messages)  # type: ignore[method-assign,assignment]


if __name__ == "__main__":
    apply_fifo_correction()
    moto_main(sys.argv[1:])
