"""5. Counts: bcrypt verifications per request, the Lambda package size, the dispatch page's bytes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench import common

# What the deployment package is built from (a copy, so the project's .chalice/ stays as it is).
PACKAGE_SOURCES = ("app.py", "chalicelib", "requirements.txt", ".chalice")
SPA_SUFFIXES = (".html", ".js", ".css")


def bcrypt_counts() -> dict[str, int]:
    """bcrypt checks per request through chalice.test.Client (the authorizer runs every time)."""
    import bcrypt
    from chalice.test import Client

    from chalicelib import aws

    calls = {"n": 0}
    real_check = bcrypt.checkpw

    def counting_check(password: bytes, hashed: bytes) -> bool:
        calls["n"] += 1
        return real_check(password, hashed)

    counts: dict[str, int] = {}
    bcrypt.checkpw = counting_check
    try:
        with common.app_on_moto(common.password_hash()) as app_module, common.quiet_stdout():
            trips = common.board_trips(5)
            board_id = trips[0]["id"]
            common.batch_write(aws.dynamodb(), trips)
            # Stage "bench" is not in config.json: only its top-level settings apply.
            with Client(app_module.app, stage_name="bench", project_dir=str(common.ROOT)) as client:

                def count(name: str, method: str, path: str, body: Any = None, **headers: str):
                    before = calls["n"]
                    sent = {"content-type": "application/json", **headers}
                    raw = b"" if body is None else json.dumps(body).encode()
                    answer = client.http.request(method, path, headers=sent, body=raw)
                    if answer.status_code >= 400:
                        raise RuntimeError(f"bcrypt count: {name} answered {answer.status_code}")
                    counts[name] = calls["n"] - before
                    return answer

                login = count("login", "POST", "/api/login", {"password": common.PASSWORD})
                bearer = f"Bearer {json.loads(login.body)['token']}"
                first, last = common.BOARD_FIRST, common.BOARD_LAST
                count("board", "GET", f"/api/events?from={first}&to={last}", authorization=bearer)
                count("detail", "GET", f"/api/events/{board_id}", authorization=bearer)
                count(
                    "payment",
                    "POST",
                    f"/api/events/{board_id}/payments",
                    common.payment_body(str(uuid.uuid4())),
                    authorization=bearer,
                )
                count("waiver", "POST", f"/g/{board_id}/waiver", common.waiver_body())
    finally:
        bcrypt.checkpw = real_check
    return counts


def deployment_zip() -> dict[str, Any]:
    """Build the prod package with `chalice package` in a scratch copy; its size, or why not."""
    chalice = Path(sys.executable).with_name("chalice")
    if not chalice.exists():
        return {"bytes": None, "reason": "the chalice command is not installed in this venv"}
    with tempfile.TemporaryDirectory(prefix="scc-package-") as scratch:
        project = Path(scratch) / "project"
        project.mkdir()
        for name in PACKAGE_SOURCES:
            source = common.ROOT / name
            if source.is_dir():
                shutil.copytree(
                    source,
                    project / name,
                    ignore=shutil.ignore_patterns("__pycache__", "deployed", "deployments", "venv"),
                )
            elif source.exists():
                shutil.copy2(source, project / name)
        note = None
        policy = project / ".chalice" / "policy-prod.json"
        if not policy.exists():
            # The policy does not change the zip; a missing one only stops `chalice package`.
            policy.write_text('{"Version": "2012-10-17", "Statement": []}')
            note = "policy-prod.json missing: packaged with an empty stand-in"
        env = {**os.environ, **common.fake_credentials()}
        env.pop("AWS_ENDPOINT_URL", None)
        out = Path(scratch) / "out"
        try:
            done = subprocess.run(
                [str(chalice), "package", "--stage", "prod", str(out)],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"bytes": None, "reason": "chalice package took over 5 minutes"}
        package = out / "deployment.zip"
        if done.returncode != 0 or not package.exists():
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"bytes": None, "reason": f"chalice package failed: {last[0][:200]}"}
        import zipfile

        with zipfile.ZipFile(package) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            files = len(archive.infolist())
        return {
            "bytes": package.stat().st_size,
            "unpacked_bytes": unpacked,
            "files": files,
            "note": note,
        }


def page_bytes() -> dict[str, Any]:
    """Bytes of the dispatch page, raw and gzipped: every .html, .js and .css under spa/,
    and the board's path (docs: the page weight): index.html, styles.css and the modules
    app.js imports statically, which travel before the first card."""
    from scripts.sync_spa import ENTRY, static_imports

    spa = common.ROOT / "spa"
    files = sorted(p for p in spa.rglob("*") if p.is_file() and p.suffix in SPA_SUFFIXES)
    board = ["index.html", "styles.css", *static_imports(spa, ENTRY)]

    def zipped(path: Path) -> int:
        return len(gzip.compress(path.read_bytes(), compresslevel=9))

    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "gzip_bytes": sum(zipped(p) for p in files),
        "board_files": board,
        "board_gzip_bytes": sum(zipped(spa / name) for name in board),
    }
