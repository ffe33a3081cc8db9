"""JSON log lines and the request id: what a log collector and a grep across processes rely on."""

from __future__ import annotations

import contextvars
import json
import logging
import sys

import pytest

from mediadl.logsetup import (
    JsonFormatter,
    TextFormatter,
    accept_request_id,
    bind_request_id,
    current_request_id,
    reset_request_id,
    sane_request_id,
)


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", True),  # a UUID
        ("Root=1-5e1b4151-5ac6c58f5b5dbd6a2b1f1d3c", True),  # a load balancer's trace id
        ("a" * 128, True),
        ("a" * 129, False),  # bounded
        ("", False),
        ("two words", False),
        ('quote"d', False),
        ("line\nbreak", False),
        ("tab\t", False),
        ("é", False),
    ],
)
def test_only_sane_incoming_ids_are_kept(incoming: str, kept: bool) -> None:
    assert (sane_request_id(incoming) == incoming) is kept
    context = contextvars.copy_context()  # as each request's task has its own
    made = context.run(accept_request_id, incoming)
    if kept:
        assert made == incoming
    else:
        assert len(made) == 16 and int(made, 16) >= 0
    assert context.run(current_request_id) == made
    assert current_request_id() is None


def record(
    name: str, msg: str, args: tuple[object, ...] = (), **extra: object
) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    made.__dict__.update(extra)
    return made


def test_a_json_line_names_the_bound_request() -> None:
    token = bind_request_id("req-1")
    try:
        line = JsonFormatter().format(record("mediadl.jobs.runner", "job %s: done", ("abc",)))
    finally:
        reset_request_id(token)
    out = json.loads(line)
    assert out["message"] == "job abc: done"
    assert (out["level"], out["logger"], out["request_id"]) == (
        "INFO",
        "mediadl.jobs.runner",
        "req-1",
    )
    assert out["time"].endswith("+00:00")
    outside = json.loads(JsonFormatter().format(record("x", "y")))
    assert outside["request_id"] is None


def test_an_access_line_carries_its_fields_and_extras_are_kept() -> None:
    args = ("127.0.0.1:5000", "GET", "/api/v1/tunnel?t=…", "1.1", 206)
    access = record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', args, color_message="\x1b[1m")
    out = json.loads(JsonFormatter().format(access))
    assert out["client"] == "127.0.0.1:5000"
    assert (out["method"], out["path"], out["status"]) == ("GET", "/api/v1/tunnel?t=…", 206)
    assert "color_message" not in out
    job = json.loads(JsonFormatter().format(record("mediadl", "m", job_id="j1")))
    assert job["job_id"] == "j1"


def test_a_traceback_stays_inside_its_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failing = logging.LogRecord(
            "mediadl", logging.ERROR, __file__, 1, "bug", (), sys.exc_info()
        )
    line = JsonFormatter().format(failing)
    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_a_text_line_names_the_bound_request_before_any_traceback() -> None:
    token = bind_request_id("req-7")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failing = logging.LogRecord(
            "mediadl", logging.ERROR, __file__, 1, "job %s failed", ("j1",), sys.exc_info()
        )
        text = TextFormatter().format(failing)
    finally:
        reset_request_id(token)
    first, *rest = text.splitlines()
    assert first.endswith("ERROR mediadl: job j1 failed [request req-7]")
    assert "RuntimeError: boom" in rest[-1]
    assert TextFormatter().format(record("x", "plain")).endswith("INFO x: plain")
