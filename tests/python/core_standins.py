"""Our replacements for the ComfyUI core nodes the workflows use: a frame source in place of
WebcamCapture (new images on every run, as a camera gives), sinks in place of the previews."""

import numpy as np


class FrameSource:
    """WebcamCapture's place: returns the next batch of `frames` (a list the test fills)."""

    frames = []
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "capture"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("STRING", {"default": ""}),
                "width": ("INT", {"default": 0, "min": 0, "max": 8192}),
                "height": ("INT", {"default": 0, "min": 0, "max": 8192}),
                "capture_on_queue": ("BOOLEAN", {"default": True}),
            }
        }

    @classmethod
    def IS_CHANGED(cls, **_):
        return float("nan")

    def capture(self, image, width, height, capture_on_queue):
        if FrameSource.frames:
            return (FrameSource.frames.pop(0),)
        return (np.zeros((1, height or 64, width or 64, 3), np.float32),)


class Sink:
    seen = []
    OUTPUT_NODE = True
    RETURN_TYPES = ()
    FUNCTION = "show"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    def show(self, **values):
        Sink.seen.append(values)
        return ()


def classes_with_core(pack_classes):
    """The pack's classes plus the core nodes' stand-ins, by the workflow's type names.
    WebcamCapture's fifth widget value is its upload button's ("capture"): a button widget the
    frontend serialises, so the stand-in takes it as a choice."""

    class Webcam(FrameSource):
        @classmethod
        def INPUT_TYPES(cls):
            types = FrameSource.INPUT_TYPES()
            types["required"]["upload"] = (["capture"], {"default": "capture"})
            return types

        def capture(self, upload="capture", **kw):
            return FrameSource.capture(self, **kw)

    return {**pack_classes, "WebcamCapture": Webcam, "PreviewAny": Sink, "PreviewImage": Sink}
