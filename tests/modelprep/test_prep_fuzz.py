"""Property tests (issue 19): `--config` files and the manifest `calibrate` reads back.
Whatever the JSON, the answer is a config whose every field has its declared type, or one
ConfigError / CalibrationError line; never another exception. Quick in every run; the long
run is `pytest -m fuzz` (TEXTSORT_FUZZ_EXAMPLES examples)."""
from __future__ import annotations

import json
import tempfile
import types
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path

from hypothesis import strategies as st

from fuzzing import fuzz
from modelprep.calibrate import CalibrationError, _data_config
from modelprep.cli import _overrides
from modelprep.config import ConfigError, PipelineConfig, config_hash
from textsort.presentation.card import render_card

SECTIONS = [f.name for f in fields(PipelineConfig)]
FIELDS = sorted({g.name for f in fields(PipelineConfig) for g in fields(f.default_factory())})
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                    max_leaves=12)
KEY = st.one_of(st.sampled_from(SECTIONS + FIELDS + ["augment", "x"]), st.text(max_size=8))
OVERRIDES = st.recursive(st.dictionaries(KEY, JSON, max_size=3),
                         lambda inner: st.dictionaries(KEY, st.one_of(JSON, inner), max_size=3), max_leaves=10)
CONFIG_FILE = st.one_of(OVERRIDES.map(lambda o: json.dumps(o).encode()), JSON.map(lambda o: json.dumps(o).encode()),
                        st.binary(max_size=200))


def _well_typed(obj) -> None:
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        value, hint = getattr(obj, f.name), hints[f.name]
        if is_dataclass(value):
            _well_typed(value)
            continue
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        allowed = args if origin in (typing.Union, types.UnionType) else (hint,)
        plain = tuple(typing.get_origin(a) or a for a in allowed)
        assert isinstance(value, plain), (f.name, value, hint)
        if isinstance(value, bool):
            assert bool in plain, (f.name, value)


@fuzz(CONFIG_FILE)
def config_file_prop(content: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.json"
        path.write_bytes(content)
        try:
            cfg = _overrides(PipelineConfig(), str(path))
        except ConfigError as e:
            assert str(e).startswith(f"--config {path}") and "\n" not in str(e)
            return
    _well_typed(cfg)
    config_hash(cfg)  # every stage hashes its config: it must serialise


test_config_file_is_a_typed_config_or_one_line, test_config_file_is_a_typed_config_or_one_line_long = config_file_prop

MANIFEST = st.fixed_dictionaries({}, optional={
    "config": st.one_of(JSON, st.fixed_dictionaries({}, optional={"data": st.one_of(JSON, st.dictionaries(
        st.sampled_from(["val_fraction", "seed", "delimiter", "text_column", "label_column", "min_examples_per_class",
                         "max_chars", "cross_validate_below", "x"]), SCALARS, max_size=5))})),
    "data": JSON, "labels": JSON, "name": JSON, "metrics": JSON, "estimate": JSON, "unlabelled": JSON,
    "calibration": JSON, "candidates": JSON})


@fuzz(MANIFEST)
def manifest_prop(manifest: dict):
    try:
        cfg = _data_config(manifest)
    except CalibrationError as e:
        assert str(e) and "\n" not in str(e)
    else:
        _well_typed(cfg)
    render_card(manifest)  # calibrate writes the card of whatever manifest it reads


test_calibrate_reads_any_manifest_or_refuses_it, test_calibrate_reads_any_manifest_or_refuses_it_long = manifest_prop
