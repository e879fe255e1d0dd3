"""Bodies and connections (issue 15, section 3): limits hold while bytes arrive.

Big bodies are refused without being held (the server's VmRSS is sampled while they are
sent), an unauthenticated body gets 401 before it is looked at, the listen backlog takes a
burst, a head that never ends is closed, and stream slots come back.
"""

import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from gateway_fixture import sanitized_build

MB = 1024 * 1024
# ASan's quarantine keeps freed memory (and its shadow grows with each allocation): an RSS
# bound holds only for an uninstrumented build; the statuses are checked either way
RSS_BOUNDED = not sanitized_build()


def assert_rss_bounded(peak, limit, what):
    growth = peak.growth()  # stops the sampler either way: it must not outlive the process
    if RSS_BOUNDED:
        assert growth < limit, what


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    """Samples a process's VmRSS in the background; `peak` is the highest seen."""

    def __init__(self, pid):
        self.pid, self.base, self.peak = pid, rss(pid), 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.01)

    def growth(self):
        self.done.set()
        self.thread.join()
        return max(self.peak, rss(self.pid)) - self.base


def send_body(url, head, total, chunked):
    """Sends `head` then `total` bytes of body (in chunks if asked), returns the status line."""
    host, port = url.split("//")[1].split(":")
    piece = b" " * MB
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head)
        sent = 0
        try:
            while sent < total:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close once it has answered
        reply = sock.recv(4096)
    return reply.split(b"\r\n", 1)[0].decode()


def request_head(url, method, path, extra):
    host = url.split("//")[1]
    return (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n").encode()


def test_chunked_200mb_is_refused_with_bounded_memory(serve_factory, gateway_factory):
    s = serve_factory()
    gw = gateway_factory()
    chunked = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    for url, pid, path in ((s.url, s.proc.pid, "/start"), (gw.url, gw.proc.pid, "/v1/streams")):
        peak = PeakRss(pid)
        status = send_body(url, request_head(url, "POST", path, chunked), 200 * MB, chunked=True)
        assert " 413 " in status + " ", (path, status)
        assert_rss_bounded(peak, 64 * MB, path)
    # frames have a bigger limit (64 MiB), chunked too
    peak = PeakRss(s.proc.pid)
    head = request_head(
        s.url, "POST", "/frames?width=64&height=64", chunked.replace("json", "octet-stream")
    )
    assert " 413" in send_body(s.url, head, 200 * MB, chunked=True)
    assert_rss_bounded(peak, 96 * MB, "/frames")
    assert requests.get(f"{s.url}/healthz", timeout=5).status_code == 200


def test_unauthenticated_body_is_401_before_it_is_read(serve_factory, gateway_factory, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    token.chmod(0o600)
    s = serve_factory("--access-token-file", str(token))
    gw = gateway_factory("--api-key-file", str(token))
    cases = (
        # 100 MB declared: 401 (not the 413 its size would get after a valid token)
        (
            s,
            "/frames",
            f"Content-Type: application/octet-stream\r\nContent-Length: {100 * MB}\r\n",
            False,
        ),
        (s, "/start", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", True),
        (
            gw,
            "/v1/streams",
            f"Content-Type: application/json\r\nContent-Length: {100 * MB}\r\n",
            False,
        ),
        (
            gw,
            "/v1/streams",
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
            True,
        ),
    )
    for server, path, extra, chunked in cases:
        peak = PeakRss(server.proc.pid)
        status = send_body(
            server.url, request_head(server.url, "POST", path, extra), 100 * MB, chunked
        )
        assert " 401 " in status + " ", (path, status)
        assert_rss_bounded(peak, 32 * MB, path)
    # under the limits and with the token, the same routes answer
    r = requests.post(
        f"{gw.url}/v1/streams",
        json={"params": {}},
        headers={"Authorization": "Bearer s3cret"},
        timeout=10,
    )
    assert r.status_code == 201


def listen_backlog(port):
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return [int(line.split()[2]) for line in out.splitlines() if line.strip()]


def somaxconn():
    with open("/proc/sys/net/core/somaxconn") as f:
        return int(f.read())


def test_listen_backlog_takes_a_burst(serve_factory, gateway_factory):
    s = serve_factory()
    gw = gateway_factory()
    want = min(511, somaxconn())
    for url in (s.url, gw.url):
        assert listen_backlog(int(url.rsplit(":", 1)[1])) == [want], url

    # 500 /status at once, each on its own connection: none fails (no time is asserted:
    # bench/serve_concurrency.py measures p50/p99)
    def one(_):
        try:
            return requests.get(
                f"{s.url}/status", timeout=60, headers={"Connection": "close"}
            ).status_code
        except requests.RequestException as exc:
            return repr(exc)

    with ThreadPoolExecutor(500) as pool:
        results = list(pool.map(one, range(500)))
    failures = [r for r in results if r != 200]
    assert not failures, failures[:5]


def test_slow_heads_are_closed(serve_factory, gateway_factory):
    s = serve_factory()
    gw = gateway_factory()
    for url in (s.url, gw.url):
        host, port = url.split("//")[1].split(":")
        with socket.create_connection((host, int(port)), timeout=40) as sock:
            # a complete first line and one header, then nothing: the head never ends
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            try:
                got = sock.recv(4096)
            except ConnectionResetError:  # closed with the unread head still queued
                got = b""
            assert got == b"", url  # closed by the server, no answer
        # a head that comes whole, if in pieces, is served
        with socket.create_connection((host, int(port)), timeout=40) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            time.sleep(0.3)
            sock.sendall(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")


def test_deleted_and_stopped_streams_free_their_slots(serve_factory):
    s = serve_factory()
    cfg = {"frame_rate": 5, "frame_width": 64, "frame_height": 64}
    # 40 create/stop/DELETE cycles: 32 slots would have run out at the 32nd
    for i in range(40):
        name = f"cycle-{i}"
        assert (
            requests.post(f"{s.url}/streams/{name}/config", json=cfg, timeout=10).status_code == 200
        ), i
        assert requests.post(f"{s.url}/streams/{name}/stop", timeout=10).status_code == 200
        r = requests.delete(f"{s.url}/streams/{name}", timeout=10)
        assert r.status_code == 200 and r.json() == {"deleted": True, "stream_name": name}
        assert requests.get(f"{s.url}/streams/{name}/status", timeout=10).status_code == 404
    assert requests.delete(f"{s.url}/streams/cycle-0", timeout=10).status_code == 404
    assert requests.delete(f"{s.url}/streams/default", timeout=10).status_code == 409
    # without DELETE, stopped streams give their slots to new ones
    for i in range(40):
        r = requests.post(f"{s.url}/streams/kept-{i}/config", json=cfg, timeout=10)
        assert r.status_code == 200, (i, r.text)
    names = [x["name"] for x in requests.get(f"{s.url}/streams", timeout=10).json()["streams"]]
    assert "default" in names and "kept-39" in names and len(names) <= 32
    assert requests.get(f"{s.url}/healthz", timeout=5).status_code == 200


def closed_within(sock, seconds):
    """Whether the server closes `sock` (EOF or reset) within `seconds`, reading what comes."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        return False
    return True


def test_idle_connections_are_closed(serve_factory, gateway_factory):
    s = serve_factory("--idle-timeout", "2")
    gw = gateway_factory("--api-delay", "3500")
    host, port = s.url.split("//")[1].split(":")
    # kept alive after an answer, then silent
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request_head(s.url, "GET", "/healthz", ""))
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert closed_within(sock, 30)
    # a body that stops coming
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        extra = "Content-Type: application/json\r\nContent-Length: 100\r\n"
        sock.sendall(request_head(s.url, "POST", "/config", extra) + b'{"frame_rate"')
        assert closed_within(sock, 30)
    # an answer that takes longer than the idle timeout (a slow Daydream) still comes
    slow = serve_factory(
        "--idle-timeout", "1", env={"DAYDREAM_API_URL": gw.url, "DAYDREAM_API_KEY": "k"}
    )
    r = requests.post(f"{slow.url}/start", json={}, timeout=30)
    assert r.status_code == 200, r.text
    assert requests.post(f"{slow.url}/stop", timeout=10).status_code == 200
