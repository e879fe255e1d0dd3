"""Loading the pack the way ComfyUI's nodes.load_custom_node does (v0.8.0): the module named
after the folder path ("." -> "_x_"), registered in sys.modules before exec_module. The
stand-ins for ComfyUI's own modules (comfyui_standins/) go first on sys.path."""

import importlib.util
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACK = ROOT / "python-nodes"
STANDINS = pathlib.Path(__file__).resolve().parent / "comfyui_standins"


def use_standins(fresh=False):
    """The stand-ins importable; PromptServer.instance made (a new one with `fresh`)."""
    if str(STANDINS) not in sys.path:
        sys.path.insert(0, str(STANDINS))
    import server

    if fresh or server.PromptServer.instance is None:
        server.PromptServer()
    return server.PromptServer.instance


def load_custom_node(module_path):
    module_path = str(module_path)
    sys_module_name = module_path.replace(".", "_x_")
    spec = importlib.util.spec_from_file_location(
        sys_module_name, os.path.join(module_path, "__init__.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[sys_module_name] = module
    spec.loader.exec_module(module)
    return module


def install_as(custom_nodes, name, source=PACK):
    """custom_nodes/<name> -> source, as `git clone` or scripts/install-comfyui leave it."""
    link = pathlib.Path(custom_nodes) / name
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(source, target_is_directory=True)
    return link
