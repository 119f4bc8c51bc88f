#!/usr/bin/env python3
"""The local stack behind `make run`: the whole site on one machine, no AWS account.

    AWS emulator (moto, in-process, one request at a time) on 127.0.0.1:EMULATOR_PORT
    the table, created from chalicelib.db.schema; restored from .local/ or seeded
    `chalice local --stage local` on a free loopback port (a child process)
    the email outbox drain (chalicelib.mail.outbox), every second
    the local edge on http://127.0.0.1:PORT/: /api and /g/*/waiver to the app,
        the rest to spa/, emails sent at /_dev/outbox

Data entered survives Ctrl-C and the next `make run`: the table and the emails
sent are snapshotted to LOCAL_DATA_DIR (default .local/, git-ignored) within
about a second of each change, and once more on the way out.

Settings (environment): PORT (8000), EMULATOR_PORT (4566), LOCAL_ADMIN_PASSWORD
(default "shipcaptaincrew"), LOCAL_CAPTAIN_PASSWORD and LOCAL_CREW_PASSWORD (the demo
captain `maria` and crew `sam`, local only), LOCAL_DATA_DIR (.local).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from scripts import emulator, ledger_index, local_edge, seed

ROOT = Path(__file__).resolve().parents[1]

# The local-only default, printed at start: the emulator holds nothing real.
DEFAULT_PASSWORD = "shipcaptaincrew"  # noqa: S105
REGION = "us-east-1"
# boto3 gives AWS_ENDPOINT_URL_<SERVICE> precedence over AWS_ENDPOINT_URL, and
# `chalice local` overwrites AWS_ENDPOINT_URL with the config's (port 4566):
# these make every client the app may build use the emulator on our port.
ENDPOINT_SERVICES = (
    "DYNAMODB",
    "DYNAMODB_STREAMS",
    "SES",
    "SESV2",
    "SECRETS_MANAGER",
    "S3",
    "STS",
    "SNS",
    "SQS",
    "CLOUDWATCH_LOGS",
    "CLOUDFRONT",
    "LAMBDA",
)
APP_START_TIMEOUT = 90.0
# A tiny launcher for `chalice local`: it asks Linux to SIGTERM the child when
# this process dies, however it dies (even SIGKILL), so no stray server keeps a port.
CHILD_LAUNCHER = """
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
os.execv(sys.argv[2], sys.argv[2:])
"""


def say(message: str) -> None:
    print(f"[stack] {message}", flush=True)


class StopRequested(Exception):
    """Ctrl-C or SIGTERM arrived while the stack was still starting."""


class StartupError(Exception):
    """Something the user can fix stopped the stack from starting (message says what)."""


def aws_environment(endpoint: str) -> dict[str, str]:
    """Fake credentials and the emulator's endpoint for every AWS client we or the app make."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        # A developer's ~/.aws files (profiles, endpoints) must not leak into the stack.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    env.update({f"AWS_ENDPOINT_URL_{service}": endpoint for service in ENDPOINT_SERVICES})
    return env


def clean_parent_environment(env: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Drop settings that would point boto3 at a real account or away from the emulator."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        env.pop(name, None)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def token_signing_key(path: Path) -> str:
    """The local token key, kept so crew stay logged in across restarts."""
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= 32:
            return key
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n", encoding="utf-8")
    path.chmod(0o600)
    return key


def admin_password_hash(password: str) -> str:
    import bcrypt

    raw = password.encode("utf-8")
    if len(raw) > 72:
        raise StartupError(
            "LOCAL_ADMIN_PASSWORD is over 72 bytes, bcrypt's limit: choose a shorter one."
        )
    return bcrypt.hashpw(raw, bcrypt.gensalt()).decode()


def wait_until_healthy(url: str, child: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise StartupError(
                f"chalice local exited (code {child.returncode}) while starting: see its output above."
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise StartupError(f"chalice local did not answer {url} within {timeout:.0f}s.")


def _scheduled_round(limit: int = 25) -> int:
    """What the scheduled Lambda does each minute: flag overdue trips, send what is due."""
    from chalicelib.dock import manifest
    from chalicelib.mail import outbox

    manifest.flag_overdue_trips(limit=limit)
    return outbox.drain_outbox(limit=limit)


class OutboxDrain:
    """Sends pending emails (and flags overdue trips) every second, as the scheduled
    Lambda does every minute on AWS.

    A failure is logged once (not every second) and the next tick tries again.
    """

    def __init__(self, interval: float = 1.0, drain: Callable[..., int] | None = None) -> None:
        self.interval = interval
        self._drain = drain
        self._last_problem = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-drain", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.wait(self.tick()):
            pass

    def tick(self) -> float:
        """One round: send what is pending; returns the pause."""
        try:
            if self._drain is None:
                self._drain = _scheduled_round
                say("email drain: on (every second), with the overdue-trip check")
            sent = self._drain(limit=25)
            if sent:
                say(f"email drain: sent {sent} email(s); see /_dev/outbox")
            self._last_problem = ""
        except Exception as exc:  # keep going: the next tick retries
            problem = f"{type(exc).__name__}: {exc}"
            if problem != self._last_problem:
                say(f"email drain failed (retrying every second): {problem}")
                self._last_problem = problem
        return self.interval


class Stack:
    """Every piece of the running stack, so shutdown stops exactly what started."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data_dir: Path = args.data_dir
        self.stop_event = threading.Event()
        self.starting = True
        self.lock_file: Any = None
        self.emulator: emulator.Emulator | None = None
        self.persister: emulator.Persister | None = None
        self.outbox: emulator.Outbox | None = None
        self.app: subprocess.Popen | None = None
        self.drain: OutboxDrain | None = None
        self.edge: local_edge.EdgeServer | None = None

    # --- signals ------------------------------------------------------------------

    def on_signal(self, signum: int, _frame: Any) -> None:
        if self.stop_event.is_set():
            say("still stopping ...")
            return
        self.stop_event.set()
        if self.starting:
            raise StopRequested()

    # --- start --------------------------------------------------------------------

    def start(self) -> None:
        args = self.args
        stage_env = seed.local_stage_env()
        table_name = stage_env.get("TABLE_NAME", "shipcaptaincrew-local")
        password = os.environ.get("LOCAL_ADMIN_PASSWORD") or DEFAULT_PASSWORD

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_data_dir()

        # Bind both ports first: a busy port is reported before anything starts.
        say(f"Starting the AWS emulator (moto) on 127.0.0.1:{args.emulator_port} ...")
        try:
            self.emulator = emulator.Emulator(args.emulator_port)
        except OSError as exc:
            raise StartupError(
                f"Port {args.emulator_port} for the AWS emulator is busy ({exc.strerror}). "
                "Is another emulator or `make run` running? Choose another: EMULATOR_PORT=4577 make run"
            ) from None
        endpoint = self.emulator.url
        api_port = free_port()
        edge_app = local_edge.Edge(
            api_port,
            ROOT / "spa",
            emails=self.emails,
            tz_name=stage_env.get("OPERATOR_TZ", "America/Los_Angeles"),
        )
        try:
            self.edge = local_edge.EdgeServer(edge_app, args.port)
        except OSError as exc:
            raise StartupError(
                f"Port {args.port} for the site is busy ({exc.strerror}). "
                f"Is another `make run` running? Choose another: PORT={args.port + 1} make run"
            ) from None
        self.emulator.start()

        # This process talks to the emulator too (table, seed, email drain).
        aws_env = aws_environment(endpoint)
        os.environ.update({**stage_env, **aws_env})
        clean_parent_environment(os.environ)
        from botocore.exceptions import ClientError

        from chalicelib import aws, config
        from chalicelib.db import schema

        aws.reset()
        config.reset()
        client = aws.dynamodb()

        if table_name in client.list_tables()["TableNames"]:
            say(f"Table {table_name} exists")
        else:
            say(f"Creating table {table_name} ...")
            schema.create_table(client, table_name)

        ses = aws.client("ses")
        identities = [config.sender_email(), *config.crew_notify_emails()]
        for address in identities:
            ses.verify_email_identity(EmailAddress=address)
        say(f"Verified SES sender identities: {', '.join(identities)}")

        table_path = self.data_dir / "table.json"
        self.outbox = emulator.Outbox(self.data_dir / "outbox.json")
        try:
            restored = emulator.restore_table(client, table_name, table_path)
            kept_emails = self.outbox.load()
        except (ValueError, OSError, KeyError, ClientError) as exc:
            raise StartupError(
                f"Could not read the saved data in {self.data_dir}: {exc}. "
                "Move it away or start fresh with --reset."
            ) from None
        if restored:
            say(f"Restored {restored} items from {table_path}")
            # A snapshot saved before the cash-up's day index: put its ledger on it.
            indexed = ledger_index.index_ledger_days(client, table_name)
            if indexed:
                say(f"Put {indexed} earlier ledger entries on the cash-up's day index")
        if kept_emails:
            say(f"Restored {kept_emails} sent emails from {self.outbox.path}")

        self.persister = emulator.Persister(
            self.emulator, client, table_name, table_path, self.outbox, log=say
        )
        self.persister.start()

        logins: list[tuple[str, str, str]] = []
        if not args.no_seed:
            try:
                logins = seed.seed_accounts()
            except Exception as exc:  # the owner's login still works without them
                say(f"Could not seed the demo logins ({type(exc).__name__}: {exc})")

        if args.no_seed:
            say("Not seeding (--no-seed)")
        elif seed.has_events(client, table_name):
            say("Events exist: not seeding demo data")
        else:
            try:
                created = seed.seed_demo_week()
                say(f"Seeded {len(created)} demo trips for the coming week")
            except Exception as exc:  # the stack is still useful without demo data
                say(
                    f"Could not seed the demo week ({type(exc).__name__}: {exc}); going on without it"
                )

        say(f"Starting chalice local --stage local on 127.0.0.1:{api_port} ...")
        child_env = dict(clean_parent_environment(dict(os.environ)))
        child_env.update(
            {
                **aws_env,
                "ADMIN_PASS_HASH": admin_password_hash(password),
                "TOKEN_SIGNING_KEY": token_signing_key(self.data_dir / "token-key"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.app = self._start_app(api_port, child_env)
        wait_until_healthy(f"http://127.0.0.1:{api_port}/api/health", self.app, APP_START_TIMEOUT)

        self.drain = OutboxDrain()
        self.drain.start()
        self.edge.start()
        self.starting = False
        say("")
        say(f"Ship Captain Crew is running at {self.edge.url}")
        say(f"  admin password: {password}  (owner: leave the username empty)")
        for username, role, login_password in logins:
            label = f"{role} login:"
            say(f"  {label:<16}{username} / {login_password}  (local only)")
        say(f"  emails sent:    {self.edge.url}_dev/outbox")
        say(f"  data kept in:   {self.data_dir}/  (Ctrl-C stops; data survives)")

    def _lock_data_dir(self) -> None:
        """One stack per data directory: two would overwrite each other's snapshots."""
        self.lock_file = (self.data_dir / ".lock").open("a+")
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(
                f"Another local stack is using {self.data_dir}/: stop it first "
                "(or give this one LOCAL_DATA_DIR=<another dir>)."
            ) from None

    def _start_app(self, port: int, env: dict[str, str]) -> subprocess.Popen:
        chalice = Path(sys.executable).parent / "chalice"
        if not chalice.exists():
            found = shutil.which("chalice")
            if not found:
                raise StartupError("chalice is not installed in this virtualenv: run `make run`.")
            chalice = Path(found)
        command = [
            sys.executable,
            "-c",
            CHILD_LAUNCHER,
            str(os.getpid()),
            str(chalice),
            "--project-dir",
            str(ROOT),
            "local",
            "--stage",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-autoreload",
        ]
        # The child ignores SIGINT (the disposition is inherited): Ctrl-C reaches the
        # whole terminal group, and this process stops the child itself, in order.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            return subprocess.Popen(command, cwd=ROOT, env=env)
        finally:
            signal.signal(signal.SIGINT, previous)

    def emails(self) -> list[dict[str, Any]]:
        """The outbox for /_dev/outbox: persisted ones plus any the emulator just got."""
        if self.outbox is None or self.emulator is None:
            return []
        self.outbox.add(self.emulator.take_new_emails())
        return self.outbox.newest_first()

    # --- run and stop ---------------------------------------------------------------

    def wait(self) -> int:
        """Until Ctrl-C/SIGTERM (0), or until the app dies on its own (1)."""
        while not self.stop_event.wait(0.5):
            if self.app is not None and self.app.poll() is not None:
                say(f"chalice local stopped unexpectedly (exit {self.app.returncode}): stopping")
                return 1
        return 0

    def close(self) -> None:
        """Stop everything that started, newest first, with a final snapshot."""
        self.starting = False
        if self.edge is not None:
            self.edge.stop()
        if self.drain is not None:
            self.drain.stop()
        if self.app is not None and self.app.poll() is None:
            self.app.terminate()
            try:
                self.app.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.wait(timeout=5)
        if self.persister is not None:
            self.persister.stop()
            try:
                self.persister.flush(force=True)
                say(f"Saved the data to {self.data_dir}/")
            except Exception as exc:
                say(f"Could not save the final snapshot: {exc}")
        if self.emulator is not None:
            self.emulator.stop()
        if self.lock_file is not None:
            self.lock_file.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Run Ship Captain Crew locally: AWS emulator, demo data, chalice local "
        "and the site at http://127.0.0.1:PORT/. Ctrl-C stops it; data survives.",
        epilog="Environment: PORT, EMULATOR_PORT, LOCAL_ADMIN_PASSWORD, LOCAL_DATA_DIR.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=os.environ.get("PORT") or "8000",
        help="the site's port on 127.0.0.1 (default: $PORT or 8000)",
    )
    parser.add_argument(
        "--emulator-port",
        type=int,
        default=os.environ.get("EMULATOR_PORT") or str(emulator.DEFAULT_PORT),
        help="the AWS emulator's port (default: $EMULATOR_PORT or 4566)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("LOCAL_DATA_DIR") or ROOT / ".local"),
        help="where the data is kept between runs (default: $LOCAL_DATA_DIR or .local/)",
    )
    parser.add_argument("--no-seed", action="store_true", help="do not add the demo week")
    parser.add_argument(
        "--reset",
        action="store_true",
        help="forget the saved trips, payments, waivers and emails first (asks to confirm)",
    )
    parser.add_argument("--yes", action="store_true", help="do not ask before --reset")
    return parser.parse_args(argv)


def reset_data(data_dir: Path, assume_yes: bool) -> bool:
    saved = [data_dir / "table.json", data_dir / "outbox.json"]
    present = [path for path in saved if path.exists()]
    if not present:
        return True
    if not assume_yes:
        answer = input(f"Delete {', '.join(str(p) for p in present)}? Type 'yes': ").strip()
        if answer.lower() != "yes":
            print("Kept the data; not starting.")
            return False
    for path in present:
        path.unlink()
    say("Deleted the saved local data")
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for name, port in (
        ("--port/PORT", args.port),
        ("--emulator-port/EMULATOR_PORT", args.emulator_port),
    ):
        if not 0 < port < 65536:
            print(f"{name} must be a port number (1-65535), not {port}.")
            return 2
    if args.port == args.emulator_port:
        print("PORT and EMULATOR_PORT must differ.")
        return 2
    args.data_dir = args.data_dir.resolve()
    if args.reset:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        if not reset_data(args.data_dir, args.yes):
            return 1

    stack = Stack(args)
    signal.signal(signal.SIGINT, stack.on_signal)
    signal.signal(signal.SIGTERM, stack.on_signal)
    code = 0
    try:
        stack.start()
        code = stack.wait()
    except StopRequested:
        say("Stopping (interrupted while starting) ...")
    except StartupError as error:
        say(str(error))
        code = 1
    finally:
        say("Stopping ...")
        stack.close()
        say("Stopped.")
    return code


if __name__ == "__main__":
    sys.exit(main())
