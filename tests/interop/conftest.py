"""Fixtures for the interop tests (independent peers against our binaries)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gateway_fixture import gateway_factory  # noqa: E402,F401  (a fixture)
from serve_fixture import serve_factory  # noqa: E402,F401  (a fixture)
from nodepack_fixture import fresh_pack, pack_on_serve  # noqa: E402,F401  (fixtures)
