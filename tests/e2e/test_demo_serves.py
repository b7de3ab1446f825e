"""``pastdue demo`` ends by serving the dashboard: the printed user can log in, the printed
portal link opens a customer's portal."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pastdue.errors import ConfigurationError
from pastdue.pdf import check_pdf_support


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_demo_serves_a_dashboard_the_printed_user_logs_in_to(tmp_path: Path) -> None:
    try:
        check_pdf_support()
    except ConfigurationError as missing:
        pytest.skip(f"the demo prints letters: {missing}")
    port = free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "COLUMNS": "200"}
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "pastdue", "demo", "--dir", str(tmp_path / "demo"), "--invoices", "200",
             "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while "serving the dashboard" not in log.read_text() and time.monotonic() < deadline:
            assert demo.poll() is None, log.read_text()
            time.sleep(0.2)
        printed = log.read_text().replace("\n", " ")
        user = re.search(r"user (\S+)\s+password (\S+)", printed)
        portal = re.search(r"(http://127\.0\.0\.1:\d+/portal/access/\S+)", printed)
        assert user and portal, printed
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(100):
                try:
                    page = http.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            secret = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert secret is not None
            answer = http.post(
                "/login", data={"csrf": secret.group(1), "email": user.group(1), "password": user.group(2)}
            )
            assert answer.status_code == 303
            assert http.get("/").status_code == 200
            opened = http.get(portal.group(1), follow_redirects=True)
            assert opened.status_code == 200 and "<form" in opened.text
    finally:
        demo.terminate()
        demo.wait(timeout=30)
