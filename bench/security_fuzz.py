"""Schemathesis against a real ``mediadl serve``'s OpenAPI document, in a network of its own.

    .venv/bin/python bench/security_fuzz.py [--max-examples 50] [--max-time 600] [--json out.json]

The fuzzer writes arbitrary links, so the server would look up arbitrary host names: the whole
run (server and fuzzer) happens in a fresh network namespace (``unshare -rn``) that has nothing
but loopback, so no lookup or connection can leave this machine. The server denies every
private network (its default). Bounded: ``--max-examples`` per operation and ``--max-time``.
Prints the number of cases, the statuses seen, and every failed check (5xx, schema violations)
with its operation, its message and a curl command that reproduces it. With ``--json out.json``
the whole record is kept next to it, since the run happens in a folder that is then removed:
``out.st.log`` (schemathesis' full output), ``out.ndjson`` (every case and check) and
``out.server.log``.

Every check runs (``--checks all``); ``CONFIG`` widens what two of them expect where this run's
isolation makes a documented answer the only possible one (its comments say why). The summary
counts 5xx answers by status and code, and 500s (bugs) apart.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ISOLATED = "MEDIADL_FUZZ_ISOLATED"
CONFIG = """
# In this run every link leads nowhere: the network has nothing but loopback. Reading a site then
# fails as it does for any unreachable site, with the documented `fetch.failed` (502) or
# `fetch.timeout` (504): the answer the API owes, not a bug. So for the operations that read a
# link those two are expected; any other 5xx (a 500 is a bug) still fails the run, and the
# summary counts every 5xx by status and code.
[[operations]]
include-path = ["/api/v1/resolve", "/api/v1/download"]
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "502", "504"]

# cobalt's protocol (API 11) answers every request it can't fulfil with 400 and an
# `error.api.*` code, a valid one for a site it can't reach included (`error.api.fetch.fail`),
# which in this run is every site; cobalt's clients depend on that status. So 400 is an expected
# answer to valid data at POST / (404, 422 and the others still fail the check).
[[operations]]
include-path = "/"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx",
]
"""


def isolate() -> None:
    """Run this very script again inside a new user and network namespace (loopback only)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        sys.exit("security_fuzz: needs unshare (util-linux) for a network of its own")
    env = {**os.environ, ISOLATED: "1"}
    command = [unshare, "-rn", sys.executable, *sys.argv]
    sys.exit(subprocess.run(command, env=env, check=False).returncode)


def start_server(folder: Path, port: int) -> subprocess.Popen[bytes]:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
    env |= {
        "MEDIADL_DATA_DIR": str(folder / "data"),
        "MEDIADL_SECRET": "fuzz-secret-0123456789abcdef",
        "MEDIADL_RATE_LIMIT": "100000/minute",
        "MEDIADL_RATE_LIMIT_MEDIA": "100000/minute",
        "MEDIADL_EXTRACT_TIMEOUT": "10",
        "MEDIADL_CONNECT_TIMEOUT": "2",
        "MEDIADL_READ_TIMEOUT": "2",
        "MEDIADL_FETCH_RETRIES": "0",
    }
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediadl", "serve", "--port", str(port), "--log-level", "warning"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["warm"]:
                return proc
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.2)
    proc.kill()
    sys.exit("security_fuzz: the server didn't start")


def summarize(ndjson: Path) -> dict[str, Any]:
    """Cases, statuses and failures from schemathesis' NDJSON event stream.

    A failure is kept once per check, operation and message, with the first request that showed
    it (as a curl command) and the answer's status and first bytes: st's text output is long, and
    its failures section is what matters.
    """
    statuses: Counter[int] = Counter()
    server_errors: Counter[str] = Counter()
    failures: dict[tuple[str, str, str], dict[str, Any]] = {}
    cases = 0
    for line in ndjson.read_text().splitlines():
        event = json.loads(line)
        for interaction in _walk(event, "response"):
            if isinstance(interaction, dict) and "status_code" in interaction:
                cases += 1
                statuses[int(interaction["status_code"])] += 1
        recorder = event.get("ScenarioFinished", {}).get("recorder", {})
        interactions = recorder.get("interactions", {})
        for exchange in interactions.values():
            answer = exchange.get("response") or {}
            if int(answer.get("status_code") or 0) >= 500:
                server_errors[f"{answer['status_code']} {_error_code(answer)}"] += 1
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                failure = (check.get("failure_info") or {}).get("failure")
                if not isinstance(failure, dict):
                    continue
                key = (str(failure["code"]), str(failure["operation"]), str(failure["message"]))
                if key in failures:
                    continue
                exchange = interactions.get(case_id) or {}
                answer = exchange.get("response") or {}
                failures[key] = {
                    "code": key[0],
                    "check": check.get("name"),
                    "title": failure.get("title"),
                    "operation": key[1],
                    "message": key[2],
                    "status": answer.get("status_code"),
                    "answer": _text(answer.get("content"))[:300],
                    "curl": _curl(exchange.get("request") or {}),
                }
    return {
        "cases": cases,
        "statuses": dict(sorted(statuses.items())),
        "server_errors": sum(n for s, n in statuses.items() if s >= 500),
        "server_errors_by_code": dict(sorted(server_errors.items())),
        "internal_errors": statuses[500],
        "failures": [failures[key] for key in sorted(failures)],
    }


def _error_code(answer: dict[str, Any]) -> str:
    """The error code in a JSON answer of either face, else ``?``."""
    try:
        body = json.loads(_text(answer.get("content")))
    except ValueError:
        return "?"
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("code", "?")) if isinstance(error, dict) else "?"


def _text(content: Any) -> str:
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return "" if content is None else str(content)


def _curl(request: dict[str, Any]) -> str:
    """The recorded request as a curl command (headers as sent, the body as text)."""
    parts = ["curl", "-X", str(request.get("method", "GET"))]
    for name, values in (request.get("headers") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            parts += ["-H", f"{name}: {value}"]
    if request.get("body") is not None:
        parts += ["--data-binary", _text(request["body"])]
    parts.append(str(request.get("uri", "")))
    return shlex.join(parts)


def show(failures: list[dict[str, Any]]) -> None:
    """Every failure: which check, where, what was wrong, what came back, how to send it again.

    Long commands (a fuzzed 8 KiB token) are cut here; the ``.st.log`` kept next to
    ``--json`` has them whole.
    """
    for number, failure in enumerate(failures, 1):
        print(f"--- failure {number}: {failure['code']} {failure['title']} ({failure['check']})")
        print(f"operation: {failure['operation']}")
        print(failure["message"].strip())
        print(f"answer: {failure['status']} {failure['answer']!r}")
        curl = failure["curl"]
        print(f"reproduce: {curl if len(curl) <= 600 else curl[:600] + ' …(cut)'}\n")


def _walk(node: Any, key: str) -> list[Any]:
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found.extend(_walk(v, key))
    elif isinstance(node, list):
        for item in node:
            found.extend(_walk(item, key))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--max-time", type=int, default=600)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if os.environ.get(ISOLATED) != "1":
        isolate()
    port = 18080
    with tempfile.TemporaryDirectory(prefix="mediadl-fuzz-") as tmp:
        folder = Path(tmp)
        server = start_server(folder, port)
        ndjson = folder / "events.ndjson"
        config = folder / "schemathesis.toml"
        config.write_text(CONFIG)
        try:
            run = subprocess.run(
                [
                    str(Path(sys.executable).with_name("st")),
                    "--config-file",
                    str(config),
                    "run",
                    f"http://127.0.0.1:{port}/openapi.json",
                    "--checks",
                    "all",
                    "--max-examples",
                    str(args.max_examples),
                    "--max-time",
                    str(args.max_time),
                    "--workers",
                    "2",
                    "--request-timeout",
                    "30",
                    "--seed",
                    "6",
                    "--report",
                    "ndjson",
                    "--report-ndjson-path",
                    str(ndjson),
                ],
                check=False,
                capture_output=True,
                text=True,
            )
        finally:
            server.terminate()
            server.wait(10)
        result = summarize(ndjson) | {"exit_code": run.returncode}
        show(result["failures"])
        print(json.dumps(result | {"failures": len(result["failures"])}, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
            keep = str(args.json.with_suffix(""))
            Path(f"{keep}.st.log").write_text(run.stdout + run.stderr)
            shutil.copyfile(ndjson, f"{keep}.ndjson")
            shutil.copyfile(folder / "server.log", f"{keep}.server.log")
            print(f"kept: {keep}.st.log, {keep}.ndjson, {keep}.server.log")
        else:
            print(run.stdout[-6000:])
        sys.exit(0 if run.returncode == 0 else 1)


if __name__ == "__main__":
    main()
