"""whipsink retries a failed attempt at every stage, with backoff, then errors.

Each endpoint here fails one way: connection refused, a DNS failure (a name under
.invalid), 503, no answer within `timeout`, an answer whose ICE never connects, an answer
whose ICE connects but whose DTLS never starts, and reconnects refused after a connected
session. Every attempt must happen (the first one and the later ones), the announced delays
must grow, no POST may come sooner than announced, and max-reconnects failed attempts end in
an element error. Inside scripts/netns-run (the ICE stages make real peer connections).
"""

import asyncio
import contextlib
import http.server
import re
import secrets
import threading
import time

import aioice
import pytest
import requests

from drtc_peers import in_drtc_netns
from gst_fixture import Pipeline, solid, states
from timescale import scaled

pytestmark = pytest.mark.skipif(
    not in_drtc_netns(), reason="peer connections run only inside scripts/netns-run"
)

MAX = 2  # max-reconnects: MAX + 1 attempts in all


def answer_for(offer, ufrag, pwd, candidates):
    """A recvonly answer to @offer with these ICE credentials and candidates, DTLS client."""
    out = []
    for line in offer.splitlines():
        if line.startswith(("a=candidate", "a=end-of-candidates", "a=ssrc", "a=ice-ufrag")):
            continue
        if line.startswith(("a=ice-pwd", "a=ice-options", "a=fingerprint", "a=setup")):
            continue
        line = line.replace("a=sendonly", "a=recvonly")
        out.append(line)
        if line.startswith("m="):
            out += [
                f"a=ice-ufrag:{ufrag}",
                f"a=ice-pwd:{pwd}",
                "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
                "a=setup:active",
            ]
            out += [f"a={c}" for c in candidates] + ["a=end-of-candidates"]
    return "\r\n".join(out) + "\r\n"


class IcePeer:
    """An ICE agent (aioice) that answers offers and completes ICE, then says nothing more:
    no DTLS ClientHello ever comes from it."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.agents = []

    def answer(self, offer):
        return asyncio.run_coroutine_threadsafe(self._answer(offer), self.loop).result(scaled(20))

    async def _answer(self, offer):
        agent = aioice.Connection(ice_controlling=False, use_ipv6=False)
        self.agents.append(agent)
        await agent.gather_candidates()
        agent.remote_username = re.search(r"a=ice-ufrag:(\S+)", offer).group(1)
        agent.remote_password = re.search(r"a=ice-pwd:(\S+)", offer).group(1)
        for cand in re.findall(r"a=candidate:(.+)", offer):
            if " udp " in cand.lower():
                await agent.add_remote_candidate(aioice.Candidate.from_sdp(cand.strip()))
        await agent.add_remote_candidate(None)
        self.loop.create_task(self._connect(agent))
        cands = ["candidate:" + c.to_sdp() for c in agent.local_candidates]
        return answer_for(offer, agent.local_username, agent.local_password, cands)

    async def _connect(self, agent):
        with contextlib.suppress(Exception):
            await agent.connect()
            self.connected += 1

    connected = 0

    def close(self):
        async def close_all():
            for agent in self.agents:
                await agent.close()

        asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(scaled(10))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(scaled(5))


class FailingWhip:
    """A WHIP endpoint on 127.0.0.1 failing in one way; records when each POST came."""

    def __init__(self, mode, ice_peer=None):
        self.mode = mode
        self.ice_peer = ice_peer
        self.posts = []
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                offer = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                outer.posts.append(time.monotonic())
                outer.handle(self, offer)

            def do_DELETE(self):
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/whip"

    def handle(self, req, offer):
        if self.mode == "503":
            self.reply(req, 503, b"busy", "text/plain")
        elif self.mode == "hang":
            self.release.wait(scaled(30))  # longer than the element's timeout
        elif self.mode == "ice":
            # a candidate nobody answers at: the checks go unanswered
            cand = "candidate:1 1 UDP 2130706431 127.0.0.1 9 typ host"
            sdp = answer_for(offer, secrets.token_hex(4), secrets.token_hex(12), [cand])
            self.reply(req, 201, sdp.encode(), "application/sdp")
        elif self.mode == "dtls":
            self.reply(req, 201, self.ice_peer.answer(offer).encode(), "application/sdp")

    @staticmethod
    def reply(req, status, body, ctype):
        req.send_response(status)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(body)))
        if status == 201:
            req.send_header("Location", f"/whip/{secrets.token_hex(4)}")
        req.end_headers()
        req.wfile.write(body)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


ANNOUNCED = re.compile(r"attempt (\d+) of (\d+) in (\d+) ms")


def announced(pipe):
    """(attempt, delay ms) of every whip-state reconnecting message with a delay."""
    out = []
    for s in pipe.element_messages("whip-state"):
        m = ANNOUNCED.search(s.get_string("detail") or "")
        if s.get_string("state") == "reconnecting" and m:
            out.append((int(m.group(1)), int(m.group(3))))
    return out


def offers_sent(pipe):
    return sum(
        1
        for s in pipe.element_messages("whip-state")
        if s.get_string("detail") == "sending the offer"
    )


def run_until_error(url, extra="", timeout=90):
    pipe = Pipeline(
        f"{solid((0, 0, 255))} ! whipsink name=sink whip-endpoint={url} "
        f"max-reconnects={MAX} {extra}"
    )
    pipe.play()
    try:
        # the error, then (posted right after it) whip-state failed
        pipe.wait_for(lambda p: p.errors() and "failed" in states(p), timeout, "the error")
    finally:
        pipe.stop()
    return pipe, pipe.errors()


def check_backoff(pipe, errors, posts=None):
    err, debug = errors[0]
    assert "WHIP session lost" in err.message, err.message
    assert "no reconnect attempts left" in (debug or ""), debug
    steps = announced(pipe)
    assert [a for a, _ in steps] == list(range(1, MAX + 1)), steps
    delays = [d for _, d in steps]
    assert all(b > a for a, b in zip(delays, delays[1:])), delays
    assert offers_sent(pipe) == MAX + 1
    if posts is not None:
        assert len(posts) == MAX + 1, posts
        for (before, after), delay in zip(zip(posts, posts[1:]), delays):
            assert after - before >= delay / 1000, (posts, delays)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/whip", "http://whip.invalid/whip"], ids=["refused", "dns"]
)
def test_post_network_failures_are_retried_then_an_error(url):
    pipe, errors = run_until_error(url)
    check_backoff(pipe, errors)


@pytest.mark.parametrize("mode,extra", [("503", ""), ("hang", "timeout=1")])
def test_post_answered_503_or_never_is_retried_then_an_error(mode, extra):
    with FailingWhip(mode) as srv:
        pipe, errors = run_until_error(srv.url, extra)
        check_backoff(pipe, errors, srv.posts)


def test_answer_whose_ice_never_connects_is_retried_then_an_error():
    with FailingWhip("ice") as srv:
        pipe, errors = run_until_error(srv.url, "timeout=2")
        check_backoff(pipe, errors, srv.posts)


def test_ice_without_dtls_is_retried_then_an_error():
    peer = IcePeer()
    try:
        with FailingWhip("dtls", peer) as srv:
            pipe, errors = run_until_error(srv.url, "timeout=3")
            check_backoff(pipe, errors, srv.posts)
        assert peer.connected >= 1  # ICE itself did connect: DTLS is what never came
    finally:
        peer.close()


def test_reconnects_after_a_connected_session_are_retried_then_an_error(gateway_factory):
    """Connected, then the gateway drops the publisher and goes away: refused reconnects."""
    gw = gateway_factory("--drop-publisher-after", str(scaled(1)))
    r = requests.post(f"{gw.url}/v1/streams", json={"params": {}}, timeout=10)
    assert r.status_code == 201, r.text
    pipe = Pipeline(
        f"{solid((0, 0, 255))} ! whipsink name=sink whip-endpoint={r.json()['whip_url']} "
        f"max-reconnects={MAX}"
    )
    pipe.play()
    try:
        pipe.wait_for(lambda p: "connected" in states(p), 20, "connected")
        gw.stop()
        errors = pipe.wait_for(lambda p: p.errors(), 90, what="the element error")
    finally:
        pipe.stop()
    err, debug = errors[0]
    assert "no reconnect attempts left" in (debug or ""), debug
    steps = announced(pipe)
    assert [a for a, _ in steps][-MAX:] == list(range(1, MAX + 1)), steps
