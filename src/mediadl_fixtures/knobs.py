"""Per-request fault/throttle knobs carried in a URL path prefix.

``/k/latency=50,rate=2500000/hls/master.m3u8`` serves ``/hls/master.m3u8`` with those
knobs. Manifests and pages only use relative URLs (or absolute ones that include the
prefix), so everything fetched from there inherits the same knobs.

=============== ===========================================================================
knob            effect
=============== ===========================================================================
latency=MS      sleep MS milliseconds before the first byte of every response
rate=B          cap this response (one connection) at B bytes/s (token bucket, small chunks)
total_rate=B    cap all responses carrying this same value together at B bytes/s
fail=K          the first K tries answer ``failcode`` with ``Retry-After: 0``
failcode=C      status for ``fail`` (default 503; e.g. 429)
drop=N          send N body bytes, then close the connection (FIN)
dropfirst=K     only drop on the first K tries after the ``fail`` ones (default: always)
stall=N         after N body bytes, send nothing for ``stallsecs`` seconds, then go on
stallfirst=K    only stall on the first K tries after the ``fail`` ones (default: always)
stallsecs=S     length of a stall in seconds (default 30, float ok)
norange=1       ignore Range/If-Range: always 200 + full body, no Accept-Ranges header
badlength=D     declare Content-Length = real length + D (D may be negative) and close
                after the body: D > 0 -> the client sees EOF D bytes early;
                D < 0 -> only the declared (truncated) bytes are sent, HTTP-wise a
                "complete" response that is short by -D bytes
missing=NAME    404 for any path whose last segment is NAME (repeatable: missing=a,missing=b)
=============== ===========================================================================

A *try* is one request for the same path with the same knob prefix (any method); counters
are per server and reset by ``site.reset_counters()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

PREFIX = "/k/"


class KnobError(ValueError):
    """A malformed or unknown knob (the server answers 400 with this message)."""


@dataclass(frozen=True)
class Knobs:
    latency: float | None = None
    rate: int | None = None
    total_rate: int | None = None
    fail: int = 0
    failcode: int = 503
    drop: int | None = None
    dropfirst: int | None = None
    stall: int | None = None
    stallfirst: int | None = None
    stallsecs: float = 30.0
    norange: bool = False
    badlength: int | None = None
    missing: tuple[str, ...] = ()

    def encode(self) -> str:
        """The prefix body (``latency=50,rate=1000``): non-default knobs, in field order."""
        parts: list[str] = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            if f.name == "missing":
                parts += [f"missing={name}" for name in value]
            elif isinstance(value, bool):
                parts.append(f"{f.name}={int(value)}")
            else:
                parts.append(f"{f.name}={_num(value)}")
        return ",".join(parts)

    def prefix(self) -> str:
        """``/k/<encoded>`` or ``""`` when every knob is at its default."""
        body = self.encode()
        return f"{PREFIX}{body}" if body else ""

    @classmethod
    def parse(cls, spec: str) -> Knobs:
        values: dict[str, Any] = {}
        missing: list[str] = []
        for item in filter(None, spec.split(",")):
            name, sep, raw = item.partition("=")
            if not sep or not raw:
                raise KnobError(f"knob {item!r} is not NAME=VALUE")
            if name == "missing":
                missing.append(raw)
            elif name in _CONVERTERS:
                values[name] = _convert(name, raw)
            else:
                raise KnobError(f"unknown knob {name!r}")
        return cls(**values, missing=tuple(missing))

    @classmethod
    def of(cls, **knobs: Any) -> Knobs:
        """From keyword arguments (``missing`` may be a string or a sequence)."""
        missing = knobs.pop("missing", ())
        missing = (missing,) if isinstance(missing, str) else tuple(missing)
        unknown = set(knobs) - set(_CONVERTERS)
        if unknown:
            raise KnobError(f"unknown knob(s) {sorted(unknown)}")
        return cls(**{k: _convert(k, str(v)) for k, v in knobs.items()}, missing=missing)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _to_bool(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


_CONVERTERS: dict[str, Any] = {
    "latency": float,
    "rate": int,
    "total_rate": int,
    "fail": int,
    "failcode": int,
    "drop": int,
    "dropfirst": int,
    "stall": int,
    "stallfirst": int,
    "stallsecs": float,
    "norange": _to_bool,
    "badlength": int,
}
_NON_NEGATIVE = {"latency", "fail", "drop", "dropfirst", "stall", "stallfirst", "stallsecs"}


def _convert(name: str, raw: str) -> Any:
    try:
        value = _CONVERTERS[name](raw)
    except ValueError:
        raise KnobError(f"bad value {raw!r} for knob {name!r}") from None
    if name in _NON_NEGATIVE and value < 0:
        raise KnobError(f"knob {name!r} must be >= 0")
    if name in ("rate", "total_rate") and value <= 0:
        raise KnobError(f"knob {name!r} must be > 0")
    if name == "failcode" and not 400 <= value <= 599:
        raise KnobError("failcode must be a 4xx/5xx status")
    return value


def split_knobs(path: str) -> tuple[Knobs, str, str]:
    """``/k/spec/rest`` -> (knobs, ``/k/spec``, ``/rest``); other paths -> (defaults, "", path)."""
    if not path.startswith(PREFIX):
        return Knobs(), "", path
    spec, sep, rest = path[len(PREFIX) :].partition("/")
    return Knobs.parse(spec), PREFIX + spec, "/" + rest if sep else "/"
