"""Test 2 of issue 14 (the part without a server): a workflow saved with the original pack
(spec's original-example-workflow.json, copied into tests/fixtures) and ours in examples/ map
their widgets_values onto the inputs as the frontend does and validate; the config nodes build
the spec's pipeline config from them; the graphs convert to the API format."""

import json
import os
import uuid

import pytest

import comfyui_loader as loader
import core_standins
import workflow_harness as wh

ORIGINAL = loader.ROOT / "tests" / "fixtures" / "original-example-workflow.json"
OURS = loader.ROOT / "examples" / "comfyui-workflow.json"
PARAM_KEYS = [
    "model_id",
    "prompt",
    "prompt_interpolation_method",
    "normalize_prompt_weights",
    "normalize_seed_weights",
    "negative_prompt",
    "guidance_scale",
    "delta",
    "num_inference_steps",
    "t_index_list",
    "use_safety_checker",
    "width",
    "height",
    "lora_dict",
    "use_lcm_lora",
    "lcm_lora_id",
    "acceleration",
    "use_denoising_batch",
    "do_add_noise",
    "seed",
    "seed_interpolation_method",
    "enable_similar_image_filter",
    "similar_image_filter_threshold",
    "similar_image_filter_max_skip_frame",
]


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    os.environ["DAYDREAM_RTC_SERVER_URL"] = "http://127.0.0.1:9"  # nothing: the cache POST fails
    loader.use_standins()
    folder = loader.install_as(tmp_path_factory.mktemp("custom_nodes"), "rtc-node-wf")
    yield core_standins.classes_with_core(loader.load_custom_node(folder).NODE_CLASS_MAPPINGS)
    del os.environ["DAYDREAM_RTC_SERVER_URL"]


def nodes_of(path, type_name):
    return [n for n in json.loads(path.read_text())["nodes"] if n["type"] == type_name]


def test_original_workflow_widgets_land_on_their_inputs(classes):
    (config,) = nodes_of(ORIGINAL, "RTCStreamPipelineConfig")
    values = wh.map_widgets(classes["RTCStreamPipelineConfig"], config["widgets_values"])
    assert values["prompt"] == "Michael Jordan on the basketball court"
    assert (values["width"], values["height"], values["seed"]) == (704, 640, 475169395)
    assert values["negative_prompt"] == "" and values["lcm_lora_id"] == ""
    assert values["acceleration"] == "none" and values["t_index_list"] == "0"
    assert values["similar_image_filter_threshold"] == 0.5
    assert values["ip_adapter_style_image_url"] == ""
    (start,) = nodes_of(ORIGINAL, "StartRTCStream")
    values = wh.map_widgets(classes["StartRTCStream"], start["widgets_values"])
    assert values == {
        "stream_name": "comfyui-livestream",
        "fps": 30,
        "width": 512,
        "height": 512,
        "enabled": True,
        "stop_stream": False,
        "stream": "",  # ours, newer than the workflow: its default
    }
    (cn,) = nodes_of(ORIGINAL, "RTCStreamControlNet")
    values = wh.map_widgets(classes["RTCStreamControlNet"], cn["widgets_values"])
    assert values["preprocessor_params"] == "{}" and values["enabled"] is True
    (status,) = nodes_of(ORIGINAL, "RTCStreamStatus")
    assert wh.map_widgets(classes["RTCStreamStatus"], status["widgets_values"])["stream_id"] == ""


@pytest.mark.parametrize("path", [ORIGINAL, OURS], ids=["original", "ours"])
def test_workflow_validates_and_converts(classes, path):
    prompt = wh.to_api(json.loads(path.read_text()), classes)
    types = {node["class_type"] for node in prompt.values()}
    assert {"RTCStreamPipelineConfig", "StartRTCStream", "RTCStreamStatus"} <= types
    start = next(n for n in prompt.values() if n["class_type"] == "StartRTCStream")
    assert wh.is_link(start["inputs"]["pipeline_config"])


@pytest.mark.parametrize("path", [ORIGINAL, OURS], ids=["original", "ours"])
def test_workflow_id_is_a_uuid(path):
    """The frontend checks a workflow against its schema when it loads one: an id that is
    no UUID gives an "Invalid workflow against zod schema" alert (seen in ComfyUI 1.35.9)."""
    doc = json.loads(path.read_text())
    assert str(uuid.UUID(doc["id"])) == doc["id"]


@pytest.mark.parametrize("path", [ORIGINAL, OURS], ids=["original", "ours"])
def test_config_nodes_build_the_spec_config(classes, path):
    workflow = json.loads(path.read_text())
    (cn_node,) = nodes_of(path, "RTCStreamControlNet")
    (cfg_node,) = nodes_of(path, "RTCStreamPipelineConfig")
    cn_inputs = wh.map_widgets(classes["RTCStreamControlNet"], cn_node["widgets_values"])
    (controlnet,) = classes["RTCStreamControlNet"]().build(**cn_inputs)
    cfg_inputs = wh.map_widgets(classes["RTCStreamPipelineConfig"], cfg_node["widgets_values"])
    config, text, width, height = classes["RTCStreamPipelineConfig"]().build(
        **cfg_inputs, controlnet_1=controlnet
    )
    assert list(config) == ["pipeline", "params"] and config["pipeline"] == "streamdiffusion"
    assert list(config["params"]) == PARAM_KEYS + ["controlnets"]
    assert json.loads(text) == config and (width, height) == (
        cfg_inputs["width"],
        cfg_inputs["height"],
    )
    assert config["params"]["controlnets"] == [
        {
            "enabled": True,
            "model_id": "thibaud/controlnet-sd21-openpose-diffusers",
            "preprocessor": "pose_tensorrt",
            "conditioning_scale": 0.711,
            "control_guidance_start": 0.0,
            "control_guidance_end": 1.0,
            "preprocessor_params": {},
        }
    ]
    assert workflow["nodes"]  # the file is a UI workflow, not an API prompt
