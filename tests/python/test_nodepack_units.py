"""The pack's pure parts: tensor conversion by ComfyUI's B x H x W x C contract (weakness 26),
the config validation of spec §9.7/§9.8, the config hash (§6.4) and the config nodes' IS_CHANGED
(a hash, not NaN: weakness 31)."""

import math

import numpy as np
import pytest

import comfyui_loader as loader


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    loader.use_standins()
    folder = loader.install_as(tmp_path_factory.mktemp("custom_nodes"), "rtc-node-units")
    module = loader.load_custom_node(folder)
    import sys

    return lambda name: sys.modules[f"{module.__name__}.{name}"]


def test_conversion_rounds_and_clips(pack):
    convert = pack("convert")
    image = np.array([[[[0.999, 0.5, 1.7], [-0.2, 0.0019, 0.0021]]]], np.float32)
    frames = convert.as_batch(image)
    assert frames.dtype == np.uint8 and frames.shape == (1, 1, 2, 3)
    assert frames[0, 0].tolist() == [[255, 128, 255], [0, 0, 1]]  # rounded, not truncated


@pytest.mark.parametrize("height", [1, 3, 4])
def test_small_heights_are_not_taken_for_channels(pack, height):
    frames = pack("convert").as_batch(np.full((1, height, 5, 3), 0.5, np.float32))
    assert frames.shape == (1, height, 5, 3)


def test_every_image_of_a_batch_in_order(pack):
    batch = np.stack([np.full((4, 6, 3), i / 10, np.float32) for i in range(10)])
    frames = pack("convert").as_batch(batch)
    assert [int(f[0, 0, 0]) for f in frames] == [round(i * 25.5 + 1e-9) for i in range(10)]


def test_grey_and_alpha_channels(pack):
    convert = pack("convert")
    grey = convert.as_batch(np.full((2, 2, 2, 1), 1.0, np.float32))
    assert grey.shape == (2, 2, 2, 3) and (grey == 255).all()
    rgba = convert.as_batch(np.zeros((1, 2, 2, 4), np.float32))
    assert rgba.shape == (1, 2, 2, 3)
    with pytest.raises(convert.ImageError):
        convert.as_batch(np.zeros((1, 2, 2, 2), np.float32))
    with pytest.raises(convert.ImageError):
        convert.as_batch(np.zeros((2, 2), np.float32))


def test_raw_bytes_back_to_an_image(pack):
    convert = pack("convert")
    frame = convert.rgb_from_bytes(bytes([0, 128, 255]) * 6, 3, 2)
    image = np.asarray(convert.rgb_to_image([frame]))  # a torch tensor where torch is there
    assert image.shape == (1, 2, 3, 3) and image.dtype == np.float32
    assert np.allclose(image[0, 0, 0], [0, 128 / 255, 1])
    with pytest.raises(convert.ImageError):
        convert.rgb_from_bytes(b"\0" * 5, 3, 2)


def config_inputs(pack, **changes):
    nodes = pack("nodes_config")
    opts = nodes.defaults(nodes.RTCStreamPipelineConfig.INPUT_TYPES())
    opts.update(changes)
    return opts


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"width": 700}, "divisible by 8"),
        ({"height": 128}, "at least 256"),
        ({"guidance_scale": -1.0}, "guidance_scale"),
        ({"similar_image_filter_threshold": 1.5}, "at most 1.0"),
        ({"t_index_list": "1, x"}, "Invalid t_index value 'x'"),
        ({"lora_dict": "[1]"}, "lora_dict must be a JSON object"),
        ({"acceleration": "cuda"}, "acceleration"),
        ({"controlnet_2": {"model_id": "nope"}}, "controlnet_2: unknown ControlNet"),
        (
            {
                "controlnet_1": {
                    "model_id": "thibaud/controlnet-sd21-canny-diffusers",
                    "preprocessor": "soft_edge",
                }
            },
            "takes preprocessor 'canny'",
        ),
        (
            {
                "controlnet_1": {
                    "model_id": "thibaud/controlnet-sd21-hed-diffusers",
                    "control_guidance_start": 0.8,
                    "control_guidance_end": 0.2,
                }
            },
            "must not exceed",
        ),
    ],
)
def test_validation_errors_name_the_input(pack, changes, message):
    pipeline = pack("pipeline")
    with pytest.raises(pipeline.ConfigError, match=message):
        pipeline.build_pipeline_config(config_inputs(pack, **changes))


def test_parsing_and_optional_sections(pack):
    pipeline = pack("pipeline")
    config = pipeline.build_pipeline_config(
        config_inputs(
            pack,
            prompt="  x  ",
            t_index_list=" 3, ,1 ,",
            lora_dict=" ",
            use_lcm_lora=False,
            lcm_lora_id="gone",
            enable_ip_adapter=True,
            ip_adapter_type="regular",
            ip_adapter_style_image_url="http://example.invalid/a.png",
            controlnet_3={"model_id": "thibaud/controlnet-sd21-canny-diffusers", "enabled": False},
        )
    )
    params = config["params"]
    assert params["prompt"] == "x" and params["t_index_list"] == [3, 1]
    assert params["lora_dict"] == {} and params["lcm_lora_id"] == ""
    assert params["controlnets"][0]["enabled"] is False
    assert params["controlnets"][0]["preprocessor_params"] == {
        "low_threshold": 100,
        "high_threshold": 200,
    }
    assert params["controlnets"][0]["conditioning_scale"] == 0.0
    assert params["ip_adapter"] == {
        "enabled": True,
        "type": "regular",
        "scale": 0.5,
        "weight_type": "linear",
    }
    assert list(params)[-1] == "ip_adapter_style_image_url"
    assert pipeline.parse_t_index_list("") == [0]


def test_config_hash_is_the_spec_one(pack):
    import hashlib

    pipeline = pack("pipeline")
    expected = hashlib.sha256(b'{"a":"\\u00e9","b":1}').hexdigest()
    assert pipeline.config_hash({"b": 1, "a": "é"}) == expected
    assert pipeline.config_hash(None) == pipeline.config_hash({})


def test_config_nodes_is_changed_is_a_stable_hash(pack):
    nodes = pack("nodes_config")
    a = nodes.RTCStreamPipelineConfig.IS_CHANGED(**config_inputs(pack), controlnet_1=None)
    b = nodes.RTCStreamPipelineConfig.IS_CHANGED(**config_inputs(pack), controlnet_1=None)
    c = nodes.RTCStreamPipelineConfig.IS_CHANGED(**config_inputs(pack, prompt="other"))
    assert isinstance(a, str) and a == b and a != c
    cn = nodes.RTCStreamControlNet.IS_CHANGED(model_id="x", conditioning_scale=0.5)
    assert isinstance(cn, str) and not (isinstance(cn, float) and math.isnan(cn))


def test_torch_tensors_convert_like_numpy(pack):
    torch = pytest.importorskip("torch")  # ComfyUI's own; Debian's python3-torch where present
    convert = pack("convert")
    batch = np.random.default_rng(1).random((3, 5, 7, 3), dtype=np.float32)
    assert (convert.as_batch(torch.from_numpy(batch)) == convert.as_batch(batch)).all()
    assert isinstance(convert.rgb_to_image(convert.as_batch(batch)), torch.Tensor)
