#!/usr/bin/python3
"""A burst of concurrent GET /status on `daydream-rtc serve`, each on its own connection.

    /usr/bin/python3 bench/serve_concurrency.py [--clients 500] [--rounds 3]
        [--build build] [--baseline OTHER_BUILD]

All clients connect at once (a barrier), so the burst lands in the listen queue together:
with GSocket's default backlog of 10 the kernel drops the SYNs it has no room for and the
clients retry after 1 s, 3 s, 7 s...; serve's backlog is 511 (nginx's). Prints, per build,
the p50/p99/max latency of a request (connect to last byte) and how many failed within the
client timeout. `--baseline` runs a second build (say, one of an older commit) in the same
run for the ratio; timings are this machine's. Loopback only.
"""

import argparse
import pathlib
import socket
import tempfile
import threading
import time

import drtc_process

ROOT = pathlib.Path(__file__).resolve().parents[1]


def start_serve(build):
    settings = tempfile.mkdtemp(prefix="drtc-bench-")
    binary = pathlib.Path(build) / "app" / "daydream-rtc"
    proc, url = drtc_process.start(binary, "serve", "--settings-dir", settings)
    return proc, int(url.rsplit(":", 1)[1])


def one_request(port, barrier, timeout, out, i):
    barrier.wait()
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(
                b"GET /status HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % port
            )
            reply = b""
            while more := sock.recv(65536):
                reply += more
        ok = reply.startswith(b"HTTP/1.1 200")
    except OSError:
        ok = False
    out[i] = (time.monotonic() - t0, ok)


def burst(port, clients, timeout):
    barrier = threading.Barrier(clients)
    out = [None] * clients
    threads = [
        threading.Thread(target=one_request, args=(port, barrier, timeout, out, i))
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def measure(build, clients, rounds, timeout):
    proc, port = start_serve(build)
    try:
        results = []
        for _ in range(rounds):
            results += burst(port, clients, timeout)
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(20)
    times = [t for t, ok in results if ok]
    failed = sum(1 for _, ok in results if not ok)
    return times, failed, len(results)


def report(name, times, failed, total):
    if not times:
        print(f"{name}: all {total} requests failed")
        return None
    p50, p99 = percentile(times, 50), percentile(times, 99)
    print(
        f"{name}: {total} requests, p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms, failed {failed}"
    )
    return p99


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=30.0, help="client timeout, seconds")
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--baseline", help="another build directory, measured in the same run")
    args = ap.parse_args()
    with open("/proc/sys/net/core/somaxconn") as f:
        print(
            f"net.core.somaxconn {f.read().strip()}; {args.clients} clients x {args.rounds} rounds"
        )
    p99 = report("serve", *measure(args.build, args.clients, args.rounds, args.timeout))
    if args.baseline:
        base = report("baseline", *measure(args.baseline, args.clients, args.rounds, args.timeout))
        if p99 and base:
            print(f"p99 baseline / serve: {base / p99:.1f}x")


if __name__ == "__main__":
    main()
