"""Start and stop a moto server on loopback, and build AWS clients and environments that only reach it.

Every AWS call the local tooling makes, in this process or a child, goes to the
endpoint built here, with fake credentials. ``require_loopback`` rejects any
other endpoint before a client or environment exists.
"""

import ipaddress
import logging
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

logger = logging.getLogger(__name__)

# moto's default account, which `cdk bootstrap` targets explicitly.
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_REGION = "us-east-1"
BIND_HOST = "127.0.0.1"
# Clients must use the host name "localhost", because moto's CloudFormation reads a template URL
# path-style only when the URL contains that name.
CLIENT_HOST = "localhost"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# A path this package never creates, so no real profile, role or SSO session can be loaded.
MISSING_AWS_FILE = str(Path(tempfile.gettempdir()) / "sqs-kit-no-aws-profile" / "absent")
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
LOOPBACK_NAMES = ("localhost",)


class LocalServerError(RuntimeError):
    """The moto server could not start, or an endpoint is not on this machine."""


def require_loopback(endpoint_url: str) -> None:
    """Raise ``LocalServerError`` unless ``endpoint_url`` is an http URL on a loopback address."""
    parsed = urllib.parse.urlsplit(endpoint_url)
    host = parsed.hostname or ""
    if parsed.scheme == "http" and host in LOOPBACK_NAMES:
        return
    try:
        if parsed.scheme == "http" and ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise LocalServerError(
        f"Invalid local endpoint {endpoint_url!r}: sqs-kit only talks to http://localhost:PORT or a loopback address. "
        "Start the server with `sqs-kit local` and use the endpoint it prints."
    )


def local_aws_environment(endpoint_url: str, base: Mapping[str, str]) -> dict[str, str]:
    """Return a copy of ``base`` whose AWS settings can only reach ``endpoint_url``, with fake credentials.

    Every inherited ``AWS_*`` variable is dropped first, so a profile, role,
    container or web-identity credential of the caller never reaches a child.
    """
    require_loopback(endpoint_url)
    environment = {name: value for name, value in base.items() if not name.startswith("AWS_")}
    environment.update(FAKE_CREDENTIALS)
    environment.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_REGION": LOCAL_REGION,
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "AWS_CONFIG_FILE": MISSING_AWS_FILE,
            "AWS_SHARED_CREDENTIALS_FILE": MISSING_AWS_FILE,
            # Credentials are explicit, but an SDK may still probe the instance metadata address otherwise.
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    bypass = {"localhost", "127.0.0.1", "::1"}
    for name in ("NO_PROXY", "no_proxy"):
        existing = {item for item in environment.get(name, "").split(",") if item}
        environment[name] = ",".join(sorted(existing | bypass))
    return environment


def aws_client(service: str, endpoint_url: str) -> Any:
    """Return a boto3 client for ``service`` bound to the local endpoint, with fake credentials."""
    require_loopback(endpoint_url)
    # A session of its own: the default session would read AWS_PROFILE and the shared config of this process.
    session = boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=LOCAL_REGION,
    )
    return session.client(service, endpoint_url=endpoint_url)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    # NOTE: another process may take the port between this check and moto's bind; startup then fails clearly.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((BIND_HOST, 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """A ``moto_server`` child process bound to 127.0.0.1, stopped on exit from its ``with`` block.

    A separate process rather than ``ThreadedMotoServer``: the CDK CLI and the
    function workers reach it over HTTP anyway, and its state then dies with it.
    """

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.endpoint_url = f"http://{CLIENT_HOST}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file = tempfile.NamedTemporaryFile(prefix="sqs-kit-moto-", suffix=".log", delete=False)  # noqa: SIM115

    @property
    def log_path(self) -> Path:
        """Path of the file that receives the server's own output."""
        return Path(self._log_file.name)

    def start(self) -> None:
        """Start the server and wait until it responds. Raise ``LocalServerError`` if it exits or times out."""
        # The wrapper corrects moto's FIFO group order after a visibility timeout (see moto_server.py).
        command = [sys.executable, "-m", "sqs_kit.local.moto_server", "--host", BIND_HOST, "--port", str(self.port)]
        logger.info("Starting moto server on %s:%d", BIND_HOST, self.port)
        # A new session keeps Ctrl-C away from the server, so this process decides when it stops.
        self._process = subprocess.Popen(
            command, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        # Proxies are bypassed: the request must reach this machine's server.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise LocalServerError(
                    f"moto server exited with code {self._process.returncode} while starting on port {self.port} "
                    f"(is the port in use? pick another with --port):\n{self.log_tail()}"
                )
            try:
                with opener.open(f"{self.endpoint_url}/moto-api/config", timeout=1):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise LocalServerError(
            f"moto server did not respond on {self.endpoint_url} within {STARTUP_TIMEOUT_SECONDS:.0f} s:\n"
            f"{self.log_tail()}"
        )

    def log_tail(self, lines: int = 20) -> str:
        """Return the last ``lines`` lines the server wrote."""
        self._log_file.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL after a grace period. Safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        logger.info("Stopping moto server (pid %d)", process.pid)
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning(
                "moto server (pid %d) ignored SIGTERM for %.0f s; killing it", process.pid, STOP_TIMEOUT_SECONDS
            )
            process.kill()
            process.wait()

    def wait(self) -> None:
        """Block until the server exits, for ``--keep-running``."""
        if self._process is not None:
            self._process.wait()

    def __enter__(self) -> "MotoServer":
        try:
            self.start()
        except BaseException:
            # Includes Ctrl-C while waiting: the child must not outlive a failed start.
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
        self._log_file.close()
        if exc is None:
            self.log_path.unlink(missing_ok=True)
        else:
            logger.info("moto server output kept in %s", self.log_path)


__all__ = [
    "LOCAL_ACCOUNT_ID",
    "LOCAL_REGION",
    "LocalServerError",
    "MotoServer",
    "aws_client",
    "local_aws_environment",
    "require_loopback",
]
