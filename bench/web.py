"""Benchmark the web application on the 1M-invoice ledger: dashboard home, a customer page
and an API list page, each under 50 concurrent clients for 30 seconds.

Usage::

    python bench/web.py [--invoices 1000000] [--clients 50] [--seconds 30] [--keep DIR]

The ledger comes from ``shared/bench/make_dataset.py`` (cached in ``bench/data``). It is
imported into SQLite, the standard policy applied and the run made for 2026-06-30; then
``pastdue serve`` runs in its own process and ``bench/load.py`` drives it from another, on
loopback, with a logged-in dashboard session or an API key. Printed per page: requests per
second and p50/p90/p99 latency. Targets on this machine: home and customer page p99 <= 100
ms, API list >= 500 requests/s. It asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ledger import GENERATOR, HERE, dataset  # bench/ledger.py: the shared dataset cache
from pastdue.policies import standard_policy_toml

AS_OF = "2026-06-30"
USER, PASSWORD = "bench@pastdue.example", "bench-password-2026"
TARGETS = {
    "home": "p99 <= 100 ms",
    "customer page": "p99 <= 100 ms",
    "busiest customer": "(hundreds of invoices)",
    "API list": ">= 500 requests/s",
}


def pastdue(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pastdue", *args], env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"pastdue {' '.join(args)} failed:\n{done.stderr}")
    print(f"  pastdue {args[0]:<10} {time.perf_counter() - started:7.1f} s", flush=True)
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(work: Path, source: Path, env: dict[str, str]) -> str:
    """Import, apply the policy, run, add a user; returns an API key with the read scope."""
    policy = work / "standard.toml"
    policy.write_text(standard_policy_toml("catch-up"), encoding="utf-8")
    pastdue(["init"], env)
    pastdue(["import", str(source)], env)
    pastdue(["policy", "apply", str(policy)], env)
    pastdue(["run", "--as-of", AS_OF, "--json"], env)
    pastdue(["users", "add", USER, "--name", "Bench", "--role", "admin", "--password-stdin"], env, PASSWORD)
    created = pastdue(["apikeys", "create", "--scope", "read", "--name", "bench"], env)
    key = re.search(r"pd_live_\S+", created)
    if key is None:
        sys.exit(f"no API key in: {created}")
    return key.group()


def session_cookie(base: str) -> str:
    with httpx.Client(base_url=base, timeout=60) as http:
        page = http.get("/login")
        secret = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert secret is not None, "the login page has no form secret"
        answer = http.post("/login", data={"csrf": secret.group(1), "email": USER, "password": PASSWORD})
        if answer.status_code != 303:
            sys.exit(f"log-in failed: {answer.status_code} {answer.text[:200]}")
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def customers_to_show(db: Path) -> tuple[str, str]:
    """A typical customer (the median number of invoices) and the busiest one."""
    with sqlite3.connect(db) as connection:
        counts = connection.execute(
            "SELECT customer_id, COUNT(*) AS n FROM invoices WHERE tenant_id = 'bench' GROUP BY customer_id ORDER BY n"
        ).fetchall()
    return counts[len(counts) // 2][0], counts[-1][0]


def load(url: str, clients: int, seconds: float, header: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(HERE / "load.py"), url, "--clients", str(clients), "--seconds", str(seconds),
         "--header", header],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="Work in this folder and keep it.")
    options = parser.parse_args()
    source = dataset(options.invoices, options.data or HERE / "data" / f"{options.invoices}-seed7", GENERATOR)
    work = options.keep or Path(tempfile.mkdtemp(prefix="pastdue-web-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "pastdue.db"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PASTDUE_DATABASE_URL": f"sqlite:///{db}",
        "PASTDUE_TENANT": "bench",
        "PASTDUE_BASE_URL": base,
    }
    if not db.exists():
        print(f"preparing {db} ...", flush=True)
        key = prepare(work, source, env)
        (work / "key.txt").write_text(key)
    key = (work / "key.txt").read_text().strip()
    server = subprocess.Popen(
        [sys.executable, "-m", "pastdue", "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
    )
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        cookie = session_cookie(base)
        typical, busiest = customers_to_show(db)
        # Warm up: the home figures are computed once, then kept.
        for path in ("/", f"/customers/{typical}", f"/customers/{busiest}"):
            for _ in range(30):
                if httpx.get(base + path, headers={"Cookie": cookie}, timeout=120).status_code == 200:
                    break
                time.sleep(1)
        pages = [
            ("home", f"{base}/", f"Cookie: {cookie}"),
            ("customer page", f"{base}/customers/{typical}", f"Cookie: {cookie}"),
            ("busiest customer", f"{base}/customers/{busiest}", f"Cookie: {cookie}"),
            ("API list", f"{base}/api/v1/invoices?limit=20&status=open", f"Authorization: Bearer {key}"),
        ]
        print(f"{options.clients} clients, {options.seconds:.0f} s each, pastdue serve on {base}")
        print(f"{'page':<17} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}  target")
        for name, url, header in pages:
            r = load(url, options.clients, options.seconds, header)
            print(
                f"{name:<17} {r['rps']:8.1f} {r['p50_ms']:8.1f} {r['p90_ms']:8.1f} {r['p99_ms']:8.1f} "
                f"{r['errors']:7.0f}  {TARGETS[name]}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
