#!/usr/bin/env python3
"""The go-live of docs/deploy.md, rehearsed from nothing on the embedded emulator.

    make rehearse            # or: .venv/bin/python scripts/rehearse.py [--keep]

A scratch copy of this commit (git archive HEAD, as a fresh clone has it) is deployed
to an empty emulated AWS account (scripts/emulator.py, moto's server on loopback, with
the gaps a go-live needs filled: scripts/emulator_gaps.py), following deploy.md's
steps with its own commands, each a separate process, as an operator types them:

1. the settings (stage_settings.py --offline for each stage), committed;
2. SES: the sender verified and production access asked for (the two `aws sesv2`
   commands, made through boto3: the AWS CLI is not a dependency of the project);
3. bootstrap staging (the crew password on stdin, --yes);
4. deploy staging: preflight, settings, `chalice deploy` itself (pointed at the
   emulator; the Lambda dependencies come from a wheelhouse rebuilt from this
   virtualenv, as there is no network), the authorizer answer, the routing
   (configure_cloudfront.py), the page's push, smoke, marked tested;
5. bootstrap prod, with no new commit; 6. deploy prod (promote), with the same
   evidence and verify_deploy;
7. a second commit deployed to staging, then `deploy.py rollback` puts the first one
   back, and the deploy history (the deployed state kept in the site bucket) says so.

It ends with PASS or FAIL and the step that failed. Nothing leaves the machine: the
emulator listens on 127.0.0.1, and AWS credentials and profiles of the operator are
replaced by the emulator's.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from scripts import use_repo_venv

    use_repo_venv(__file__)

from packaging.requirements import Requirement

from scripts import awstools, rehearsal_site
from scripts import emulator as emulator_module
from scripts.emulator import Emulator

PASSWORD = "rehearsal-crew-password-42"  # noqa: S105 (the emulator's throwaway stage)
SENDER = "dispatch@shipcaptaincrew.example"


# --- the Lambda's dependencies, offline ---------------------------------------------------


def requirement_names(requirements: Path) -> list[str]:
    names = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0])
    return names


def _with_dependencies(names: list[str]) -> list[str]:
    """The requirements and what they need (Jinja2 needs MarkupSafe), as installed."""
    seen: list[str] = []
    todo = list(names)
    while todo:
        name = todo.pop()
        key = name.lower().replace("_", "-")
        if key in (n.lower().replace("_", "-") for n in seen):
            continue
        seen.append(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def rebuild_wheel(name: str, into: Path) -> Path:
    """A wheel of an installed distribution, from its files and its RECORD.

    pip (which Chalice runs) then finds it with PIP_FIND_LINKS and no index.
    """
    dist = metadata.distribution(name)
    tags = [
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    ]
    parts = [sorted({tag.split("-")[i] for tag in tags}) for i in range(3)]
    tag = "-".join(".".join(p) for p in parts) if tags else "py3-none-any"
    project = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    path = into / f"{project}-{dist.version}-{tag}.whl"
    base = Path(str(dist.locate_file("")))
    rows = []
    record = ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for file in dist.files or []:
            rel = str(file)
            if rel.endswith(".dist-info/RECORD"):
                record = rel
                continue
            skip = ("INSTALLER", "REQUESTED", "direct_url.json", ".pyc")
            if rel.startswith("..") or "__pycache__" in rel or rel.endswith(skip):
                continue
            data = (base / rel).read_bytes()
            wheel.writestr(rel, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            rows.append((rel, f"sha256={digest.decode()}", str(len(data))))
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerows([*rows, (record, "", "")])
        wheel.writestr(record, text.getvalue())
    return path


def wheelhouse(requirements: Path, into: Path) -> list[str]:
    into.mkdir(parents=True, exist_ok=True)
    return [
        rebuild_wheel(name, into).name
        for name in _with_dependencies(requirement_names(requirements))
    ]


# --- the run ------------------------------------------------------------------------------


@dataclass
class Rehearsal:
    root: Path
    env: dict[str, str]
    log: list[str]
    sites: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def run(
        self,
        title: str,
        command: list[str],
        stdin: str = "",
        expect: str = "",
        retry_seconds: float = 0,
    ) -> None:
        """One of deploy.md's commands, as a process of its own; fails the rehearsal.

        `retry_seconds`: run again until it passes (what the operator does when
        verify_deploy says an email is still pending).
        """
        deadline = time.monotonic() + retry_seconds
        while True:
            try:
                self._once(title, command, stdin, expect)
                return
            except Failed:
                if time.monotonic() >= deadline:
                    raise
                awstools.detail("not yet: again in 3 s")
                time.sleep(3)

    def _once(self, title: str, command: list[str], stdin: str, expect: str) -> None:
        shown = " ".join(command)
        awstools.step(f"{title}: {shown}")
        started = time.monotonic()
        done = subprocess.run(
            command,
            cwd=self.root,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        output = (done.stdout + done.stderr).rstrip()
        self.log.append(f"$ {shown}\n{output}\n")
        for line in output.splitlines()[-12:]:
            awstools.detail(f"| {line}")
        awstools.detail(f"({time.monotonic() - started:.1f} s, exit {done.returncode})")
        if "Could not install dependencies" in output:
            note = (
                "chalice deploy packaged the functions without a dependency it could not "
                "find offline (see the log): this virtualenv's wheel does not suit Lambda's "
                "runtime. The rehearsal runs the functions from source, so it cannot tell; "
                "a real `chalice deploy` downloads a suitable wheel"
            )
            if note not in self.notes:
                self.notes.append(note)
        if done.returncode != 0:
            raise Failed(f"{title} failed (exit {done.returncode}): {shown}")
        if expect and expect not in output:
            raise Failed(f"{title}: {expect!r} is not in its output")

    def script(self, title: str, name: str, *args: str, **options: Any) -> None:
        self.run(title, [sys.executable, f"scripts/{name}.py", *args], **options)

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=Rehearsal", "-c", "user.email=rehearsal@example.org", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()


class Failed(Exception):
    pass


def export_worktree(into: Path) -> None:
    """This checkout's tracked files as they are now, uncommitted changes included."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=awstools.REPO_ROOT, capture_output=True, check=True
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        source = awstools.REPO_ROOT / rel
        if source.is_file():
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / rel)


def export_head(into: Path) -> str:
    """This checkout's HEAD as a fresh clone has it, with a git history of one commit."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=awstools.REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", head],
        cwd=awstools.REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return head


def environment(emulator_url: str, scratch: Path, wheels: Path) -> dict[str, str]:
    """The operator's environment, pointed at the emulator and nothing else."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        {
            "AWS_ENDPOINT_URL": emulator_url,
            "AWS_ACCESS_KEY_ID": "rehearsal",
            "AWS_SECRET_ACCESS_KEY": "rehearsal",
            # No profile of the operator's may leak in: the stage's region is the one.
            "AWS_CONFIG_FILE": str(scratch / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-aws-credentials"),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheels),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "SCC_REPO_VENV": "1",
        }
    )
    return env


def ses_day_one(env: dict[str, str], region: str) -> None:
    """deploy.md step 2, the two `aws sesv2` commands, through boto3."""
    import boto3

    awstools.step(f"SES: verify {SENDER} and ask for production access ({region})")
    ses = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    ).client("sesv2", endpoint_url=env["AWS_ENDPOINT_URL"])
    ses.create_email_identity(EmailIdentity=SENDER)
    ses.put_account_details(
        ProductionAccessEnabled=True,
        MailType="TRANSACTIONAL",
        WebsiteURL="https://crew.example.org",
        UseCaseDescription="Payment receipts to our crew; signed-waiver copies to patrons.",
    )


def aws_clients(env: dict[str, str], region: str) -> Callable[[str], Any]:
    """boto3 clients of this process, at the emulator, in the stage's region."""
    import boto3

    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    made: dict[str, Any] = {}

    def make(service: str) -> Any:
        if service not in made:
            fixed = awstools.CLOUDFRONT_REGION if service == "cloudfront" else region
            made[service] = session.client(
                service, region_name=fixed, endpoint_url=env["AWS_ENDPOINT_URL"]
            )
        return made[service]

    return make


def call(base: str, method: str, path: str, body: Any = None, token: str = "") -> Any:
    """One JSON request through the stage's distribution; (status, answer)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base.rstrip("/") + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def use_the_site(stage: str, base: str) -> dict[str, str]:
    """deploy.md step 4's "Try staging": log in, log a payment, sign a trip's waiver."""
    awstools.step(f"Trying {stage} at {base}: log in, log a payment, sign a waiver")
    status, login = call(base, "POST", "/api/login", {"password": PASSWORD})
    if status != 200:
        raise Failed(f"{stage}: login answered {status}: {login}")
    token = login["token"]
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    trip = {
        "title": "Rehearsal Cruise",
        "starts_at": f"{day}T17:30:00",
        "ends_at": f"{day}T19:30:00",
        "capacity": 12,
        "price_cents": 60000,
    }
    status, made = call(base, "POST", "/api/events", trip, token)
    if status != 201:
        raise Failed(f"{stage}: creating a trip answered {status}: {made}")
    event_id = made["event"]["id"]
    payment = {"patron_name": "Ana Ruiz", "amount_cents": 12000, "method": "cash"}
    status, paid = call(base, "POST", f"/api/events/{event_id}/payments", payment, token)
    if status != 201:
        raise Failed(f"{stage}: logging a payment answered {status}: {paid}")
    waiver = {
        "full_name": "Jordan Lee",
        "email": "jordan@example.com",
        "phone": "+1 415 555 0100",
        "date_of_birth": "1988-04-12",
        "emergency_name": "Sam Lee",
        "emergency_phone": "+1 415 555 0101",
        "signature": "Jordan Lee",
        "agree": True,
    }
    status, signed = call(base, "POST", f"/g/{event_id}/waiver", waiver)
    if status != 201:
        raise Failed(f"{stage}: signing the waiver answered {status}: {signed}")
    awstools.detail(
        f"logged in; trip {event_id}; payment {paid['payment']['id']} of 12000 cents; "
        "a waiver signed"
    )
    return {"event": event_id, "payment": paid["payment"]["id"]}


@dataclass
class Site:
    functions: rehearsal_site.Functions
    distribution: rehearsal_site.Distribution

    def stop(self) -> None:
        self.distribution.stop()
        self.functions.stop()


def run_site(r: Rehearsal, stage: str, region: str) -> Site:
    """The stage's functions and distribution, running from what AWS (the emulator) holds."""
    clients = aws_clients(r.env, region)
    config = json.loads((r.root / ".chalice" / "config.json").read_text())
    distribution_id = config["stages"][stage]["environment_variables"]["DISTRIBUTION_ID"]
    if not distribution_id:
        raise Failed(f"bootstrap left {stage} without a distribution id in .chalice/config.json")
    awstools.step(f"Running {stage}'s functions and distribution {distribution_id} on loopback")
    functions = rehearsal_site.Functions(stage, region, r.root, r.env, clients)
    distribution = rehearsal_site.Distribution(
        distribution_id, clients, functions.port, emulator_module.ACCOUNT_ID
    )
    r.sites.append(Site(functions, distribution))
    awstools.detail(f"{stage}'s site: {distribution.url}")
    return r.sites[-1]


def go_live(rehearsal: Rehearsal) -> None:
    r = rehearsal
    for stage in ("dev", "staging", "prod"):
        r.script(f"1. settings of {stage}", "stage_settings", "--stage", stage, "--offline")
    r.git("add", "deploy", ".chalice", "spa/config.js")
    if r.git("status", "--porcelain", "--untracked-files=no"):
        r.git("commit", "-qm", "Our stage settings")
    from scripts import stage_settings

    awstools.SETTINGS_DIR = r.root / "deploy"
    region = stage_settings.load("staging").region
    ses_day_one(r.env, region)
    password = PASSWORD + "\n"
    r.script("3. bootstrap staging (dry run)", "bootstrap", "--stage", "staging", "--dry-run")
    r.script(
        "3. bootstrap staging",
        "bootstrap",
        "--stage",
        "staging",
        "--password-stdin",
        "--yes",
        stdin=password,
    )
    r.script(
        "3. bootstrap staging again",
        "bootstrap",
        "--stage",
        "staging",
        "--dry-run",
        expect="Nothing to change",
    )
    staging = run_site(r, "staging", region)
    r.script("4. deploy staging (dry run)", "deploy", "--stage", "staging", "--dry-run")
    r.script(
        "4. deploy staging",
        "deploy",
        "--stage",
        "staging",
        "--yes",
        "--base-url",
        staging.distribution.url,
    )
    use_the_site("staging", staging.distribution.url)
    r.script(
        "4. verify staging",
        "verify_deploy",
        "--stage",
        "staging",
        "--since",
        "1h",
        "--base-url",
        staging.distribution.url,
        retry_seconds=30,
    )
    # No commit between staging and prod: bootstrap's derived values need none.
    prod_region = stage_settings.load("prod").region
    r.script(
        "5. bootstrap prod",
        "bootstrap",
        "--stage",
        "prod",
        "--password-stdin",
        "--yes",
        stdin=password,
    )
    prod = run_site(r, "prod", prod_region)
    r.script(
        "6. deploy prod", "deploy", "--stage", "prod", "--yes", "--base-url", prod.distribution.url
    )
    use_the_site("prod", prod.distribution.url)
    r.script(
        "8. verify prod",
        "verify_deploy",
        "--stage",
        "prod",
        "--since",
        "1h",
        "--base-url",
        prod.distribution.url,
        retry_seconds=30,
    )
    r.script("the deploy history of prod", "deploy", "history", "--stage", "prod")
    # The routine release, then "Rolling back > Code": a second commit to staging, and
    # the one command that puts the first one back.
    first = r.git("rev-parse", "HEAD")
    app = r.root / "app.py"
    app.write_text(app.read_text() + "\n# A second release (rehearsal).\n")
    r.git("commit", "-qam", "A second release")
    r.script(
        "routine release to staging",
        "deploy",
        "--stage",
        "staging",
        "--yes",
        "--base-url",
        staging.distribution.url,
    )
    r.script(
        "roll staging back",
        "deploy",
        "rollback",
        "--stage",
        "staging",
        "--yes",
        expect=f"to {first[:12]}",
    )
    r.script(
        "the deploy history of staging",
        "deploy",
        "history",
        "--stage",
        "staging",
        expect=first[:12],
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Rehearse docs/deploy.md's go-live from nothing on the embedded emulator; "
        "ends with PASS or FAIL."
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and print it")
    parser.add_argument("--log", type=Path, help="write every command's full output here")
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="rehearse this checkout's files as they are (uncommitted changes too), not HEAD",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix="scc-rehearsal-"))
    root = scratch / "shipcaptaincrew"
    root.mkdir()
    emulator = Emulator(port=0, fill_gaps=True)
    emulator.start()
    log: list[str] = []
    verdict = "FAIL"
    rehearsal: Rehearsal | None = None
    try:
        awstools.step(
            f"A fresh copy of this commit in {root}; AWS is the emulator at {emulator.url}"
        )
        if args.worktree:
            export_worktree(root)
        else:
            export_head(root)
        wheels = scratch / "wheels"
        built = wheelhouse(root / "requirements.txt", wheels)
        awstools.detail(f"Lambda dependencies from this virtualenv: {', '.join(built)}")
        rehearsal = Rehearsal(root, environment(emulator.url, scratch, wheels), log)
        rehearsal.git("init", "-q")
        rehearsal.git("add", ".")
        rehearsal.git("commit", "-qm", "A fresh clone")
        go_live(rehearsal)
        verdict = "PASS"
    except Failed as exc:
        awstools.say(f"error: {exc}", sys.stderr)
    finally:
        for site in rehearsal.sites if rehearsal else []:
            site.stop()
        emulator.stop()
        if args.log:
            args.log.write_text("\n".join(log))
        if args.keep:
            awstools.detail(f"kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    for note in rehearsal.notes if rehearsal else []:
        awstools.say(f"note: {note}")
    awstools.step(f"{verdict} ({time.monotonic() - started:.0f} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
