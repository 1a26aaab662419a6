"""Shared helpers of the benchmark scripts: paths, the loopback feed server, measured runs."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
DATA = BENCH / "data"
# The cargo profile whose binaries are measured: `release` by default; `VEILLE_PROFILE=dist` for the
# deployable build (fat LTO, see Cargo.toml).
PROFILE = os.environ.get("VEILLE_PROFILE", "release")
VEILLE = ROOT / "target" / PROFILE / "veille"
SERVER = ROOT / "target" / PROFILE / "examples" / "bench-server"


def need_binaries() -> None:
    """Exits with the build command when the release binaries are missing."""
    missing = [p for p in (VEILLE, SERVER) if not p.exists()]
    if missing:
        sys.exit(
            "missing " + ", ".join(str(p) for p in missing) + "\n"
            f"build them first: cargo build --profile {PROFILE} --bin veille --example bench-server"
        )


def venv(*packages: str) -> Path:
    """Creates bench/.venv when needed and installs `packages` (pinned specs) into it."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    have = subprocess.run(
        [str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    ).stdout.lower()
    wanted = [p for p in packages if p.lower() not in have.split()]
    if wanted:
        print(f"installing {' '.join(wanted)} into {VENV}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *wanted], check=True)
    return VENV / "bin"


class FeedServer:
    """The loopback feed server (`bench/server.rs`), started for the life of a `with` block."""

    def __init__(self, feeds: int, items: int, seed: int, threads: int = 1):
        self.args = [str(SERVER), "--feeds", str(feeds), "--items", str(items),
                     "--seed", str(seed), "--threads", str(threads)]
        self.proc: subprocess.Popen | None = None
        self.base = ""

    def __enter__(self) -> "FeedServer":
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        m = re.match(r"listening on (http://\S+)", line)
        if not m:
            self.proc.kill()
            sys.exit(f"bench-server did not start: {line!r}")
        self.base = m.group(1)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait()

    def feeds(self) -> list[tuple[str, str, str]]:
        """(name, language, url) of every served feed."""
        with urllib.request.urlopen(self.base + "/index.txt") as r:
            text = r.read().decode()
        return [tuple(line.split("\t")) for line in text.splitlines() if line]

    def stats(self) -> dict:
        import json

        with urllib.request.urlopen(self.base + "/stats") as r:
            return json.loads(r.read())

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far (from /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Measure:
    wall: float
    cpu: float
    rss_mib: float
    code: int
    stdout: str
    stderr: str


GNU_TIME = Path("/usr/bin/time")


def measured(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> Measure:
    """Runs `cmd`, returning wall time, CPU time (user + sys, children included) and peak RSS.

    The figures come from GNU time (`/usr/bin/time`, Debian package `time`) when installed: a
    process's peak RSS (`ru_maxrss`) keeps the high-water mark of the process it was forked from,
    so measuring straight from this Python process would report at least Python's own size
    (~25 MiB) for any command. Without GNU time, the kernel's rusage of the child (`wait4`) is
    used and the RSS is only an upper bound."""
    out_path = DATA / ".stdout"
    err_path = DATA / ".stderr"
    times_path = DATA / ".time"
    gnu = GNU_TIME.exists()
    if gnu:
        cmd = [str(GNU_TIME), "-f", "%M", "-o", str(times_path), *cmd]
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    cpu, rss_kib = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
    if gnu:  # wall and CPU stay the precise ones from wait4 (GNU time's include its child's)
        rss_kib = int(times_path.read_text().split()[-1])
    return Measure(
        wall=wall,
        cpu=cpu,
        rss_mib=rss_kib / 1024,  # KiB on Linux
        code=code,
        stdout=out_path.read_text(),
        stderr=err_path.read_text(),
    )


def machine() -> str:
    """One line: CPU model, cores, RAM, OS."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return (f"{model}, {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.1f} GiB RAM, "
            f"Linux {platform.release()}")
