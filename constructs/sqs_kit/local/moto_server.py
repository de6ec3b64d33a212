"""Run moto's server with corrections to its queues: ``python -m sqs_kit.local.moto_server``.

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
time run per queue. The release above happens only inside that receive.
moto's receive adds a message to the in-flight set a moment before it makes the
message invisible. GetQueueAttributes also lists the visible messages, so a
release there could drop a message that was being received, and the next
receive would then return a later message of its group.

More races in moto 5.2.5 lose or revive messages on any queue, because only a
send holds the queue's message lock. A delete rebuilds the message list, so a
message sent during a delete can vanish. Of two deletes at once, the later one
can put back the message that the earlier one deleted. A receive that moves a
message to the dead-letter queue removes it from the list while a delete may be
rebuilding it, which loses or duplicates messages. So receives, deletes,
visibility changes and purges here take that lock too. A long poll releases it
while it waits, and it waits on the lock's condition in short slices rather than
re-reading the queue in a busy loop, which moto does while every visible message
belongs to a group in flight.

``tests/functional/test_moto_fifo.py`` shows the first defect in plain moto, so
that correction can be removed when moto fixes it. The same file checks that
each locked operation waits for the lock. The FIFO drill in
``tests/e2e/test_local_mixed.py`` checks the group order end to end.
"""

import sys
import threading
from collections import defaultdict
from typing import Any

import moto.sqs.models as sqs_models
from moto.server import main as moto_main

# How long a long poll waits on the queue's lock before it looks at the queue again.
LONG_POLL_SLICE_SECONDS = 0.05


def release_expired(queue: Any) -> None:
    """Drop the messages whose visibility timeout has ended from a queue's in-flight set."""
    for message in [message for message in queue.pending_messages if message.visible]:
        queue.pending_messages.discard(message)


def apply_fifo_correction() -> None:
    """Patch moto's SQS backend so that receives are atomic and every change to a message list takes its lock.

    A FIFO group then counts as in flight exactly while one of its messages is
    invisible, and no two requests change a queue's message list at once.
    """
    original_receive = sqs_models.SQSBackend.receive_message
    original_change_visibility = sqs_models.SQSBackend.change_message_visibility
    original_purge = sqs_models.SQSBackend.purge_queue
    original_delete = sqs_models.Queue.delete_message
    locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
    locks_guard = threading.Lock()
    # The queue whose receive this thread runs, if any. Only that receive may release the queue's messages.
    receiving = threading.local()

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        with locks_guard:
            lock = locks[queue_name]
        with lock:
            queue = self.get_queue(queue_name)
            # The message lock is reentrant, and a long poll's wait_for_messages releases it while it waits.
            with queue._messages_lock:
                # Released before moto computes the groups in flight, and again at each pass through ``messages``.
                release_expired(queue)
                outer = getattr(receiving, "queue", None)
                receiving.queue = queue
                try:
                    return original_receive(self, queue_name, *args, **kwargs)
                finally:
                    # A receive can nest, through a dead-letter queue's event source mapping.
                    receiving.queue = outer

    def messages(self: Any) -> list[Any]:
        # Each message's clock is read once. A message that turned visible between its release and the list
        # would still be pending. moto would then recompute the groups in flight halfway through a pass,
        # after it had already skipped an earlier message of the same group.
        releasing = getattr(receiving, "queue", None) is self
        visible = []
        for message in list(self._messages):
            if message.visible and not message.delayed:
                if releasing:
                    self.pending_messages.discard(message)
                visible.append(message)
        return visible

    def wait_for_messages(self: Any, timeout: int) -> None:
        # A send wakes the wait at once. Messages whose visibility timeout ends, and groups that leave
        # flight, are seen on the next pass, at most one slice later.
        with self._messages_lock:
            self._messages_lock.wait(timeout=min(timeout, LONG_POLL_SLICE_SECONDS))

    def delete_message(self: Any, receipt_handle: str) -> None:
        with self._messages_lock:
            original_delete(self, receipt_handle)

    def change_message_visibility(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> None:
        with self.get_queue(queue_name)._messages_lock:
            original_change_visibility(self, queue_name, *args, **kwargs)

    def purge_queue(self: Any, queue_name: str) -> None:
        with self.get_queue(queue_name)._messages_lock:
            original_purge(self, queue_name)

    # Patching moto's classes is the point here, so mypy's objection to assigning methods does not apply.
    sqs_models.SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    sqs_models.SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
    sqs_models.SQSBackend.purge_queue = purge_queue  # type: ignore[method-assign]
    sqs_models.Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    sqs_models.Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]
    sqs_models.Queue.delete_message = delete_message  # type: ignore[method-assign]


if __name__ == "__main__":
    apply_fifo_correction()
    moto_main(sys.argv[1:])
