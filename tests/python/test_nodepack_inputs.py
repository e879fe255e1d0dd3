"""The eight nodes' inputs and outputs exactly as spec §9.2-§9.8 give them: order (saved
workflows store widget values by position), types, defaults, ranges, choices, labels."""

import pytest

import comfyui_loader as loader

BOOL_T = ("BOOLEAN", {"default": True})
CN_IDS = [
    "thibaud/controlnet-sd21-openpose-diffusers",
    "thibaud/controlnet-sd21-hed-diffusers",
    "thibaud/controlnet-sd21-canny-diffusers",
    "thibaud/controlnet-sd21-depth-diffusers",
    "thibaud/controlnet-sd21-color-diffusers",
]
STREAM = "stream"  # ours, optional, after the original's inputs

EXPECTED = {
    "RTCStreamFrameInput": (
        [("image", "IMAGE", {}), ("enabled", "BOOLEAN", {"default": True}), (STREAM,)],
        (),
        (),
    ),
    "RTCStreamFrameOutput": (
        [("whep_url", "STRING", {"default": ""}), (STREAM,), ("count", "INT", {"default": 1})],
        ("IMAGE", "STRING"),
        ("image", "whep_url"),
    ),
    "StartRTCStream": (
        [
            ("pipeline_config", "PIPELINE_CONFIG", {}),
            ("stream_name", "STRING", {"default": "comfyui-livestream"}),
            ("fps", "INT", {"default": 30, "min": 1, "max": 120, "step": 1}),
            ("width", "INT", {"default": 512, "min": 64, "max": 4096, "step": 8}),
            ("height", "INT", {"default": 512, "min": 64, "max": 4096, "step": 8}),
            (
                "enabled",
                "BOOLEAN",
                {"default": True, "label_on": "Enabled", "label_off": "Disabled"},
            ),
            (
                "stop_stream",
                "BOOLEAN",
                {"default": False, "label_on": "Stop stream", "label_off": "Idle"},
            ),
            (STREAM,),
        ],
        ("STRING", "STRING", "STRING", "STRING"),
        ("stream_id", "playback_id", "whip_url", "whep_url"),
    ),
    "UpdateRTCStream": (
        [
            ("pipeline_config", "PIPELINE_CONFIG", {}),
            ("enabled", "BOOLEAN", {"default": True}),
            (STREAM,),
        ],
        (),
        (),
    ),
    "RTCStreamStatus": (
        [("stream_id", "STRING", {"default": ""}), (STREAM,)],
        ("BOOLEAN", "STRING", "STRING", "STRING", "INT", "INT", "STRING"),
        (
            "running",
            "stream_id",
            "playback_id",
            "whep_url",
            "frames_sent",
            "queue_depth",
            "status_json",
        ),
    ),
    "RTCStreamControlNet": (
        [
            ("model_id", CN_IDS, {"default": CN_IDS[0]}),
            (
                "preprocessor",
                ["canny", "depth_tensorrt", "passthrough", "pose_tensorrt", "soft_edge"],
                {"default": "pose_tensorrt"},
            ),
            ("conditioning_scale", "FLOAT", {"default": 0.711, "min": 0, "max": 2, "step": 0.05}),
            ("control_guidance_start", "FLOAT", {"default": 0.0, "min": 0, "max": 1, "step": 0.05}),
            ("control_guidance_end", "FLOAT", {"default": 1.0, "min": 0, "max": 1, "step": 0.05}),
            ("preprocessor_params", "STRING", {"default": "{}", "multiline": True}),
            ("enabled", "BOOLEAN", {"default": True}),
        ],
        ("CONTROLNET_CONFIG",),
        ("controlnet",),
    ),
    "RTCStreamUIPreview": ([], (), ()),
}
INTERP = ["linear", "slerp"]
PIPELINE_INPUTS = [
    ("pipeline", ["streamdiffusion"], {"default": "streamdiffusion"}),
    ("model_id", ["stabilityai/sd-turbo"], {"default": "stabilityai/sd-turbo"}),
    ("prompt", "STRING", {"default": "A beautiful landscape", "multiline": True}),
    ("guidance_scale", "FLOAT", {"default": 7.5, "min": 0, "max": 256, "step": 0.5}),
    ("delta", "FLOAT", {"default": 1.0, "min": 0, "max": 256, "step": 0.5}),
    ("num_inference_steps", "INT", {"default": 50, "min": 1, "max": 200}),
    ("width", "INT", {"default": 704, "min": 256, "max": 2048, "step": 8}),
    ("height", "INT", {"default": 704, "min": 256, "max": 2048, "step": 8}),
    ("seed", "INT", {"default": 0, "min": 0, "max": 4294967295}),
    ("negative_prompt", "STRING", {"default": ""}),
    ("prompt_interpolation_method", INTERP, {"default": "linear"}),
    ("seed_interpolation_method", INTERP, {"default": "linear"}),
    ("normalize_prompt_weights", "BOOLEAN", {"default": True}),
    ("normalize_seed_weights", "BOOLEAN", {"default": True}),
    ("use_safety_checker", "BOOLEAN", {"default": True}),
    ("use_lcm_lora", "BOOLEAN", {"default": True}),
    ("lcm_lora_id", "STRING", {"default": ""}),
    ("lora_dict", "STRING", {"default": "{}"}),
    ("acceleration", ["none", "xformers", "sfast", "tensorrt"], {"default": "none"}),
    ("use_denoising_batch", "BOOLEAN", {"default": True}),
    ("do_add_noise", "BOOLEAN", {"default": True}),
    ("enable_similar_image_filter", "BOOLEAN", {"default": True}),
    ("similar_image_filter_threshold", "FLOAT", {"default": 0.5, "min": 0, "max": 1, "step": 0.01}),
    (
        "similar_image_filter_max_skip_frame",
        "INT",
        {"default": 10, "min": 0, "max": 4503599627370495},
    ),
    ("t_index_list", "STRING", {"default": "0"}),
    *[(f"controlnet_{i}", "CONTROLNET_CONFIG", {}) for i in range(1, 6)],
    ("enable_ip_adapter", "BOOLEAN", {"default": False}),
    ("ip_adapter_type", ["none", "regular", "faceid"], {"default": "none"}),
    ("ip_adapter_scale", "FLOAT", {"default": 0.5, "min": 0, "max": 2, "step": 0.05}),
    (
        "ip_adapter_weight_type",
        ["linear", "ease_in", "ease_out", "ease_in_out"],
        {"default": "linear"},
    ),
    ("ip_adapter_style_image_url", "STRING", {"default": ""}),
]
EXPECTED["RTCStreamPipelineConfig"] = (
    PIPELINE_INPUTS,
    ("PIPELINE_CONFIG", "STRING", "INT", "INT"),
    ("pipeline_config", "config_json", "width", "height"),
)
REQUIRED = {
    "RTCStreamFrameInput": 1,
    "RTCStreamFrameOutput": 1,
    "StartRTCStream": 1,
    "UpdateRTCStream": 1,
    "RTCStreamStatus": 0,
    "RTCStreamControlNet": 3,
    "RTCStreamPipelineConfig": 9,
    "RTCStreamUIPreview": 0,
}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    loader.use_standins()
    folder = loader.install_as(tmp_path_factory.mktemp("custom_nodes"), "rtc-node")
    return loader.load_custom_node(folder).NODE_CLASS_MAPPINGS


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_inputs_and_outputs_are_the_spec(nodes, key):
    cls = nodes[key]
    expected_inputs, return_types, return_names = EXPECTED[key]
    types = cls.INPUT_TYPES()
    ordered = list(types.get("required", {}).items()) + list(types.get("optional", {}).items())
    assert [name for name, _ in ordered] == [e[0] for e in expected_inputs]
    assert len(types.get("required", {})) == REQUIRED[key]
    for (name, spec), expected in zip(ordered, expected_inputs):
        if name == STREAM:
            assert spec[0] == "STRING" and spec[1]["default"] == ""
            continue
        assert spec[0] == expected[1], name
        opts = spec[1] if len(spec) > 1 else {}
        for option, value in expected[2].items():
            assert opts.get(option) == value, (name, option)
    assert cls.RETURN_TYPES == return_types
    assert getattr(cls, "RETURN_NAMES", ()) == return_names


def test_hidden_inputs_and_the_seed_control(nodes):
    hidden = nodes["StartRTCStream"].INPUT_TYPES()["hidden"]
    assert hidden == {"unique_id": "UNIQUE_ID", "extra_pnginfo": "EXTRA_PNGINFO"}
    seed = nodes["RTCStreamPipelineConfig"].INPUT_TYPES()["required"]["seed"]
    assert seed[1]["control_after_generate"] is True  # the widget value after seed's
