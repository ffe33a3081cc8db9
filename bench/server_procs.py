"""The processes ``server_bench.py`` measures: the fixture site, ``mediadl serve`` and nginx, each
with its process tree's CPU time and resident memory at hand."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from aiohttp import web

from mediadl_fixtures import FixtureSite, ensure_media
from mediadl_fixtures.threaded import running_app

TICK = os.sysconf("SC_CLK_TCK")
SECRET = "bench-secret-0123456789abcdef"
NOBODY = 65534


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _tree(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class Processes:
    """A process and its children, started by a subclass."""

    proc: subprocess.Popen[bytes]

    def cpu(self) -> float:
        """CPU seconds of the tree so far (reaped children included)."""
        total = 0
        for pid in _tree(self.proc.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
            if pid == self.proc.pid:
                total += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped children
        return total / TICK

    def tree_rss(self) -> int:
        """Resident bytes of the tree now."""
        total = 0
        for pid in _tree(self.proc.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                (int(x.split()[1]) * 1024 for x in status.splitlines() if x.startswith("VmRSS:")),
                0,
            )
        return total

    def tree_pss(self) -> tuple[int, int]:
        """Proportional resident bytes of the tree now (a page shared by n processes counts 1/n
        in each: forked children are not counted again for what they share with their parent),
        and how many processes it holds."""
        total, pids = 0, _tree(self.proc.pid)
        for pid in pids:
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            total += next(
                (int(x.split()[1]) * 1024 for x in rollup.splitlines() if x.startswith("Pss:")),
                0,
            )
        return total, len(pids)

    @contextmanager
    def watch(self, every: float = 0.1) -> Iterator[Callable[[], int]]:
        """Sample the tree's RSS while the block runs; yields a getter of the peak."""
        peak, done = [self.tree_rss()], threading.Event()

        def sample() -> None:
            while not done.wait(every):
                peak[0] = max(peak[0], self.tree_rss())

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield lambda: peak[0]
        finally:
            done.set()
            thread.join()

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _wait_for(url: str, ok: Callable[[httpx.Response], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if ok(httpx.get(url, timeout=2)):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} didn't start")


class SiteProcess(Processes):
    """The fixture site in a process of its own (its CPU apart from the bench's)."""

    def __init__(self, host: str, port: int) -> None:
        media = ensure_media()
        self.site = FixtureSite(host=host, port=port, media=media)
        self.base = self.site.base_url
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mediadl_fixtures", "--host", host, "--port", str(port)],
            stdout=subprocess.DEVNULL,
        )
        _wait_for(self.site.url("thumb"), lambda r: r.status_code == 200, "the fixture site")

    def media_size(self, name: str) -> int:
        return self.site.media[name].stat().st_size


class ServeProcess(Processes):
    """``mediadl serve`` with its per-client limits lifted: every bench client is 127.0.0.1."""

    def __init__(
        self, data: Path, extra: dict[str, str] | None = None, *, pythonpath: str | None = None
    ) -> None:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADL_")}
        if pythonpath:  # another source tree of mediadl (an A/B run)
            env |= {"PYTHONPATH": pythonpath, "PYTHONDONTWRITEBYTECODE": "1"}
        env |= {
            "MEDIADL_SECRET": SECRET,
            "PYTHONFAULTHANDLER": "1",  # a crash shows where it happened
            "MEDIADL_DATA_DIR": str(data),
            "MEDIADL_MAX_STREAMS": "1000",
            "MEDIADL_MAX_STREAMS_PER_CLIENT": "1000",
            "MEDIADL_MAX_CONNECTIONS_PER_CLIENT": "2000",
            "MEDIADL_RATE_LIMIT": "100000/minute",
            "MEDIADL_RATE_LIMIT_MEDIA": "100000/minute",
        } | (extra or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mediadl", "serve", "--port", str(port),
             "--allow-network", "127.0.0.2/32", "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{port}"
        _wait_for(f"{self.base}/healthz", lambda r: bool(r.json().get("warm")), "mediadl serve")

    def tunnel(self, page: str, **choice: Any) -> str:
        r = httpx.post(f"{self.base}/api/v1/download", json={"url": page, **choice}, timeout=60)
        r.raise_for_status()
        return str(r.json()["tunnel"])


NGINX_CONF = """
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream site {{ server {upstream}; keepalive 64; }}
    server {{
        listen {listen};
        location / {{
            proxy_pass http://site;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


class NginxProxy(Processes):
    """Debian's nginx as a plain reverse proxy in front of the site, run as ``nobody``."""

    def __init__(self, upstream: str, host: str = "127.0.0.4") -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.dir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.dir.chmod(0o755)
        self.listen = f"{host}:{free_port(host)}"
        conf = self.dir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(dir=self.dir, upstream=upstream.split("//", 1)[1], listen=self.listen)
        )
        os.chown(self.dir, NOBODY, NOBODY)
        self.proc = subprocess.Popen(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
             nginx, "-p", str(self.dir), "-e", str(self.dir / "error.log"), "-c", str(conf),
             "-g", "daemon off;"],
        )  # fmt: skip
        _wait_for(f"http://{self.listen}/nothing", lambda r: r.status_code == 404, "nginx")

    def url(self, direct: str) -> str:
        return f"http://{self.listen}/" + direct.split("/", 3)[3]

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)


LONG_FILE = 1 << 30
_ZEROS = bytes(1 << 20)


async def _long_file(request: web.Request) -> web.StreamResponse:
    """1 GiB of zeros as ``video/mp4``, with ``Range``: a file longer than any buffer."""
    start, end = 0, LONG_FILE - 1
    wanted = request.http_range
    status, headers = 200, {"Accept-Ranges": "bytes", "Content-Type": "video/mp4"}
    if wanted.start is not None:
        start, end = wanted.start, min(LONG_FILE, wanted.stop or LONG_FILE) - 1
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{LONG_FILE}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = end - start + 1
    await response.prepare(request)
    left = end - start + 1 if request.method == "GET" else 0
    try:
        while left > 0:
            await response.write(_ZEROS[: min(left, len(_ZEROS))])
            left -= len(_ZEROS)
    except ConnectionError:
        pass  # the server stopped that tunnel
    return response


@contextmanager
def long_file(host: str = "127.0.0.2") -> Iterator[str]:
    """The URL of a 1 GiB file served from a thread of this process."""
    app = web.Application()
    app.router.add_route("*", "/long.mp4", _long_file)
    with running_app(app, host, "long-file") as port:
        yield f"http://{host}:{port}/long.mp4"
