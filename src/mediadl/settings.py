"""Every setting of mediadl, declared once: name, type, default, help and environment variable.

Each field reads ``MEDIADL_<NAME>`` from the environment; the CLI and the docs are generated from
these declarations, and a test checks that every one is documented.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from mediadl.paths import default_data_dir
from mediadl.runtimes import JS_RUNTIMES, check_js_runtime

__all__ = ["JS_RUNTIMES", "Settings", "default_data_dir"]

MiB = 1 << 20
GiB = 1 << 30


def default_ffmpeg_tunnels() -> int:
    """Two per core this process may run on: one ffmpeg per core already takes every byte the
    cores can remux (bench/results.md, "A budget for remux tunnels"); the second covers tunnels
    whose client reads slower than ffmpeg writes, so their ffmpeg mostly waits."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return 2 * max(1, cores)


class Settings(BaseSettings):
    """Typed configuration shared by the engine, the service and the CLI."""

    model_config = SettingsConfigDict(
        env_prefix="MEDIADL_",
        frozen=True,
        extra="forbid",
        validate_default=True,
        hide_input_in_errors=True,  # a proxy URL's password, an API key: never echoed
    )

    # --- where things live -------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory for the server secret, job state, temporary work and caches, "
        "used by the CLI too (cache/: the indexes of yt-dlp's URL patterns and of the "
        "extractors that can find a video embedded in a page, rebuilt when yt-dlp changes, the "
        "command line's compiled regular expressions (regex-*.marshal), and "
        "cache/deno/, the JavaScript runtime's own; bin/: the "
        "bundled ffmpeg, linked there for yt-dlp, 0700 and remade when anyone else could write "
        "to it; tmp/: what a tunnel can't hold in memory, see stream_disk_max).",
    )
    ffmpeg: str | None = Field(
        default=None,
        description="Path to an ffmpeg binary. Default: a system ffmpeg, else the bundled one.",
    )

    # --- fetching ------------------------------------------------------------------------------
    fetch_connections: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Most parallel connections for one download (its video and audio share them; "
        "each stream of a tunnel has its own), never more than host_connections. The fetcher "
        "starts with 2 (a tunnel's stream of one file with 1; a small file is one request) and "
        "adds more only while each one keeps its speed, and goes down when the site answers 429 "
        "or 503 (waiting as long as its Retry-After says, seconds or a date, up to 30 s) or resets "
        "connections.",
    )
    host_connections: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Most connections open to one host at once, for everything this process "
        "downloads from it together (every file it downloads; each job runs in a process of "
        "its own, so each job has its own). CDNs answer more with 429s, "
        "throttling or a ban; aria2c allows at most 16 per server too. Each stream of a tunnel "
        "is capped on its own (its video and audio feed one ffmpeg together, so a shared cap "
        "would let tunnels wait on each other), and pushback lowers only its own connections. "
        "A host that pushes back (429, 503, resets) gets "
        "half the connections open, then, after 5 s, one more per round of good answers, and "
        "all of them after a minute without pushback.",
    )
    tunnel_pool: bool = Field(
        default=True,
        description="Tunnels borrow their connections to a site from one shared keep-alive pool "
        "instead of opening their own (fewer TCP and TLS handshakes for many small files); it "
        "keeps at most host_connections idle ones per host. "
        "Off: each tunnel opens its own connections, as downloads do.",
    )
    fetch_retries: int = Field(
        default=10,
        ge=0,
        le=100,
        description="Retries for one request (a range, a fragment) before the download fails.",
    )
    fetch_rate_limit: int | None = Field(
        default=None,
        ge=1,
        description="Most bytes a second one download may take, all its connections together "
        "(none: as fast as the site sends). The command line's -r/--limit-rate sets it.",
    )
    connect_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to wait for a connection to an upstream server."
    )
    read_timeout: float = Field(
        default=20.0,
        gt=0,
        description="Seconds without a byte from upstream before a request counts as stalled.",
    )
    first_byte_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds from sending a request upstream to the first byte of its body "
        "(headers that arrive slowly count too); past it the request is tried again.",
    )
    fetch_min_speed: int = Field(
        default=1024,
        ge=0,
        description="Bytes per second one upstream request must average over each read_timeout "
        "seconds; a slower one (a site that drips) is tried again. 0 turns the check off.",
    )
    extract_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds one extraction (reading a page) may take in the server; past it the "
        "extraction's process is killed.",
    )

    # --- the real web: sites that need more -----------------------------------------------------
    js_runtime: str = Field(
        default="deno",
        description="JavaScript runtime yt-dlp solves sites' challenges with (YouTube's): deno "
        "(the one installed with mediadl), node, bun or quickjs, optionally as NAME:PATH; none "
        "turns it off. yt-dlp runs deno with no network, file or environment access (node "
        "restricts files and processes only); in the server it runs under the extraction's "
        "memory limit (see extract_memory).",
    )
    proxy: str | None = Field(
        default=None,
        repr=False,  # it may hold a password
        description="Proxy every connection to a site goes through, as http://, socks5://, "
        "socks5h:// (the proxy resolves names), socks4:// or socks4a:// URL, with user:password@ "
        "if it needs them. mediadl opens a tunnel (CONNECT or SOCKS) to the address the egress "
        "guard checked, for http:// links too; with socks5h the proxy resolves names itself and "
        "may reach another address than the one checked. A proxy on a local address must be "
        "allowed explicitly (allow_networks or allow_private). The CLI also reads HTTPS_PROXY, "
        "HTTP_PROXY, ALL_PROXY and NO_PROXY (--proxy '' turns proxies off).",
    )
    no_proxy: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Hosts reached without the proxy (comma-separated): names (each with its "
        "subdomains), addresses or networks, * for all.",
    )
    cookies_file: Path | None = Field(
        default=None,
        description="Cookies (Netscape cookies.txt format) sent to the sites they belong to, for "
        "the operator's own accounts on sites that want a login. Read once at start (the "
        "server refuses to start when it can't read it) and never written to; each cookie goes "
        "only to the domain, path and scheme it belongs to. The CLI's --cookies FILE sets it.",
    )
    cookies_from_browser: str | None = Field(
        default=None,
        description="CLI only (mediadl get/info --cookies-from-browser): read cookies from the "
        "person's own browser, BROWSER[+KEYRING][:PROFILE][::CONTAINER] as yt-dlp takes it "
        "(brave, chrome, chromium, edge, firefox, opera, safari, vivaldi, whale). The server "
        "refuses to start with it: it has no browser of its visitors', so it would send the "
        "operator's own cookies; give it a cookies_file instead.",
    )
    disable_internals: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Private yt-dlp, aiohttp or Python internals mediadl should not use (names as "
        "'mediadl doctor' lists them, comma-separated; * for all): their public fallback is "
        "used instead. Without aiohttp's connector hooks the fetcher refuses to go through "
        "the proxy setting (it couldn't check where the proxy connects).",
    )

    # --- where links may lead (the egress guard) -------------------------------------------------
    allow_private: bool = Field(
        default=False,
        description="Let links lead to this machine and the local networks (loopback, private, "
        "shared and link-local addresses). Default: denied; the CLI allows them when this is not "
        "set, and its --allow-private / --deny-private flags win over it.",
    )
    allow_networks: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Networks (CIDRs, comma-separated, e.g. 127.0.0.2/32,fd00:1::/64) that links "
        "may lead to even when they are loopback, private or reserved.",
    )
    allow_other_protocols: bool = Field(
        default=False,
        description="Accept formats in protocols mediadl's fetcher can't bound (RTMP, RTSP, F4M, "
        "ISM…), which yt-dlp's or ffmpeg's own downloaders would fetch (past the egress guard "
        "and the proxy).",
    )

    # --- what strangers may make us do -----------------------------------------------------------
    max_page_size: int = Field(
        default=10 * MiB,
        ge=64 * 1024,
        description="Largest page, playlist or manifest, in bytes (decoded), read while "
        "extracting or fetching.",
    )
    max_fragments: int = Field(
        default=30_000,
        ge=1,
        description="Most fragments (segments) one format's manifest may list.",
    )
    max_playlist_items: int = Field(
        default=200, ge=1, description="Most entries read from one playlist or multi-item post."
    )
    max_duration: float | None = Field(
        default=12 * 3600.0,
        gt=0,
        description="Longest media, in seconds, accepted for download (empty: no limit).",
    )
    max_filesize: int | None = Field(
        default=16 * GiB,
        gt=0,
        description="Largest file, in bytes, accepted for download; counted on the bytes "
        "received, not only on what the site announced (empty: no limit).",
    )
    stream_disk_max: int = Field(
        default=2 * GiB,
        ge=0,
        description="Most bytes of temporary files one tunnel (a streamed download) may write, "
        "under data_dir/tmp: segments or byte ranges that arrive ahead of their turn once 4 MiB "
        "(segments) or 1 MiB (a file's ranges) of them wait in memory, and the whole file of a "
        "format only yt-dlp's downloaders fetch (streamed "
        "once complete). Past it the stream ends with content.too_large; the files go when the "
        "stream ends, fails or its client leaves. All tunnels together: at most max_streams "
        "times this.",
    )
    allow_live: bool = Field(
        default=False, description="Accept live streams (they have no end, so they're refused)."
    )
    extract_memory: int = Field(
        default=1 * GiB,
        ge=256 * MiB,
        description="Most memory (bytes of data: heap and writable mappings, not reserved "
        "address space) one extraction may use in the server; it runs in a child process that "
        "fails past it or is killed past extract_timeout. The JavaScript runtime it starts has "
        "the same budget of its own; below 1 GiB (what V8's compiler needs) it runs without "
        "its compiler (--jitless, slower).",
    )

    # --- the service (mediadl serve) -----------------------------------------------------------
    secret: SecretStr | None = Field(
        default=None,
        description="Key that signs download links (HMAC-SHA256); replicas sharing it serve "
        "each other's links. Default: one created at first start in the data directory.",
    )
    base_url: str | None = Field(
        default=None,
        description="Public origin put in the links the server hands out "
        "(https://dl.example.org). Default: the origin each request was made to.",
    )
    source_url: str | None = Field(
        default=None,
        description="Public address of the code this server runs (e.g. "
        "https://github.com/owner/mediadl), shown as git.remote in GET / for cobalt clients. "
        "Default: none shown (the checkout's own remote can be a local path or an internal host).",
    )
    tunnel_ttl: float = Field(
        default=3600.0,
        gt=0,
        le=7 * 86400,
        description="Seconds a download link (tunnel) stays valid, resumes included.",
    )
    resolve_cache_ttl: float = Field(
        default=300.0,
        ge=0,
        description="Seconds a resolved link is kept in memory and answered without extraction.",
    )
    resolve_workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Extractions (yt-dlp reading a link) the server runs at once, each in a "
        "child process of its own (see extract_timeout, extract_memory); more wait for one to "
        "end.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="API keys (UUIDs, comma-separated) accepted as 'Authorization: Api-Key <key>'.",
    )
    api_key_required: bool = Field(
        default=False, description="Refuse API requests without one of the API keys."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=["*"],
        description="Origins (comma-separated) whose web pages may call the API; * for any.",
    )
    max_request_body: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest request body, in bytes, of the native API; the default takes the "
        "largest valid one even with every character escaped (a 4096-character link: up to 48 "
        "KiB). cobalt's POST / takes at most 1 KiB, as cobalt does.",
    )
    max_streams_per_client: int = Field(
        default=4,
        ge=1,
        description="Downloads (tunnels) one client may have open at once (on all replicas "
        "together when rate_limit_storage is a redis:// URL).",
    )
    max_streams: int = Field(
        default=64,
        ge=1,
        description="Downloads (tunnels) served at once in total: by this process, or by all "
        "replicas together when rate_limit_storage is a redis:// URL.",
    )
    max_ffmpeg_tunnels: int = Field(
        default_factory=default_ffmpeg_tunnels,
        ge=1,
        description="Tunnels that run ffmpeg (video and audio joined, or converted) at once in "
        "this process; more wait in line for a place, first come first served "
        "(ffmpeg_queue_wait). Default: twice the CPU cores. Each is an ffmpeg of ~55 MB and up "
        "to a core: more at once only share the same cores. Counted per process even when "
        "rate_limit_storage is a redis:// URL (memory and cores are each machine's). Tunnels "
        "that pass a file on as it is don't count.",
    )
    ffmpeg_queue_wait: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a tunnel waits in line for an ffmpeg place (max_ffmpeg_tunnels); "
        "then it is answered 503 server.busy with Retry-After. A waiting tunnel holds its "
        "download slot (max_streams).",
    )
    stream_slot_ttl: float = Field(
        default=30.0,
        ge=1.0,
        description="With Redis, seconds a download slot outlives the last heartbeat of its "
        "server (sent every third of it): a replica that dies gives its slots back after this.",
    )
    max_event_streams_per_client: int = Field(
        default=8,
        ge=1,
        description="Progress streams (tunnel/events, resolve/events) one client may have open "
        "at once on this server; more are answered 429 rate.events.",
    )
    event_stream_idle: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a tunnel's or a job's progress stream stays open without an "
        "event; then it ends and the page subscribes again.",
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Connections and requests served at once; past it new requests get 503 "
        "(mediadl serve).",
    )
    max_connections_per_client: int = Field(
        default=64,
        ge=1,
        description="Connections one address (an IPv6 /64) may hold open at once; more are "
        "closed at once. Not applied to MEDIADL_TRUSTED_PROXIES (mediadl serve).",
    )
    request_head_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a client has to send a whole request head, from connecting or from "
        "the end of its previous answer; then the connection is closed (mediadl serve).",
    )
    keep_alive_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds an idle kept-alive connection stays open (mediadl serve).",
    )
    rate_limit: str = Field(
        default="20/minute;200/hour",
        description="Requests that read a link (resolve, download, POST /api/v1/jobs, cobalt's "
        "POST /) one client may make, in 'N/period' items separated by ';' (e.g. "
        "20/minute;200/hour).",
    )
    rate_limit_media: str = Field(
        default="300/minute",
        description="Tunnel, thumbnail, progress stream and saved job file requests one client "
        "may make.",
    )
    rate_limit_keyed: str = Field(
        default="200/minute",
        description="Link-reading requests allowed per API key (instead of rate_limit).",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters and download slots live: memory:// (one "
        "process) or redis://host:port, rediss:// (shared by replicas; other schemes the limits "
        "library knows share the rate limits only).",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Networks (CIDRs, comma-separated) of reverse proxies whose X-Forwarded-For "
        "header names the client; from anyone else it is ignored.",
    )
    cobalt_redirect: bool = Field(
        default=False,
        description="Answer cobalt requests for one plain file with a redirect to the site's "
        "own link instead of a tunnel (saves bandwidth; the link may only work from the server).",
    )
    cobalt_local_processing: bool = Field(
        default=True,
        description="When a cobalt client prefers local processing (localProcessing: preferred "
        "or forced) and the file would be separate video and audio joined by the server, answer "
        "local-processing: one tunnel per stream, joined in the browser; the server only relays "
        "bytes and runs no ffmpeg (a quarter to a half of the server CPU per download, "
        "bench/cobalt_local_bench.py).",
    )

    # --- jobs: downloads kept on the server ------------------------------------------------------
    jobs: bool = Field(
        default=False,
        description="Offer jobs: downloads the server runs and keeps in download_dir (they "
        "store files on the server, so they are off unless turned on).",
    )
    jobs_open: bool = Field(
        default=False,
        description="Let anyone use jobs without an API key (then everyone sees every job). "
        "Otherwise jobs need one of api_keys, and each key sees only its own jobs.",
    )
    download_dir: Path | None = Field(
        default=None,
        description="Folder where jobs publish their files, one folder per job (all replicas "
        "and workers must mount the same one). Work in progress is kept in its hidden "
        ".mediadl-work folder. Default: downloads/ in the data directory.",
    )
    queue: str = Field(
        default="sqlite",
        description="Where jobs wait and their state lives: sqlite (jobs/jobs.db and "
        "jobs/queue.db in the data directory; mediadl serve runs them itself) or "
        "redis://host:port/db (shared by "
        "every replica and `mediadl worker`; use a Redis that persists, e.g. appendonly).",
    )
    job_workers: int = Field(
        default=2,
        ge=0,
        le=64,
        description="Jobs one process runs at once: mediadl worker, or mediadl serve with the "
        "sqlite queue (with a redis:// queue, see serve_job_workers).",
    )
    serve_job_workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="With a redis:// queue: jobs each mediadl serve replica runs itself "
        "besides the mediadl worker processes (default none).",
    )
    job_max_running: int = Field(
        default=8,
        ge=1,
        description="Jobs running at once on all workers together.",
    )
    job_max_per_site: int = Field(
        default=2,
        ge=1,
        description="Jobs running at once on all workers together for one site (host name).",
    )
    job_lease: float = Field(
        default=30.0,
        ge=1.0,
        description="Seconds a running job's worker must renew its lease within (it does every "
        "third of it); a job whose worker died is run again, from what is on disk, after this, "
        "and a queued job whose queue message was lost is queued again.",
    )
    job_ttl: float = Field(
        default=7 * 86400.0,
        ge=0,
        description="Seconds a finished, failed or cancelled job and its files are kept; 0 "
        "keeps them until removed.",
    )
    download_quota: int | None = Field(
        default=None,
        ge=0,
        description="Bytes the downloads folder may hold; past it new jobs are refused "
        "(jobs.quota), and a job that would pass it fails (jobs.quota) before publishing a "
        "file. Default: no limit.",
    )

    # --- operations: metrics and logs ------------------------------------------------------------
    metrics: bool = Field(
        default=False,
        description="Answer GET /metrics in Prometheus's text format (requests, tunnels, bytes "
        "streamed, ffmpeg places taken and waited for, extractions, jobs, queue length, "
        "workers). Off by default: it tells about "
        "the server's traffic. When on it needs metrics_key unless metrics_open is set.",
    )
    metrics_key: SecretStr | None = Field(
        default=None,
        description="The key a scraper sends as `Authorization: Bearer <key>` (Prometheus's "
        "authorization.credentials) or `Api-Key <key>`. A key of its own, not one of "
        "api_keys: a scraper's key creates no jobs, and an API user reads no metrics.",
    )
    metrics_open: bool = Field(
        default=False,
        description="Let anyone read /metrics without a key (a server only a private network "
        "reaches, or one behind a proxy that guards /metrics).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines of mediadl serve, mediadl worker and the jobs' processes: text "
        "(one readable line each, ending in [request <id>] when it belongs to a request) or json "
        "(one JSON object per line: time, level, logger, message, request_id, and the access "
        "log's client, method, path, status).",
    )

    @field_validator(
        "api_keys",
        "cors_origins",
        "allow_networks",
        "trusted_proxies",
        "disable_internals",
        "no_proxy",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: object) -> object:
        """Environment values are comma-separated (a JSON list works too)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            UUID(key)  # raises ValueError: "badly formed hexadecimal UUID string"
        return [key.lower() for key in keys]

    @field_validator("allow_networks", "trusted_proxies")
    @classmethod
    def _check_networks(cls, values: list[str]) -> list[str]:
        import ipaddress

        out = []
        for value in values:
            try:
                out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a network (CIDR) or an address") from exc
        return out

    @field_validator("proxy")
    @classmethod
    def _check_proxy(cls, value: str | None) -> str | None:
        """A proxy URL mediadl can use: scheme, host and port (the error shows no password)."""
        if not value or not value.strip():
            return None
        from mediadl.proxyurl import parse_proxy

        parse_proxy(value)  # raises ValueError saying what is wrong, without the credentials
        return value.strip()

    @field_validator("js_runtime")
    @classmethod
    def _check_js_runtime(cls, value: str) -> str:
        """``NAME`` or ``NAME:PATH``, known to yt-dlp and found; kept as ``NAME:PATH``."""
        return check_js_runtime(value)

    @field_validator("metrics_key")
    @classmethod
    def _check_metrics_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("use at least 16 characters (e.g. `openssl rand -hex 16`)")
        return value

    @field_validator("queue")
    @classmethod
    def _check_queue(cls, value: str) -> str:
        if value != "sqlite" and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use sqlite or a redis://host:port/db URL")
        return value

    @field_validator("rate_limit", "rate_limit_media", "rate_limit_keyed")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        """Read by the ``limits`` library, which is imported only for a value that isn't one of
        the defaults (a test reads those): it costs every command ~30 ms and the CLI uses none."""
        if value in _DEFAULT_RATES:
            return value
        from limits import parse_many

        parse_many(value)  # raises ValueError naming what it couldn't read
        return value


_DEFAULT_RATES = frozenset(
    Settings.model_fields[name].default
    for name in ("rate_limit", "rate_limit_media", "rate_limit_keyed")
)
"""The rate limits' defaults, known to be valid."""


def settings_table() -> str:
    """Every setting as a Markdown table: the body of ``docs/settings.md``."""
    rows = [
        "| environment variable | type | default | what it does |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = "(computed)" if field.default_factory else repr(field.default)
        kind = getattr(field.annotation, "__name__", None) or str(field.annotation)
        kind = kind.replace("|", "\\|")
        rows.append(f"| `MEDIADL_{name.upper()}` | `{kind}` | `{default}` | {field.description} |")
    return "\n".join(rows) + "\n"


def render_docs() -> str:
    return (
        "# Settings\n\n"
        "Every setting is read from the environment (`MEDIADL_<NAME>`); the server and the CLI "
        "share them. This page is generated by `python -m mediadl.settings`.\n\n" + settings_table()
    )


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_docs())
