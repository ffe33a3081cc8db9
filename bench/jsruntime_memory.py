"""How much memory the JavaScript runtime needs to solve a challenge, under each kind of limit.

    .venv/bin/python bench/jsruntime_memory.py [--functions 40000]

Builds a stand-in player of ``--functions`` filler functions (40,000 make ~3.4 MB, the size of
YouTube's) around the shape the yt-dlp-ejs solver looks for, then runs the solver the way yt-dlp
runs deno under ``RLIMIT_AS`` and ``RLIMIT_DATA`` of growing sizes, with V8's compiler and
``--jitless``, and prints the smallest limit of each that solved it, and the time taken. The
numbers behind ``mediadl.engine.jsruntime`` and the extraction child's data limit.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import time

from yt_dlp_ejs.yt import solver

from mediadl.settings import Settings

MiB = 1 << 20
LIMITS_MIB = [256, 384, 512, 640, 768, 896, 1024, 1536, 2048, 8192, 32768, 34816, 40960]
FLAGS = ["--ext=js", "--no-prompt", "--no-remote", "--no-npm", "--cached-only", "--no-config"]

PLAYER = """(function(g){
var q = {y: function(){}};
function T(){ this.m = {}; }
T.prototype.turn = function(){ var n = this.m.n; if (n) this.m.n = "N" + n; };
T.prototype.set = function(k, v){ this.m[k] = v; };
T.prototype.get = function(k){ return this.m[k]; };
%s
function mk(u, sp, s){ q.y("alr", "yes"); var t = new T(); if (s) t.set(sp, s); return t; }
}).call(this);
"""


def script(functions: int) -> str:
    filler = "\n".join(
        f"var f{i} = function(a){{var b=a.split('');b.reverse();return b.join('')+{i};}};"
        for i in range(functions)
    )
    request = {"type": "n", "challenges": ["abc"]}
    data = {"type": "player", "player": PLAYER % filler, "requests": [request]}
    return (
        f"{solver.lib()}\nObject.assign(globalThis, lib);\n{solver.core()}\n"
        f"console.log(JSON.stringify(jsc({json.dumps(data)})));\n"
    )


def solves(deno: str, stdin: str, kind: int, limit: int, jitless: bool) -> float | None:
    """Seconds to solve under the limit, or None when the runtime failed."""

    def cap() -> None:
        resource.setrlimit(kind, (limit, limit))

    flags = [*FLAGS, "--v8-flags=--jitless"] if jitless else FLAGS
    started = time.monotonic()
    done = subprocess.run(
        [deno, "run", *flags, "-"],
        input=stdin,
        capture_output=True,
        text=True,
        preexec_fn=cap,
        check=False,
    )
    ok = done.returncode == 0 and '"abc":"Nabc"' in done.stdout
    return time.monotonic() - started if ok else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=40_000)
    args = parser.parse_args()
    deno = Settings(js_runtime="deno").js_runtime.partition(":")[2]
    stdin = script(args.functions)
    print(f"player: {len(stdin) / MiB:.1f} MiB of script; deno: {deno}")
    for name, kind in (("RLIMIT_DATA", resource.RLIMIT_DATA), ("RLIMIT_AS", resource.RLIMIT_AS)):
        for jitless in (False, True):
            mode = "jitless" if jitless else "jit"
            for mib in LIMITS_MIB:
                seconds = solves(deno, stdin, kind, mib * MiB, jitless)
                if seconds is not None:
                    print(f"{name:11} {mode:7}: solved from {mib} MiB on, in {seconds:.1f} s")
                    break
            else:
                print(f"{name:11} {mode:7}: not solved up to {LIMITS_MIB[-1]} MiB")


if __name__ == "__main__":
    main()
