"""Fixtures for the browser tests: our binaries (the interop fixtures) and Chromium by node."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop"))

from gateway_fixture import gateway_factory  # noqa: E402,F401  (a fixture)
from serve_fixture import serve_factory  # noqa: E402,F401  (a fixture)
