"""The state file of a moto server left running by ``sqs-kit local --keep-running``.

Other commands (``sqs-kit redrive``) read ``.sqs-kit/local.json`` in the app
folder to find that server without an ``--endpoint`` option. The file is
written once the stacks are deployed and removed when the server stops.
"""

import contextlib
import datetime
import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .deploy import stack_names
from .server import LocalServerError, MotoServer, require_loopback

logger = logging.getLogger(__name__)

STATE_DIR_NAME = ".sqs-kit"
STATE_FILE_NAME = "local.json"


class StateFileError(LocalServerError):
    """The state file is missing, unreadable, or describes a server that is gone."""


@dataclass(frozen=True)
class LocalState:
    """A running local server: where clients reach it, its process id and the stacks deployed into it."""

    endpoint_url: str
    pid: int
    stacks: list[str]
    written_at: str


def state_path(app_dir: Path) -> Path:
    """Return the path of the state file of the app in ``app_dir``."""
    return app_dir / STATE_DIR_NAME / STATE_FILE_NAME


def write_state(app_dir: Path, *, endpoint_url: str, pid: int, stacks: Sequence[str]) -> Path:
    """Write the state file atomically and return its path. Raise ``LocalServerError`` for a non-loopback endpoint."""
    require_loopback(endpoint_url)
    state = LocalState(
        endpoint_url=endpoint_url,
        pid=pid,
        stacks=list(stacks),
        written_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )
    path = state_path(app_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A reader never sees half a file: the rename replaces the old file in one step.
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(state), indent=2) + "\n")
    partial.replace(path)
    logger.info("Wrote %s for the server at %s (pid %d)", path, endpoint_url, pid)
    return path


def read_state(app_dir: Path) -> LocalState:
    """Return the state of the running local server of ``app_dir``.

    Raise ``StateFileError`` when the file is missing or malformed, its process
    is no longer running, or its endpoint is not on a loopback address.
    """
    path = state_path(app_dir)
    try:
        raw = json.loads(path.read_text())
        state = LocalState(
            endpoint_url=str(raw["endpoint_url"]),
            pid=int(raw["pid"]),
            stacks=[str(name) for name in raw["stacks"]],
            written_at=str(raw["written_at"]),
        )
    except FileNotFoundError as error:
        raise StateFileError(
            f"No local server state file at {path}. Start one with `sqs-kit local --keep-running` "
            "or pass --endpoint URL."
        ) from error
    except (ValueError, KeyError, TypeError) as error:
        raise StateFileError(
            f"Invalid local server state file {path} ({error}). Delete it and restart `sqs-kit local --keep-running`."
        ) from error
    if not process_running(state.pid):
        raise StateFileError(
            f"Stale local server state file {path}: the server process {state.pid} written at {state.written_at} "
            "is not running. Delete the file, or restart `sqs-kit local --keep-running`."
        )
    try:
        require_loopback(state.endpoint_url)
    except LocalServerError as error:
        raise StateFileError(f"Invalid endpoint in {path}: {error}") from error
    return state


def clear_state(app_dir: Path) -> None:
    """Remove the state file of ``app_dir`` if it exists."""
    path = state_path(app_dir)
    path.unlink(missing_ok=True)
    logger.debug("Removed %s", path)


def process_running(pid: int) -> bool:
    """Return whether a process with ``pid`` exists on this machine."""
    if pid <= 0:
        return False
    try:
        # Signal 0 checks existence and permission without delivering anything.
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_pid(server: MotoServer) -> int:
    """Return the process id of a started ``MotoServer``. Raise ``StateFileError`` if it is not running."""
    # NOTE: MotoServer exposes no public pid yet, so this reads its private process handle.
    process = getattr(server, "_process", None)
    if process is None:
        raise StateFileError(f"The moto server at {server.endpoint_url} is not running; no state file written.")
    return int(process.pid)


@contextlib.contextmanager
def published_state(app_dir: Path, server: MotoServer, output_dir: Path) -> Iterator[Path]:
    """Write the state file of ``server`` for the duration of the ``with`` block, then remove it.

    ``output_dir`` is the cloud assembly that was deployed; its stacks are recorded.
    """
    stacks = stack_names(output_dir)
    path = write_state(app_dir, endpoint_url=server.endpoint_url, pid=server_pid(server), stacks=stacks)
    try:
        yield path
    finally:
        clear_state(app_dir)


__all__ = [
    "LocalState",
    "StateFileError",
    "clear_state",
    "process_running",
    "published_state",
    "read_state",
    "state_path",
    "write_state",
]
