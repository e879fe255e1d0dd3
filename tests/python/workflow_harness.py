"""What ComfyUI does with a saved workflow, for the tests: the frontend's mapping of
`widgets_values` onto a node's inputs (by position; the control-after-generate value follows
`seed`), its conversion to the API format (bypassed and muted nodes left out), the backend's
validation of widget values, and an executor applying ComfyUI's caching rule (a node runs again
only when its signature changed: its class, constant inputs, IS_CHANGED value, and its
ancestors' signatures; NaN never equals itself)."""

import math

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN"}
CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}
MISSING = object()


def widget_inputs(cls):
    types = cls.INPUT_TYPES()
    ordered = list(types.get("required", {}).items()) + list(types.get("optional", {}).items())
    return [(n, s) for n, s in ordered if isinstance(s[0], list) or s[0] in WIDGET_TYPES]


def has_control(name, spec):
    opts = spec[1] if len(spec) > 1 else {}
    return spec[0] == "INT" and (
        opts.get("control_after_generate") or name in ("seed", "noise_seed")
    )


def map_widgets(cls, values):
    """{input name: value} as the frontend fills a node from widgets_values; missing trailing
    values (inputs newer than the workflow) take their defaults. Leftover values are an error."""
    out, rest = {}, list(values)
    for name, spec in widget_inputs(cls):
        opts = spec[1] if len(spec) > 1 else {}
        out[name] = (
            rest.pop(0)
            if rest
            else opts.get("default", spec[0][0] if isinstance(spec[0], list) else MISSING)
        )
        if has_control(name, spec) and rest:
            control = rest.pop(0)
            assert control in CONTROL_VALUES, f"{name}: control value {control!r}"
    assert not rest, f"{cls.__name__}: {len(rest)} widget values left over: {rest}"
    return out


def validate(cls, inputs):
    """ComfyUI's validate_inputs for widget values: type, min/max, choice lists."""
    for name, spec in widget_inputs(cls):
        if name not in inputs or isinstance(inputs[name], list) and len(inputs[name]) == 2:
            continue  # linked
        value, kind = inputs[name], spec[0]
        opts = spec[1] if len(spec) > 1 else {}
        if isinstance(kind, list):
            assert value in kind, f"{name}: {value!r} not in {kind}"
        elif kind == "BOOLEAN":
            assert isinstance(value, bool), f"{name}: {value!r} is not a boolean"
        elif kind == "STRING":
            assert isinstance(value, str), f"{name}: {value!r} is not a string"
        else:
            assert isinstance(value, (int, float)) and not isinstance(value, bool), name
            if kind == "INT":
                assert float(value).is_integer(), f"{name}: {value!r} is not an integer"
            assert opts.get("min", -math.inf) <= value <= opts.get("max", math.inf), name


def to_api(workflow, classes):
    """The API-format prompt of a UI workflow: {id: {"class_type", "inputs"}}."""
    links = {link[0]: link for link in workflow["links"]}
    prompt = {}
    for node in workflow["nodes"]:
        if node.get("mode", 0) in (2, 4):  # muted, bypassed (these have no consumers here)
            continue
        cls = classes[node["type"]]
        inputs = map_widgets(cls, node.get("widgets_values", []))
        validate(cls, inputs)
        for slot in node.get("inputs", []):
            if slot.get("link") is not None:
                link = links[slot["link"]]
                inputs[slot["name"]] = [str(link[1]), link[2]]
        prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return prompt


def is_link(value):
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


class Executor:
    """Queues prompts as ComfyUI does, node objects and outputs kept between prompts."""

    def __init__(self, classes):
        self.classes = classes
        self.objects = {}
        self.cache = {}  # node id -> (signature, outputs)
        self.executed = []

    def signature(self, prompt, node_id, memo):
        if node_id in memo:
            return memo[node_id]
        node, cls = prompt[node_id], self.classes[prompt[node_id]["class_type"]]
        consts = {k: v for k, v in node["inputs"].items() if not is_link(v)}
        changed = False
        if hasattr(cls, "IS_CHANGED"):
            args = {k: (None if is_link(v) else v) for k, v in node["inputs"].items()}
            changed = cls.IS_CHANGED(**args)
            if isinstance(changed, float) and math.isnan(changed):
                changed = object()  # never equal to anything
        parents = tuple(
            (k, self.signature(prompt, v[0], memo), v[1])
            for k, v in sorted(node["inputs"].items())
            if is_link(v)
        )
        memo[node_id] = (node["class_type"], repr(sorted(consts.items())), changed, parents)
        return memo[node_id]

    def run(self, prompt):
        """Executes the output nodes and what they need; returns {node id: outputs}."""
        self.executed, memo, results = [], {}, {}
        for node_id in sorted(prompt, key=int):
            if getattr(self.classes[prompt[node_id]["class_type"]], "OUTPUT_NODE", False):
                self.execute(prompt, node_id, memo, results)
        return results

    def execute(self, prompt, node_id, memo, results):
        if node_id in results:
            return results[node_id]
        node = prompt[node_id]
        cls = self.classes[node["class_type"]]
        args = {}
        for name, value in node["inputs"].items():
            args[name] = (
                self.execute(prompt, value[0], memo, results)[value[1]] if is_link(value) else value
            )
        sig = self.signature(prompt, node_id, memo)
        cached = self.cache.get(node_id)
        if cached is not None and cached[0] == sig:
            results[node_id] = cached[1]
            return cached[1]
        obj = self.objects.get(node_id)
        if obj is None or type(obj) is not cls:
            obj = self.objects[node_id] = cls()
        hidden = cls.INPUT_TYPES().get("hidden", {})
        if "unique_id" in hidden:
            args["unique_id"] = node_id
        outputs = getattr(obj, cls.FUNCTION)(**args)
        self.executed.append(node_id)
        self.cache[node_id] = (sig, outputs)
        results[node_id] = outputs
        return outputs
