"""A small, real forward proxy for the tests: HTTP (absolute-form and CONNECT), SOCKS5, SOCKS4(a).

One listening port speaks them all: a connection starting with byte 5 is SOCKS5 (CONNECT, with an
address or a name the proxy resolves itself), with byte 4 SOCKS4 (4a: a name), anything else
HTTP. It logs every tunnel it
opens and every request it carries, including the plain-HTTP requests that pass through a
tunnel (request heads are read as they go by; a TLS tunnel is logged as a tunnel only).
``credentials`` makes it demand a login (HTTP 407 / SOCKS5 user-password).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["ForwardProxy", "ProxyRecord", "running_proxy"]

HEAD_LIMIT = 64 * 1024
CONNECTED = b"HTTP/1.1 200 Connection established\r\n\r\n"
BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"
PROXY_AUTH_REQUIRED = (
    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
    b'Proxy-Authenticate: Basic realm="fixture"\r\nContent-Length: 0\r\n\r\n'
)


@dataclass(frozen=True)
class ProxyRecord:
    """One thing the proxy did: ``kind`` is ``connect``/``socks5``/``socks4`` (a tunnel),
    ``request`` (a request seen inside a tunnel) or ``forward`` (an absolute-form request)."""

    kind: str
    host: str
    port: int
    method: str = ""
    target: str = ""
    range: str | None = None
    remote_dns: bool = False


@dataclass
class ForwardProxy:
    host: str = "127.0.0.4"
    port: int = 0
    credentials: tuple[str, str] | None = None
    log: list[ProxyRecord] = field(default_factory=list)
    connections: int = 0
    _server: asyncio.Server | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url_as(self, scheme: str) -> str:
        login = ""
        if self.credentials:
            login = f"{self.credentials[0]}:{self.credentials[1]}@"
        return f"{scheme}://{login}{self.host}:{self.port}"

    def requests_to(self, host: str, port: int) -> list[ProxyRecord]:
        """The requests carried to ``host:port`` (forwarded, or seen in a tunnel)."""
        kinds = ("request", "forward")
        return [r for r in list(self.log) if r.kind in kinds and (r.host, r.port) == (host, port)]

    def tunnels_to(self, host: str, port: int) -> list[ProxyRecord]:
        kinds = ("connect", "socks5", "socks4")
        return [r for r in list(self.log) if r.kind in kinds and (r.host, r.port) == (host, port)]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):
                writer.close()
            await self._server.wait_closed()
            await asyncio.sleep(0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._open.add(writer)
        try:
            first = await reader.readexactly(1)
            if first == b"\x05":
                await self._socks5(reader, writer)
            elif first == b"\x04":
                await self._socks4(reader, writer)
            else:
                await self._http(first, reader, writer)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._open.discard(writer)
            writer.close()

    # -- HTTP ------------------------------------------------------------------------------
    async def _http(
        self, first: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = first + await reader.readuntil(b"\r\n\r\n")
        line, headers = _parse_head(head)
        method, target, _version = line.split(" ", 2)
        if not self._authorized(headers.get("proxy-authorization")):
            writer.write(PROXY_AUTH_REQUIRED)
            await writer.drain()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            self.log.append(ProxyRecord("connect", host.strip("[]"), int(port)))
            await self._tunnel(host.strip("[]"), int(port), reader, writer, CONNECTED)
            return
        await self._forward(method, target, head, reader, writer)

    async def _forward(
        self,
        method: str,
        target: str,
        head: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        """An absolute-form request, sent on with its origin-form target, one per connection."""
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        host, port = parts.hostname or "", parts.port or 80
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        _line, headers = _parse_head(head)
        self.log.append(ProxyRecord("forward", host, port, method, path, headers.get("range")))
        lines = [f"{method} {path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in headers.items() if not k.startswith("proxy-")]
        lines = [x for x in lines if not x.lower().startswith("connection:")]
        lines.append("Connection: close")
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.write(BAD_GATEWAY)
            return
        up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await _copy(up_reader, writer)
        up_writer.close()

    def _authorized(self, header: str | None) -> bool:
        if self.credentials is None:
            return True
        expected = base64.b64encode(":".join(self.credentials).encode()).decode()
        return header == f"Basic {expected}"

    # -- SOCKS5 ----------------------------------------------------------------------------
    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (count,) = await reader.readexactly(1)
        methods = await reader.readexactly(count)
        wanted = 0x02 if self.credentials else 0x00
        if wanted not in methods:
            writer.write(b"\x05\xff")
            return
        writer.write(bytes([5, wanted]))
        if self.credentials and not await self._socks_login(reader, writer):
            return
        _ver, command, _rsv, kind = await reader.readexactly(4)
        if kind == 1:
            host = socket.inet_ntop(socket.AF_INET, await reader.readexactly(4))
        elif kind == 4:
            host = socket.inet_ntop(socket.AF_INET6, await reader.readexactly(16))
        else:
            (size,) = await reader.readexactly(1)
            host = (await reader.readexactly(size)).decode()
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if command != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))
            return
        self.log.append(ProxyRecord("socks5", host, port, remote_dns=kind == 3))
        await self._tunnel(host, port, reader, writer, b"\x05\x00\x00\x01" + bytes(6))

    async def _socks4(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """SOCKS4 CONNECT, and SOCKS4a (address 0.0.0.x, then the name to resolve)."""
        command, port, address = struct.unpack("!BH4s", await reader.readexactly(7))
        await reader.readuntil(b"\x00")  # the user id
        host = socket.inet_ntoa(address)
        remote = address[:3] == b"\x00\x00\x00" and address[3] != 0
        if remote:
            host = (await reader.readuntil(b"\x00"))[:-1].decode()
        if command != 1 or self.credentials:
            writer.write(b"\x00\x5b" + bytes(6))
            return
        self.log.append(ProxyRecord("socks4", host, port, remote_dns=remote))
        await self._tunnel(host, port, reader, writer, b"\x00\x5a" + bytes(6))

    async def _socks_login(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        _ver, size = await reader.readexactly(2)
        user = await reader.readexactly(size)
        (size,) = await reader.readexactly(1)
        password = await reader.readexactly(size)
        ok = self.credentials == (user.decode(), password.decode())
        writer.write(b"\x01\x00" if ok else b"\x01\x01")
        return ok

    # -- tunnels ---------------------------------------------------------------------------
    async def _tunnel(
        self,
        host: str,
        port: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        established: bytes,
    ) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            failed = {5: b"\x05\x05\x00\x01" + bytes(6), 0: b"\x00\x5b" + bytes(6)}
            writer.write(failed.get(established[0], BAD_GATEWAY))
            return
        self._open.add(up_writer)
        writer.write(established)
        await writer.drain()
        try:
            await asyncio.gather(
                self._sniff(host, port, reader, up_writer), _copy(up_reader, writer)
            )
        finally:
            self._open.discard(up_writer)
            up_writer.close()

    async def _sniff(
        self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Copy client → site, logging each plain-HTTP request head that goes by."""
        pending = b""
        plain: bool | None = None
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
            if plain is None:
                plain = data[:1] != b"\x16"  # a TLS handshake starts with 0x16
            if not plain:
                continue
            pending += data
            while b"\r\n\r\n" in pending:
                head, pending = pending.split(b"\r\n\r\n", 1)
                line, headers = _parse_head(head + b"\r\n\r\n")
                method, target, *_ = line.split(" ")
                self.log.append(
                    ProxyRecord("request", host, port, method, target, headers.get("range"))
                )
            if len(pending) > HEAD_LIMIT:
                plain = False
        with contextlib.suppress(OSError):
            writer.write_eof()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1 << 16):
        writer.write(data)
        await writer.drain()
    with contextlib.suppress(OSError):
        writer.write_eof()


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    text = head.decode("latin-1").strip("\r\n")
    line, *rest = text.split("\r\n")
    headers = {}
    for item in rest:
        name, _, value = item.partition(":")
        headers[name.strip().lower()] = value.strip()
    return line, headers


@contextlib.contextmanager
def running_proxy(
    host: str = "127.0.0.4", credentials: tuple[str, str] | None = None
) -> Iterator[ForwardProxy]:
    """``with running_proxy("127.0.0.4") as proxy: …proxy.url…; proxy.log``, in a thread."""
    ipaddress.ip_address(host)
    proxy = ForwardProxy(host, credentials=credentials)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(proxy.start())
        finally:
            ready.set()
        loop.run_forever()
        loop.run_until_complete(proxy.close())

    thread = threading.Thread(target=run, name="fixture-proxy", daemon=True)
    thread.start()
    ready.wait()
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
