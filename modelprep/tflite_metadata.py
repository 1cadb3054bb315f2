"""TFLite metadata for MediaPipe Tasks' TextClassifier (and any TFLite metadata reader).

What MediaPipe's BERT text classifier needs besides the three int32 inputs
(`modelprep.export`): a `TFLITE_METADATA` buffer (a `ModelMetadata` flatbuffer,
identifier "M001", schema `mediapipe/tasks/metadata/metadata_schema.fbs`) that names the
inputs ids / segment_ids / mask in the model's tensor order, a tokenizer process unit
with its vocabulary, and the output's label file; the associated files themselves are
a ZIP appended to the flatbuffer (a LiteRT interpreter ignores trailing bytes).

Written with the `flatbuffers` builder directly: the schema's generated Python ships only
inside `mediapipe`, whose writer needs its native extension. The field slots below are
that schema's (checked by the opt-in MediaPipe test, which loads the result).

Tokenizers: WordPiece -> `BertTokenizerOptions` + vocab.txt (MediaPipe adds [CLS]/[SEP]
by name, as our encoder does by id). Unigram (multilingual-e5's SentencePiece) ->
`SentencePieceTokenizerOptions` + a SentencePiece model rebuilt from tokenizer.json
(`modelprep.sentencepiece_model`).
"""
from __future__ import annotations

import io
import json
import zipfile

import flatbuffers

METADATA_NAME = "TFLITE_METADATA"
METADATA_IDENTIFIER = b"M001"
MIN_PARSER_VERSION = "1.1.0"  # tokenizer process units need 1.1.0
LABELS_FILE = "labels.txt"
VOCAB_FILE = "vocab.txt"
SPM_FILE = "sentencepiece.model"

# metadata_schema.fbs enums
_FEATURE_PROPERTIES = 1                       # ContentProperties
_BERT_TOKENIZER, _SENTENCEPIECE_TOKENIZER = 4, 5  # ProcessUnitOptions
_TENSOR_AXIS_LABELS, _VOCABULARY = 2, 5       # AssociatedFileType

# Model Maker's input names -> MediaPipe's metadata names, and descriptions.
INPUT_METADATA = {
    "input_word_ids": ("ids", "Tokenized ids of the input text."),
    "input_mask": ("mask", "Mask with 1 for real tokens and 0 for padding tokens."),
    "input_type_ids": ("segment_ids", "0 for the first sequence, 1 for the second sequence if exists."),
}


def _table(b: flatbuffers.Builder, fields: list[tuple[int, str, object]]) -> int:
    """One table from (slot, kind, value) with kind 'offset', 'uint8' or 'int8'; None is left out."""
    b.StartObject(max(slot for slot, _, _ in fields) + 1)
    for slot, kind, value in fields:
        if value is None:
            continue
        if kind == "offset":
            b.PrependUOffsetTRelativeSlot(slot, value, 0)
        elif kind == "uint8":
            b.PrependUint8Slot(slot, value, 0)
        else:
            b.PrependInt8Slot(slot, value, 0)
    return b.EndObject()


def _vector(b: flatbuffers.Builder, offsets: list[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _float_vector(b: flatbuffers.Builder, values: list[float]) -> int:
    b.StartVector(4, len(values), 4)
    for v in reversed(values):
        b.PrependFloat32(v)
    return b.EndVector()


def _file(b, name: str, description: str, kind: int) -> int:
    return _table(b, [(0, "offset", b.CreateString(name)), (1, "offset", b.CreateString(description)),
                      (2, "int8", kind)])


def _feature_content(b) -> int:
    b.StartObject(0)
    props = b.EndObject()  # FeatureProperties: no fields
    return _table(b, [(0, "uint8", _FEATURE_PROPERTIES), (1, "offset", props)])


def _tensor(b, name: str, description: str, stats: tuple[list[float], list[float]] | None = None,
            files: list[int] | None = None) -> int:
    content = _feature_content(b)
    stats_off = None
    if stats is not None:
        mx, mn = _float_vector(b, stats[0]), _float_vector(b, stats[1])
        stats_off = _table(b, [(0, "offset", mx), (1, "offset", mn)])
    else:
        b.StartObject(0)
        stats_off = b.EndObject()
    return _table(b, [(0, "offset", b.CreateString(name)), (1, "offset", b.CreateString(description)),
                      (3, "offset", content), (5, "offset", stats_off),
                      (6, "offset", _vector(b, files) if files else None)])


def metadata_buffer(*, name: str, description: str, version: str, input_order: list[str],
                    tokenizer: str, author: str = "Textsort", license_: str | None = None) -> bytes:
    """The ModelMetadata flatbuffer. `input_order`: the model's input tensor names in its
    input order (each one of INPUT_METADATA's keys); `tokenizer`: 'wordpiece' | 'sentencepiece'."""
    b = flatbuffers.Builder(1024)
    inputs = []
    for tensor in input_order:
        key = next((k for k in INPUT_METADATA if k in tensor), None)
        if key is None:
            raise ValueError(f"input tensor {tensor!r} is none of {list(INPUT_METADATA)}")
        inputs.append(_tensor(b, *INPUT_METADATA[key]))
    labels = _file(b, LABELS_FILE, "Labels for categories that the model can recognize.", _TENSOR_AXIS_LABELS)
    output = _tensor(b, "score", "Score of the labels respectively.", stats=([1.0], [0.0]), files=[labels])
    if tokenizer == "wordpiece":
        vocab = _file(b, VOCAB_FILE, "Vocabulary file to convert natural language words to embedding vectors.",
                      _VOCABULARY)
        options, options_type = _table(b, [(0, "offset", _vector(b, [vocab]))]), _BERT_TOKENIZER
    elif tokenizer == "sentencepiece":
        spm = _file(b, SPM_FILE, "The SentencePiece model file.", 0)
        options, options_type = _table(b, [(0, "offset", _vector(b, [spm]))]), _SENTENCEPIECE_TOKENIZER
    else:
        raise ValueError(f"no MediaPipe tokenizer for {tokenizer!r}")
    unit = _table(b, [(0, "uint8", options_type), (1, "offset", options)])
    subgraph = _table(b, [(2, "offset", _vector(b, inputs)), (3, "offset", _vector(b, [output])),
                          (5, "offset", _vector(b, [unit]))])
    root = _table(b, [(0, "offset", b.CreateString(name)), (1, "offset", b.CreateString(description)),
                      (2, "offset", b.CreateString(version)), (3, "offset", _vector(b, [subgraph])),
                      (4, "offset", b.CreateString(author)),
                      (5, "offset", b.CreateString(license_) if license_ else None),
                      (7, "offset", b.CreateString(MIN_PARSER_VERSION))])
    b.Finish(root, file_identifier=METADATA_IDENTIFIER)
    return bytes(b.Output())


def tokenizer_files(tokenizer_json: str) -> tuple[str, dict[str, bytes]]:
    """('wordpiece' | 'sentencepiece', the associated files) for a tokenizers JSON."""
    spec = json.loads(tokenizer_json)
    kind = spec["model"]["type"]
    if kind == "WordPiece":
        vocab = sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1])
        if [i for _, i in vocab] != list(range(len(vocab))):
            raise ValueError("the WordPiece vocabulary's ids are not 0..n-1")
        return "wordpiece", {VOCAB_FILE: "".join(f"{tok}\n" for tok, _ in vocab).encode("utf-8")}
    if kind == "Unigram":
        from modelprep.sentencepiece_model import from_tokenizer_json

        return "sentencepiece", {SPM_FILE: from_tokenizer_json(spec)}
    raise ValueError(f"no MediaPipe tokenizer for a {kind} tokenizer")


def with_metadata(model_bytes: bytes, *, labels: list[str], tokenizer_json: str, name: str,
                  description: str, version: str = "1", license_: str | None = None) -> bytes:
    """`model_bytes` with MediaPipe text-classifier metadata and its files appended."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(model_bytes, 0))
    graph = model.subgraphs[0]
    input_order = [graph.tensors[i].name.decode() for i in graph.inputs]
    kind, files = tokenizer_files(tokenizer_json)
    meta = metadata_buffer(name=name, description=description, version=version, input_order=input_order,
                           tokenizer=kind, license_=license_)
    buffer = schema.BufferT()
    buffer.data = list(meta)
    model.buffers = [*(model.buffers or []), buffer]
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name.decode() != METADATA_NAME] + [entry]
    b = flatbuffers.Builder(len(model_bytes) + 1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    out = io.BytesIO(bytes(b.Output()))
    out.seek(0, io.SEEK_END)
    files = {**files, LABELS_FILE: "".join(f"{label}\n" for label in labels).encode("utf-8")}
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as zf:
        for fname, data in files.items():
            zf.writestr(fname, data)
    return out.getvalue()


def read_metadata(model_bytes: bytes) -> tuple[bytes | None, dict[str, bytes]]:
    """(the TFLITE_METADATA buffer or None, the appended files) of a model."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(model_bytes, 0)
    meta = None
    for i in range(model.MetadataLength()):
        if model.Metadata(i).Name().decode() == METADATA_NAME:
            meta = model.Buffers(model.Metadata(i).Buffer()).DataAsNumpy().tobytes()
    files = {}
    if zipfile.is_zipfile(io.BytesIO(model_bytes)):
        with zipfile.ZipFile(io.BytesIO(model_bytes)) as zf:
            files = {n: zf.read(n) for n in zf.namelist()}
    return meta, files
