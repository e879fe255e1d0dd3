"""The repository root as a ComfyUI custom-node folder (a git clone into custom_nodes/, or a
ComfyUI-Manager install): loads the pack in python-nodes/ as this package's subpackage."""

import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_name = f"{__name__}.python_nodes"
_spec = importlib.util.spec_from_file_location(
    _name, os.path.join(_here, "python-nodes", "__init__.py")
)
_pack = importlib.util.module_from_spec(_spec)
sys.modules[_name] = _pack
_spec.loader.exec_module(_pack)

NODE_CLASS_MAPPINGS = _pack.NODE_CLASS_MAPPINGS
NODE_DISPLAY_NAME_MAPPINGS = _pack.NODE_DISPLAY_NAME_MAPPINGS
WEB_DIRECTORY = "./python-nodes/web"

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]
