"""The config nodes: Daydream Pipeline Config, Daydream ControlNet (spec §9.7, §9.8), and the
RTC Stream UI preview node (its view is the browser side's)."""

import json
import logging

from . import api, pipeline, registry

log = logging.getLogger("daydream-rtc")
_last_cached = {}  # base URL -> hash of the config last posted to /pipeline/cache


def inputs_hash(kwargs):
    """IS_CHANGED of a config node: a hash of its own widget values (linked inputs are None
    here; ComfyUI adds the ancestors' signatures itself). Never NaN (weakness 31)."""
    values = {k: v for k, v in kwargs.items() if v is not None}
    return pipeline.config_hash(json.loads(json.dumps(values, default=str)))


BOOL_TRUE = ("BOOLEAN", {"default": True})


class RTCStreamPipelineConfig:
    CATEGORY = "Daydream Live/Config"
    RETURN_TYPES = ("PIPELINE_CONFIG", "STRING", "INT", "INT")
    RETURN_NAMES = ("pipeline_config", "config_json", "width", "height")
    FUNCTION = "build"

    @classmethod
    def INPUT_TYPES(cls):
        pipelines = list(registry.PIPELINES)
        models = list(registry.MODELS["streamdiffusion"])
        return {
            "required": {
                "pipeline": (pipelines, {"default": pipelines[0]}),
                "model_id": (models, {"default": models[0]}),
                "prompt": ("STRING", {"default": "A beautiful landscape", "multiline": True}),
                "guidance_scale": (
                    "FLOAT",
                    {"default": 7.5, "min": 0.0, "max": 256.0, "step": 0.5},
                ),
                "delta": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 256.0, "step": 0.5}),
                "num_inference_steps": ("INT", {"default": 50, "min": 1, "max": 200}),
                "width": ("INT", {"default": 704, "min": 256, "max": 2048, "step": 8}),
                "height": ("INT", {"default": 704, "min": 256, "max": 2048, "step": 8}),
                "seed": (
                    "INT",
                    {"default": 0, "min": 0, "max": 4294967295, "control_after_generate": True},
                ),
            },
            "optional": {
                "negative_prompt": ("STRING", {"default": ""}),
                "prompt_interpolation_method": (registry.INTERPOLATIONS, {"default": "linear"}),
                "seed_interpolation_method": (registry.INTERPOLATIONS, {"default": "linear"}),
                "normalize_prompt_weights": BOOL_TRUE,
                "normalize_seed_weights": BOOL_TRUE,
                "use_safety_checker": BOOL_TRUE,
                "use_lcm_lora": BOOL_TRUE,
                "lcm_lora_id": ("STRING", {"default": ""}),
                "lora_dict": ("STRING", {"default": "{}"}),
                "acceleration": (registry.ACCELERATIONS, {"default": "none"}),
                "use_denoising_batch": BOOL_TRUE,
                "do_add_noise": BOOL_TRUE,
                "enable_similar_image_filter": BOOL_TRUE,
                "similar_image_filter_threshold": (
                    "FLOAT",
                    {"default": 0.5, "min": 0.0, "max": 1.0, "step": 0.01},
                ),
                "similar_image_filter_max_skip_frame": (
                    "INT",
                    {"default": 10, "min": 0, "max": 4503599627370495},
                ),
                "t_index_list": ("STRING", {"default": "0"}),
                **{f"controlnet_{i}": ("CONTROLNET_CONFIG",) for i in range(1, 6)},
                "enable_ip_adapter": ("BOOLEAN", {"default": False}),
                "ip_adapter_type": (registry.IP_ADAPTER_TYPES, {"default": "none"}),
                "ip_adapter_scale": (
                    "FLOAT",
                    {"default": 0.5, "min": 0.0, "max": 2.0, "step": 0.05},
                ),
                "ip_adapter_weight_type": (registry.IP_ADAPTER_WEIGHT_TYPES, {"default": "linear"}),
                "ip_adapter_style_image_url": ("STRING", {"default": ""}),
            },
        }

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return inputs_hash(kwargs)

    def build(self, **kwargs):
        opts = defaults(self.INPUT_TYPES())
        opts.update({k: v for k, v in kwargs.items() if k in opts or k.startswith("controlnet_")})
        config = pipeline.build_pipeline_config(opts)
        cache_when_changed(config)
        params = config["params"]
        return (config, json.dumps(config, indent=2), params["width"], params["height"])


def defaults(input_types):
    out = {}
    for section in ("required", "optional"):
        for name, spec in input_types.get(section, {}).items():
            if len(spec) > 1 and "default" in spec[1]:
                out[name] = spec[1]["default"]
    return out


def cache_when_changed(config):
    """POST /pipeline/cache when the hash differs from the last one posted (failures logged)."""
    digest = pipeline.config_hash(config)
    try:
        rtc = api.client_for(wait=5)
        if _last_cached.get(rtc.base_url) != digest:
            rtc.cache_pipeline(config)
            _last_cached[rtc.base_url] = digest
    except api.RtcApiError as exc:
        log.warning("pipeline config not cached on the server: %s", exc)


class RTCStreamControlNet:
    CATEGORY = "Daydream Live/ControlNet"
    RETURN_TYPES = ("CONTROLNET_CONFIG",)
    RETURN_NAMES = ("controlnet",)
    FUNCTION = "build"

    @classmethod
    def INPUT_TYPES(cls):
        ids = list(registry.CONTROLNETS)
        unit = {"min": 0.0, "max": 1.0, "step": 0.05}
        return {
            "required": {
                "model_id": (ids, {"default": ids[0]}),
                "preprocessor": (registry.PREPROCESSORS, {"default": "pose_tensorrt"}),
                "conditioning_scale": (
                    "FLOAT",
                    {"default": 0.711, "min": 0.0, "max": 2.0, "step": 0.05},
                ),
            },
            "optional": {
                "control_guidance_start": ("FLOAT", {"default": 0.0, **unit}),
                "control_guidance_end": ("FLOAT", {"default": 1.0, **unit}),
                "preprocessor_params": ("STRING", {"default": "{}", "multiline": True}),
                "enabled": BOOL_TRUE,
            },
        }

    @classmethod
    def IS_CHANGED(cls, **kwargs):
        return inputs_hash(kwargs)

    def build(self, model_id, preprocessor, conditioning_scale, **optional):
        entry = {"model_id": model_id, "preprocessor": preprocessor}
        entry["conditioning_scale"] = conditioning_scale
        entry.update(optional)
        return (pipeline.controlnet_entry(entry),)


class RTCStreamUIPreview:
    CATEGORY = "RTC Stream"
    RETURN_TYPES = ()
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {}}

    def run(self):
        return ()
