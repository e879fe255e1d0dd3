"""ComfyUI-Manager runs this after cloning the repository into custom_nodes/: it builds the C
server the node pack drives (scripts/build: meson into build/). Needs the Debian packages of
scripts/setup; a failure says the two commands to run."""

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent


def main():
    if shutil.which("meson") is None or shutil.which("ninja") is None:
        return fail("meson and ninja are missing")
    result = subprocess.run([str(ROOT / "scripts" / "build")], cwd=ROOT)
    if result.returncode != 0:
        return fail("the build failed (see above)")
    print(f"daydream-rtc: built {ROOT / 'build' / 'app' / 'daydream-rtc'}")
    return 0


def fail(why):
    print(
        f"daydream-rtc: {why}. Install the build dependencies and build:\n"
        f"  sudo {ROOT / 'scripts' / 'setup'}\n"
        f"  {ROOT / 'scripts' / 'build'}",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
