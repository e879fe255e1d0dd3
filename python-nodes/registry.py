"""What Daydream offers: pipelines, models and ControlNets (spec §6.3), and the node choices."""

PIPELINES = {"streamdiffusion": "StreamDiffusion"}
MODELS = {"streamdiffusion": {"stabilityai/sd-turbo": "SD Turbo (SD2.1)"}}

# model_id -> (label, the one allowed preprocessor, default conditioning_scale, default params)
CONTROLNETS = {
    "thibaud/controlnet-sd21-openpose-diffusers": ("SD2.1 OpenPose", "pose_tensorrt", 0.711, {}),
    "thibaud/controlnet-sd21-hed-diffusers": ("SD2.1 HED", "soft_edge", 0.2, {}),
    "thibaud/controlnet-sd21-canny-diffusers": (
        "SD2.1 Canny",
        "canny",
        0.2,
        {"low_threshold": 100, "high_threshold": 200},
    ),
    "thibaud/controlnet-sd21-depth-diffusers": ("SD2.1 Depth", "depth_tensorrt", 0.5, {}),
    "thibaud/controlnet-sd21-color-diffusers": ("SD2.1 Color", "passthrough", 0.2, {}),
}
# every ControlNet works with every (pipeline, model) of the registry
CONTROLNET_SUPPORT = {("streamdiffusion", "stabilityai/sd-turbo"): tuple(CONTROLNETS)}

PREPROCESSORS = sorted({entry[1] for entry in CONTROLNETS.values()})
INTERPOLATIONS = ["linear", "slerp"]
ACCELERATIONS = ["none", "xformers", "sfast", "tensorrt"]
IP_ADAPTER_TYPES = ["none", "regular", "faceid"]
IP_ADAPTER_WEIGHT_TYPES = ["linear", "ease_in", "ease_out", "ease_in_out"]


def default_preprocessor_params(preprocessor):
    """The registry's params for a preprocessor ({} when it has none)."""
    for _label, name, _scale, params in CONTROLNETS.values():
        if name == preprocessor:
            return dict(params)
    return {}
