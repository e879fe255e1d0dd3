"""A web page is an attacker: what serve and the gateway answer a browser (issue 15, section 1).

Each table row is a request a page on another site can make (DNS rebinding, a no-preflight
`text/plain` POST, an `<img>` GET, a preflight) and what must come back; after each refused
request the state it aimed at is checked unchanged.
"""

import json
import os

import requests

EVIL = "http://evil.example"
COMFY = "http://127.0.0.1:8188"
CONFIG = json.dumps({"frame_rate": 5, "frame_width": 64, "frame_height": 64})
SIMPLE_TYPES = (
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
)


def host_port(url):
    return url.split("//")[1]


def state(s):
    """What the refused requests aim at: runtime config, stream status, WHEP, the cache file."""
    return (
        requests.get(f"{s.url}/config", timeout=5).json(),
        requests.get(f"{s.url}/status", timeout=5).json()["state"],
        requests.get(f"{s.url}/whep/status", timeout=5).json().get("url"),
        os.path.exists(os.path.join(s.settings_dir, "pipeline_cache.json")),
        sorted(x["name"] for x in requests.get(f"{s.url}/streams", timeout=5).json()["streams"]),
    )


def test_foreign_host_is_misdirected(serve_factory):
    s = serve_factory()
    for path in ("/status", "/healthz", "/streams", "/config"):
        r = requests.get(f"{s.url}{path}", headers={"Host": "evil.example"}, timeout=5)
        assert r.status_code == 421, (path, r.text)
        assert "Host" in r.json()["detail"] and "stk_" not in r.text
    port = s.url.rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "127.0.0.1.evil.example", f"localhost:{int(port) + 1}"):
        r = requests.get(f"{s.url}/status", headers={"Host": host}, timeout=5)
        assert r.status_code == 421, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        assert requests.get(f"{s.url}/status", headers={"Host": host}, timeout=5).status_code == 200
    r = requests.post(
        f"{s.url}/config",
        data=CONFIG,
        headers={"Host": "evil.example", "Content-Type": "application/json"},
    )
    assert r.status_code == 421


def test_allowed_host_option(serve_factory):
    s = serve_factory("--allowed-host", "studio.lan")
    port = s.url.rsplit(":", 1)[1]
    assert (
        requests.get(f"{s.url}/status", headers={"Host": f"studio.lan:{port}"}).status_code == 200
    )
    assert requests.get(f"{s.url}/status", headers={"Host": f"other.lan:{port}"}).status_code == 421


def test_cross_site_posts_change_nothing(serve_factory):
    s = serve_factory()
    before = state(s)
    bodies = {
        "/config": CONFIG,
        "/streams/x/config": CONFIG,
        "/pipeline/cache": json.dumps({"pipeline_config": {"pipeline": "p", "params": {}}}),
        "/start": "{}",
        "/streams/x/start": "{}",
        "/whep/connect": json.dumps({"whep_url": "http://evil.example/whep"}),
        "/stop": "{}",
    }
    for path, body in bodies.items():
        for ctype in SIMPLE_TYPES:
            for origin in (EVIL, None):
                headers = {"Content-Type": ctype, **({"Origin": origin} if origin else {})}
                r = requests.post(f"{s.url}{path}", data=body, headers=headers, timeout=5)
                assert r.status_code in (403, 415), (path, ctype, origin, r.status_code, r.text)
                assert "detail" in r.json()
                assert "Access-Control-Allow-Origin" not in r.headers
        # even as JSON, a foreign page's POST is refused
        r = requests.post(
            f"{s.url}{path}",
            data=body,
            headers={"Content-Type": "application/json", "Origin": EVIL},
            timeout=5,
        )
        assert r.status_code == 403, (path, r.text)
    # a body-less POST from a foreign page (fetch with mode no-cors) is refused too
    assert requests.post(f"{s.url}/stop", headers={"Origin": EVIL}, timeout=5).status_code == 403
    # PATCH and DELETE follow the same rules
    r = requests.patch(
        f"{s.url}/pipeline", data="{}", headers={"Content-Type": "text/plain"}, timeout=5
    )
    assert r.status_code == 415
    assert (
        requests.delete(f"{s.url}/streams/x", headers={"Origin": EVIL}, timeout=5).status_code
        == 403
    )
    assert state(s) == before


def test_raw_frames_take_octet_stream_only_besides_json(serve_factory):
    s = serve_factory()
    r = requests.post(
        f"{s.url}/frames", data=b"\0" * 12, headers={"Content-Type": "text/plain"}, timeout=5
    )
    assert r.status_code == 415
    r = requests.post(
        f"{s.url}/frames?width=2&height=2&format=rgb",
        data=b"\0" * 12,
        headers={"Content-Type": "application/octet-stream"},
        timeout=5,
    )
    assert r.status_code != 415, r.text


def test_get_creates_no_stream(serve_factory):
    s = serve_factory()
    for path in ("/streams/img/config", "/streams/img/status", "/streams/img/whep/status"):
        r = requests.get(f"{s.url}{path}", timeout=5)
        assert r.status_code == 404, (path, r.text)
    names = [x["name"] for x in requests.get(f"{s.url}/streams", timeout=5).json()["streams"]]
    assert names == ["default"]


def test_cors_names_exact_allowed_origins(serve_factory):
    s = serve_factory("--allowed-origin", "https://studio.example:8443")
    own = s.url
    for origin in (COMFY, "http://localhost:8188", own, "https://studio.example:8443"):
        r = requests.get(f"{s.url}/status", headers={"Origin": origin}, timeout=5)
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == origin, origin
        pre = requests.options(
            f"{s.url}/start",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=5,
        )
        assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == origin
    # other loopback ports are other sites; "null" is a sandboxed page
    for origin in (
        EVIL,
        "http://127.0.0.1:9999",
        "http://localhost:3000",
        "null",
        "https://127.0.0.1:8188",
    ):
        r = requests.get(f"{s.url}/status", headers={"Origin": origin}, timeout=5)
        assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers, origin
        pre = requests.options(
            f"{s.url}/start",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            timeout=5,
        )
        assert pre.status_code == 403 and "Access-Control-Allow-Origin" not in pre.headers, origin
    r = requests.get(f"{s.url}/status", timeout=5)
    assert "Access-Control-Allow-Origin" not in r.headers


def test_node_pack_requests_still_work(serve_factory):
    """python-nodes/ calls serve with requests: Host 127.0.0.1:PORT, no Origin, JSON or bytes."""
    s = serve_factory()
    r = requests.post(
        f"{s.url}/config", data=CONFIG, headers={"Content-Type": "application/json"}, timeout=5
    )
    assert r.status_code == 200 and r.json()["frame_rate"] == 5
    assert requests.post(f"{s.url}/stop", timeout=5).status_code == 200
    assert requests.post(f"{s.url}/whep/disconnect", timeout=5).status_code == 200


# ---- the gateway ----


def test_gateway_refuses_foreign_hosts_and_origins(gateway_factory):
    gw = gateway_factory()
    body = json.dumps({"pipeline": "streamdiffusion", "params": {}})
    r = requests.get(f"{gw.url}/healthz", headers={"Host": "evil.example"}, timeout=5)
    assert r.status_code == 421 and r.json()["success"] is False
    for ctype in SIMPLE_TYPES:
        r = requests.post(
            f"{gw.url}/v1/streams", data=body, headers={"Content-Type": ctype}, timeout=5
        )
        assert r.status_code == 415, (ctype, r.text)
    r = requests.post(
        f"{gw.url}/v1/streams",
        data=body,
        headers={"Content-Type": "application/json", "Origin": EVIL},
        timeout=5,
    )
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    # no stream was made by any of them
    r = requests.post(
        f"{gw.url}/v1/streams", data=body, headers={"Content-Type": "application/json"}, timeout=5
    )
    assert r.status_code == 201 and r.json()["id"]
    # a WHIP offer must be SDP: a page's text/plain POST is refused before any SDP parsing
    whip = r.json()["whip_url"].split(host_port(gw.url), 1)[1]
    r = requests.post(
        f"{gw.url}{whip}", data="v=0\r\n", headers={"Content-Type": "text/plain"}, timeout=5
    )
    assert r.status_code == 415


def test_gateway_cors_names_the_allowed_origins_only(gateway_factory):
    """Its own origin, and the pages that play its WHEP output offline: ComfyUI's (the
    preview node) and serve's /preview at serve's default port; nothing else."""
    gw = gateway_factory()
    for origin in (gw.url, COMFY, "http://localhost:8895"):
        r = requests.get(f"{gw.url}/healthz", headers={"Origin": origin}, timeout=5)
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == origin
    for origin in (EVIL, "http://127.0.0.1:9999"):
        r = requests.get(f"{gw.url}/healthz", headers={"Origin": origin}, timeout=5)
        assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
        pre = requests.options(f"{gw.url}/v1/streams", headers={"Origin": origin}, timeout=5)
        assert pre.status_code == 403 and "Access-Control-Allow-Origin" not in pre.headers
    r = requests.get(f"{gw.url}/healthz", timeout=5)
    assert "Access-Control-Allow-Origin" not in r.headers
    other = gateway_factory("--allowed-origin", "http://127.0.0.1:9999")
    pre = requests.options(
        f"{other.url}/v1/streams", headers={"Origin": "http://127.0.0.1:9999"}, timeout=5
    )
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:9999"


def test_preview_is_guarded_like_every_route(serve_factory, gateway_factory, tmp_path):
    """/preview has a handler of its own, and libsoup runs only the early handler of the
    same path: the guard must be registered there too, or a rebinding page reads the
    user's input frames (/preview/input.jpg) under any Host."""
    for base in (serve_factory().url, gateway_factory().url):
        for path in ("/preview", "/preview/host.json", "/preview/input.jpg"):
            r = requests.get(base + path, headers={"Host": "evil.example"}, timeout=5)
            assert r.status_code == 421, (base, path, r.status_code)
            r = requests.get(base + path, headers={"Origin": EVIL}, timeout=5)
            assert r.status_code == 403, (base, path, r.status_code)
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    token.chmod(0o600)
    s = serve_factory("--access-token-file", str(token))
    assert requests.get(f"{s.url}/preview", timeout=5).status_code == 200  # the page is public
    r = requests.get(f"{s.url}/preview/input.jpg", timeout=5)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
