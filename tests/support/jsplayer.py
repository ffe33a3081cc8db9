"""A stand-in for YouTube's player, served locally, and an extractor that has yt-dlp solve it.

YouTube's challenge solver (``yt-dlp-ejs``) looks in the player for a function that calls
``X.y("alr", "yes")`` and returns a URL object with ``set``/``get`` and one transform method; it
then computes ``n`` and the signature through that method. :data:`PLAYER` has that shape: ``n``
becomes ``"N"`` + its reverse, a signature its reverse. Its transform also tries what a hostile
player would (read a file, read the environment, start a process) and appends what happened, so
a test sees the runtime's sandbox from the inside.

:class:`JsChallengeIE` runs in the extraction child: it asks yt-dlp's own challenge director
(the one YouTube extraction uses) to solve one ``n`` and one signature challenge from the player
at the page's ``player=`` address, and returns the answers (and the child's data limit and
runtime flags) as the video's title.
"""

from __future__ import annotations

import json
import resource
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.extractor.youtube.jsc.provider import (
    JsChallengeRequest,
    JsChallengeType,
    NChallengeInput,
    SigChallengeInput,
)

PLAYER_PATH = "/s/player/0123abcd/player_ias.vflset/en_US/base.js"

PLAYER = """(function(g){
var q = {y: function(){}};
function T(){ this.m = {}; }
function tries(){
  var out = [];
  var attempts = [
    function(){ return Deno.readTextFileSync("/etc/hostname"); },
    function(){ return Deno.env.get("HOME"); },
    function(){ return new Deno.Command("true").outputSync(); }
  ];
  for (var i = 0; i < attempts.length; i++) {
    try { attempts[i](); out.push("allowed"); } catch (e) { out.push(e.name); }
  }
  try { fetch("LEAK_URL").catch(function(){}); } catch (e) {}
  out.push(Deno.permissions.querySync({name: "net"}).state);
  return out.join(",");
}
T.prototype.turn = function(){
  var s = this.m.s; if (s) this.m.s = s.split("").reverse().join("");
  var n = this.m.n; if (n) this.m.n = "N" + n.split("").reverse().join("") + "|" + tries();
};
T.prototype.set = function(k, v){ this.m[k] = v; };
T.prototype.get = function(k){ return this.m[k]; };
function mk(u, sp, s){ q.y("alr", "yes"); var t = new T(); if (s) t.set(sp, s); return t; }
}).call(this);
"""


class PlayerServer:
    """Where the player is, and every path asked for (a fetch from the player lands here)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.paths: list[str] = []


@contextmanager
def serving_player(host: str) -> Iterator[PlayerServer]:
    """An HTTP server on ``host`` that serves :data:`PLAYER` (its fetch aimed at ``/leak``)."""
    served: list[PlayerServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served[0].paths.append(self.path)
            origin = f"http://{host}:{self.server.server_address[1]}"
            player = PLAYER.replace("LEAK_URL", f"{origin}/leak")
            body = player.encode() if self.path == PLAYER_PATH else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/javascript")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.append(PlayerServer(f"http://{host}:{server.server_address[1]}{PLAYER_PATH}"))
    try:
        yield served[0]
    finally:
        server.shutdown()
        server.server_close()


class JsChallengeIE(InfoExtractor):  # type: ignore[misc]
    """``http://127.0.0.2:<port>/jsc?player=<url>``: solve the player's challenges, say how."""

    IE_NAME = "jsc-test"
    _VALID_URL = r"http://127\.0\.0\.2:\d+/jsc\?player=.+"

    def _real_extract(self, url: str) -> dict[str, Any]:
        player_url = parse_qs(urlsplit(url).query)["player"][0]
        youtube = self._downloader.get_info_extractor("Youtube")
        youtube.initialize()
        requests = [
            JsChallengeRequest(JsChallengeType.N, NChallengeInput(player_url, ["abc"]), "x"),
            JsChallengeRequest(JsChallengeType.SIG, SigChallengeInput(player_url, ["xyz"]), "x"),
        ]
        answers = {
            request.type.value: response.output.results
            for request, response in youtube._jsc_director.bulk_solve(requests)
        }
        report = {
            "answers": answers,
            "data_limit": resource.getrlimit(resource.RLIMIT_DATA)[0],
            "extractor_args": self._downloader.params.get("extractor_args", {}),
        }
        return {"id": "jsc", "title": json.dumps(report), "url": player_url, "ext": "mp4"}
