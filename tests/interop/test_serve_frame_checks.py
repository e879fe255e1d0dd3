"""POST /frames with images a decoder must not see (app/drtc-frame-check.c).

Each was a frame, or a crash, before the checks: a 700-byte JPEG whose header declares
30000x30000 killed `serve` (SIGSEGV in GStreamer's video converter), one declaring 16000x16000
became a 1 GB frame of made-up rows, a truncated JPEG a frame with its missing rows made up, and
a 780 kB PNG a 16384x16384 frame (800 MB).
"""

import base64
import io
import json
import os
import struct
import zlib

import requests
from PIL import Image

from gateway_fixture import sanitized_build

JSON = {"Content-Type": "application/json"}


def jpeg(size=(64, 48), **options):
    out = io.BytesIO()
    Image.effect_mandelbrot(size, (-2, -1.5, 1, 1.5), 50).convert("RGB").save(
        out, "JPEG", **options
    )
    return out.getvalue()


def jpeg_declaring(width, height):
    """A red 64x64 JPEG whose frame header (SOF0) says width x height."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (255, 0, 0)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def chunk(kind, body):
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def black_png(width, height):
    """A complete RGB PNG of zeros, compressed as far as zlib goes (about 1000:1)."""
    z = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    data = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def post_frame(url, image, session=requests):
    body = json.dumps({"frame_b64": base64.b64encode(image).decode()})
    return session.post(f"{url}/frames", data=body, headers=JSON, timeout=60)


def test_images_past_the_limits_are_refused_before_decoding(serve_factory):
    s = serve_factory()
    for image in (
        jpeg_declaring(30000, 30000),
        jpeg_declaring(16000, 16000),
        black_png(16384, 16384),
    ):
        r = post_frame(s.url, image)
        assert r.status_code == 400, r.text
        assert "33554432 pixels" in r.json()["detail"], r.text
    assert requests.get(f"{s.url}/status", timeout=5).json()["queue_depth"] == 0
    # the limits are the pixels, not the side: 16384 wide passes
    assert post_frame(s.url, black_png(16384, 2)).status_code == 200


def test_truncated_jpegs_are_not_frames(serve_factory):
    s = serve_factory()
    for options in ({}, {"progressive": True}):
        whole = jpeg((320, 240), **options)
        for cut in (len(whole) * 8 // 10, len(whole) - 2):
            r = post_frame(s.url, whole[:cut])
            assert r.status_code == 400 and "complete JPEG" in r.json()["detail"], (cut, r.text)
        assert post_frame(s.url, whole).status_code == 200
    # what follows EOI is not the decoder's: the image before it is the frame
    assert post_frame(s.url, jpeg() + b"trailing bytes").status_code == 200
    assert requests.get(f"{s.url}/status", timeout=5).json()["queue_depth"] == 3


def broken_png(size=(2048, 2048)):
    """A whole PNG whose last image data chunk has a wrong CRC: libpng fails on it after
    the decoder allocated the frame."""
    out = io.BytesIO()
    Image.effect_mandelbrot(size, (-2, -1.5, 1, 1.5), 30).convert("RGB").save(out, "PNG")
    data = bytearray(out.getvalue())
    data[-20] ^= 0xFF  # in the CRC of the last IDAT (IEND is the last 12 bytes)
    return bytes(data)


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_broken_pngs_leave_nothing_behind(serve_factory):
    # pngdec kept the frame it was decoding when libpng failed, with its 12 MB output
    # buffer and its buffer pool's two file descriptors: 30 of these grew serve by 360 MB
    # and 60 descriptors, for good
    s = serve_factory()
    image = broken_png()
    session = requests.Session()  # one connection: its socket is counted once
    assert post_frame(s.url, image, session).status_code == 400
    fds, rss = open_fds(s.proc.pid), rss_kb(s.proc.pid)
    for _ in range(30):
        r = post_frame(s.url, image, session)
        assert r.status_code == 400 and "not a decodable image" in r.text, r.text
    assert open_fds(s.proc.pid) - fds < 10
    if not sanitized_build():  # ASan's quarantine keeps freed memory: no RSS bound there
        assert rss_kb(s.proc.pid) - rss < 100_000
    assert post_frame(s.url, jpeg()).status_code == 200
