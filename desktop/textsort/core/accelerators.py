"""Which hardware runs the model: `cpu` (LiteRT's interpreter with XNNPACK, the default),
`gpu` (LiteRT's CompiledModel on its GPU accelerator, when it takes the whole model),
or `auto` (the GPU when one works, else the CPU).

Asking for a GPU never fails a run: when LiteRT finds no usable GPU (no driver, no
adapter), the CPU runs the model and `Runner.note` says why. `textsort self-test` and
`textsort classify --accelerator` report what was used.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from textsort.core.native import quiet_native_stderr

CHOICES = ("cpu", "gpu", "auto")


class CompiledRunner:
    """The bundle's model through LiteRT's CompiledModel API (hardware accelerators),
    called like the interpreter's signature runner (keyword arrays in, {output: array} out)."""

    def __init__(self, model_bytes: bytes, signature: str, n_labels: int, accelerators):
        from ai_edge_litert.compiled_model import CompiledModel

        self.model = CompiledModel.from_buffer(model_bytes, hardware_accel=accelerators)
        self.signature, self.n_labels = signature, n_labels
        self.index = self.model.get_signature_index(signature)
        self.inputs = self.model.get_signature_list()[signature]["inputs"]
        self.output = self.model.get_signature_list()[signature]["outputs"][0]

    def __call__(self, **arrays: np.ndarray) -> dict[str, np.ndarray]:
        n, length = next(iter(arrays.values())).shape
        for name in self.inputs:
            self.model.resize_input_tensor_by_name(self.signature, name, [n, length])
        ins = self.model.create_input_buffers(self.index)
        outs = self.model.create_output_buffers(self.index)
        for name, buf in zip(self.inputs, ins):
            buf.write(np.ascontiguousarray(arrays[name], dtype=np.int32))
        self.model.run_by_index(self.index, ins, outs)
        return {self.output: np.asarray(outs[0].read(n * self.n_labels, np.float32)).reshape(n, self.n_labels)}


@dataclass
class Runner:
    signature_runner: object  # the interpreter's signature runner, or a CompiledRunner
    layout: object  # textsort.core.bundle.ModelLayout: the tensor names, logits or probabilities
    used: str  # "cpu" | "gpu"
    note: str = ""  # why the GPU was not used, when it was asked for

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """int32 [n, length] ids and mask -> float32 [n, k] logits (up to a constant per row)."""
        out = self.signature_runner(**self.layout.feed(ids, mask))[self.layout.output]
        return self.layout.to_logits(out)


def make_runner(bundle, threads: int | None, accelerator: str = "cpu") -> Runner:
    """The model runner for `accelerator` (one of CHOICES), falling back to the CPU."""
    if accelerator not in CHOICES:
        raise ValueError(f"accelerator must be one of {', '.join(CHOICES)}, not {accelerator!r}")
    note = ""
    if accelerator in ("gpu", "auto"):
        try:
            from ai_edge_litert.hardware_accelerator import HardwareAccelerator as HA

            with quiet_native_stderr():  # the GPU alone: a model it takes whole, or none (then the CPU)
                runner = CompiledRunner(bundle.model_bytes, bundle.signature, len(bundle.labels), HA.GPU)
            if not runner.model.is_fully_accelerated():
                raise RuntimeError("the GPU accelerator did not take the whole model")
            return Runner(runner, bundle.layout, "gpu")
        except Exception as e:  # no GPU, no driver, an op the GPU cannot run: the CPU runs it
            note = ("no usable GPU: LiteRT's GPU accelerator (WebGPU: needs a GPU with a Vulkan, Metal or "
                    f"Direct3D 12 driver) could not run the model ({type(e).__name__}); running on the CPU")
    return Runner(bundle.interpreter(threads).get_signature_runner(bundle.signature), bundle.layout, "cpu", note)
