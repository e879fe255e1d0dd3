"""The pipeline config the config nodes build (spec §6.2), its validation (§9.7, §9.8) and hash
(§6.4). Errors are ConfigError, which ComfyUI shows on the node."""

import hashlib
import json

from . import registry


class ConfigError(ValueError):
    """A node input the pipeline cannot take; the message names the input."""


def config_hash(config):
    """sha256 of the config as sorted, compact, ASCII JSON; None counts as {}."""
    text = json.dumps(config or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def parse_t_index_list(text):
    values = []
    for token in str(text).split(","):
        token = token.strip()
        if not token:
            continue
        try:
            values.append(int(token))
        except ValueError:
            raise ConfigError(f"Invalid t_index value '{token}'") from None
    return values or [0]


def parse_json_object(text, name):
    if isinstance(text, dict):
        return dict(text)
    if text is None or not str(text).strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a JSON object")
    return value


def check_choice(name, value, choices):
    if value not in choices:
        raise ConfigError(f"{name} '{value}' is not one of {', '.join(map(str, choices))}")


def check_range(name, value, low=None, high=None):
    if low is not None and value < low:
        raise ConfigError(f"{name} must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(f"{name} must be at most {high}, got {value}")


def controlnet_entry(value, slot=None, pipeline=None, model_id=None):
    """A validated ControlNet entry (§6.3) from a node output or a hand-made dict."""
    where = f"controlnet_{slot}" if slot else "controlnet"
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a ControlNet config object")
    cn_id = value.get("model_id")
    if cn_id not in registry.CONTROLNETS:
        raise ConfigError(f"{where}: unknown ControlNet model '{cn_id}'")
    if pipeline is not None:
        supported = registry.CONTROLNET_SUPPORT.get((pipeline, model_id), ())
        if cn_id not in supported:
            raise ConfigError(f"{where}: '{cn_id}' is not supported by {pipeline} + {model_id}")
    allowed = registry.CONTROLNETS[cn_id][1]
    preprocessor = value.get("preprocessor") or allowed
    if preprocessor != allowed:
        raise ConfigError(f"{where}: {cn_id} takes preprocessor '{allowed}', not '{preprocessor}'")
    scale = float(value.get("conditioning_scale", 0.0))
    start = float(value.get("control_guidance_start", 0.0))
    end = float(value.get("control_guidance_end", 1.0))
    check_range(f"{where} conditioning_scale", scale, 0.0)
    check_range(f"{where} control_guidance_start", start, 0.0, 1.0)
    check_range(f"{where} control_guidance_end", end, 0.0, 1.0)
    if start > end:
        raise ConfigError(f"{where}: control_guidance_start must not exceed control_guidance_end")
    params = parse_json_object(value.get("preprocessor_params", {}), f"{where} preprocessor_params")
    return {
        "enabled": bool(value.get("enabled", True)),
        "model_id": cn_id,
        "preprocessor": preprocessor,
        "conditioning_scale": scale,
        "control_guidance_start": start,
        "control_guidance_end": end,
        "preprocessor_params": params or registry.default_preprocessor_params(preprocessor),
    }


def check_numbers(opts):
    for name in ("width", "height"):
        check_range(name, opts[name], 256)
        if opts[name] % 8:
            raise ConfigError(f"{name} must be divisible by 8, got {opts[name]}")
    check_range("guidance_scale", opts["guidance_scale"], 0.0)
    check_range("delta", opts["delta"], 0.0)
    check_range("num_inference_steps", opts["num_inference_steps"], 1)
    check_range("seed", opts["seed"], 0)
    check_range("similar_image_filter_threshold", opts["similar_image_filter_threshold"], 0.0, 1.0)
    check_range(
        "similar_image_filter_max_skip_frame", opts["similar_image_filter_max_skip_frame"], 0
    )


def check_choices(opts):
    check_choice("pipeline", opts["pipeline"], list(registry.PIPELINES))
    check_choice("model_id", opts["model_id"], list(registry.MODELS[opts["pipeline"]]))
    for name in ("prompt_interpolation_method", "seed_interpolation_method"):
        check_choice(name, opts[name], registry.INTERPOLATIONS)
    check_choice("acceleration", opts["acceleration"], registry.ACCELERATIONS)
    check_choice("ip_adapter_type", opts["ip_adapter_type"], registry.IP_ADAPTER_TYPES)
    check_choice(
        "ip_adapter_weight_type", opts["ip_adapter_weight_type"], registry.IP_ADAPTER_WEIGHT_TYPES
    )


def base_params(o):
    return {
        "model_id": o["model_id"],
        "prompt": str(o["prompt"]).strip(),
        "prompt_interpolation_method": o["prompt_interpolation_method"],
        "normalize_prompt_weights": bool(o["normalize_prompt_weights"]),
        "normalize_seed_weights": bool(o["normalize_seed_weights"]),
        "negative_prompt": str(o["negative_prompt"]).strip(),
        "guidance_scale": float(o["guidance_scale"]),
        "delta": float(o["delta"]),
        "num_inference_steps": int(o["num_inference_steps"]),
        "t_index_list": parse_t_index_list(o["t_index_list"]),
        "use_safety_checker": bool(o["use_safety_checker"]),
        "width": int(o["width"]),
        "height": int(o["height"]),
        "lora_dict": parse_json_object(o["lora_dict"], "lora_dict"),
        "use_lcm_lora": bool(o["use_lcm_lora"]),
        "lcm_lora_id": str(o["lcm_lora_id"]) if o["use_lcm_lora"] else "",
        "acceleration": o["acceleration"],
        "use_denoising_batch": bool(o["use_denoising_batch"]),
        "do_add_noise": bool(o["do_add_noise"]),
        "seed": int(o["seed"]),
        "seed_interpolation_method": o["seed_interpolation_method"],
        "enable_similar_image_filter": bool(o["enable_similar_image_filter"]),
        "similar_image_filter_threshold": float(o["similar_image_filter_threshold"]),
        "similar_image_filter_max_skip_frame": int(o["similar_image_filter_max_skip_frame"]),
    }


def build_pipeline_config(opts):
    """{"pipeline", "params"} from the config node's inputs (all of them, defaults filled)."""
    check_choices(opts)
    check_numbers(opts)
    params = base_params(opts)
    slots = [(i, opts.get(f"controlnet_{i}")) for i in range(1, 6)]
    if any(value is not None for _i, value in slots):
        params["controlnets"] = [
            controlnet_entry(value, i, opts["pipeline"], opts["model_id"])
            for i, value in slots
            if value is not None
        ]
    if opts["enable_ip_adapter"] and opts["ip_adapter_type"] != "none":
        params["ip_adapter"] = {
            "enabled": True,
            "type": opts["ip_adapter_type"],
            "scale": float(opts["ip_adapter_scale"]),
            "weight_type": opts["ip_adapter_weight_type"],
        }
        if str(opts["ip_adapter_style_image_url"]).strip():
            params["ip_adapter_style_image_url"] = str(opts["ip_adapter_style_image_url"]).strip()
    return {"pipeline": opts["pipeline"], "params": params}
