"""Stand-in for ComfyUI's folder_paths: the user directory, under a folder the test chooses."""

import os
import tempfile

_user = os.environ.get("COMFYUI_STANDIN_USER_DIR") or tempfile.mkdtemp(prefix="comfy-user-")


def get_user_directory():
    return _user
