"""Classify a corpus on a Ray cluster (or Ray's local mode): `textsort classify-dataset`.

The same bundle and the same code as `textsort classify` run on every worker: an actor
per worker loads the bundle once (its bytes travel through Ray's object store, so the
workers need no copy of the file) and classifies batches with `Session` (files) or
`Classifier.predict_batch` (a text column). Optional: `pip install 'textsort[ray]'`;
nothing else in textsort imports this module or Ray.

Input: a folder or a glob of text files (the workers read them: they must see the same
paths, e.g. a shared file system), or a Parquet/CSV/JSONL dataset (local paths or any
URI pyarrow reads: s3://, gs://, hdfs://) with a text column.
Output: a folder of Parquet or JSONL files, one row per input: id (the file's path, or
the id column, or FILE#sha1-of-the-text, which repeats for repeated texts: give
--id-column when rows must be told apart), label, confidence, scores (label -> probability),
problem (why a row has no label: unreadable file, binary, empty), model, model_sha256.
A bad file is a row with a problem; it never stops the job (a file name that is not
UTF-8 is classified, its odd bytes written as \\udcXX in id, as `classify --format csv` does).
Checked before Ray starts: the input exists (a glob matches), `out` is new or empty (a
run never mixes its rows with other files), a cluster address answers, and a table has
the text and id columns.
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import tempfile
from pathlib import Path

TABLE_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".jsonl": "json", ".ndjson": "json", ".json": "json"}


def _table(results: list[dict], labels: list[str], model: str, sha: str):
    """The output rows with a fixed schema (a batch of problems only must not become null
    columns); scores is a struct with one field per label: an object in JSONL."""
    import pyarrow as pa

    scores = pa.struct([(label, pa.float64()) for label in labels])
    schema = pa.schema([("id", pa.string()), ("label", pa.string()), ("confidence", pa.float64()),
                        ("scores", scores), ("problem", pa.string()), ("model", pa.string()),
                        ("model_sha256", pa.string())])
    cols = {"id": [r["id"] for r in results], "label": [r["label"] for r in results],
            "confidence": [r["confidence"] for r in results], "scores": [r["scores"] for r in results],
            "problem": [r["problem"] for r in results], "model": [model] * len(results),
            "model_sha256": [sha] * len(results)}
    return pa.Table.from_pydict(cols, schema=schema)


class ClassifyBatches:
    """A Ray actor: loads the bundle once, then classifies batches (pandas DataFrames)."""

    def __init__(self, bundle_bytes: bytes, name: str, threads: int = 1, max_bytes: int | None = None):
        from textsort.core.engine import Classifier
        from textsort.files.reading import DEFAULT_MAX_BYTES

        folder = Path(tempfile.mkdtemp(prefix="textsort-bundle-"))
        try:
            path = folder / name
            path.write_bytes(bundle_bytes)
            self.classifier = Classifier(path, threads=threads)  # holds the model in memory
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.sha = hashlib.sha256(bundle_bytes).hexdigest()
        self.max_bytes = max_bytes or DEFAULT_MAX_BYTES

    def __call__(self, batch):
        from textsort.appstate.session import Session

        name = self.classifier.bundle.name
        if "path" in batch.columns and "text" not in batch.columns:  # files: exactly what `classify` does
            session = Session(self.classifier, max_bytes=self.max_bytes)
            results = [_row(str(r.path), r.prediction, r.problem)
                       for r in session.run_items([Path(os.fsdecode(p)) for p in batch["path"]])]
        else:
            texts = ["" if t is None else str(t) for t in batch["text"]]
            ok = [i for i, t in enumerate(texts) if t.strip()]
            preds = dict(zip(ok, self.classifier.predict_batch([texts[i] for i in ok]))) if ok else {}
            results = []
            for i, rid in enumerate(batch["id"]):
                p = preds.get(i)
                good = p is not None and p.finite
                results.append(_row(str(rid), p if good else None,
                                    None if good else ("empty text" if p is None else "not a number")))
        return _table(results, list(self.classifier.labels), name, self.sha)


def _row(rid: str, p, problem: str | None) -> dict:
    """One output row from a Prediction (None when there is a problem), unrounded. Lone
    surrogates (a file name that is not UTF-8) become \\udcXX: Arrow strings are UTF-8."""
    from textsort.appstate.session import _escape_surrogates

    return {"id": _escape_surrogates(rid), "label": p.label if p else None,
            "confidence": float(p.score) if p else None,
            "scores": {k: float(v) for k, v in p.scores.items()} if p else None, "problem": problem}


def input_kind(source: str) -> str:
    """'files' (a folder, a glob, a text file) or a table format ('parquet', 'csv', 'json')."""
    suffix = Path(source.rstrip("/")).suffix.lower()
    if suffix in TABLE_SUFFIXES and not Path(source).is_dir():
        return TABLE_SUFFIXES[suffix]
    if "://" in source:
        return "parquet"  # a remote dataset folder (s3://, gs://, hdfs://): Parquet
    if Path(source).is_dir() and next(Path(source).rglob("*.parquet"), None) is not None:
        return "parquet"  # a Parquet dataset folder (partitioned ones too)
    return "files"


def _file_paths(source: str) -> list[str]:
    """The input files; ValueError when there are none (nothing there, a glob with no match)."""
    from textsort.files.reading import iter_paths

    roots = [source] if os.path.lexists(source) else sorted(glob.glob(source, recursive=True))
    if not roots:
        raise ValueError(f"no file matches {source}" if glob.has_magic(source) else
                         f"{source}: no such file or folder")
    paths = [str(item if not isinstance(item, tuple) else item[0]) for item in iter_paths(roots)]
    if not paths:
        raise ValueError(f"no input file in {source}")
    return paths


def _filesystem(where: str):
    """(pyarrow file system, path) for a local path or a URI (s3://, gs://, hdfs://)."""
    import pyarrow.fs as pafs

    return pafs.FileSystem.from_uri(where) if "://" in where else (pafs.LocalFileSystem(), os.path.abspath(where))


def check_out(out: str) -> None:
    """`out` must be new or an empty folder: Ray adds files beside whatever is there, so a
    second run (or a user's own files) would mix with this run's rows. Nothing is removed
    (textsort.files.safe_files' rule): the user picks a new folder or clears this one."""
    import pyarrow.fs as pafs

    fs, path = _filesystem(out)
    kind = fs.get_file_info(path).type
    if kind == pafs.FileType.NotFound:
        return
    if kind != pafs.FileType.Directory:
        raise ValueError(f"--out {out} is not a folder")
    found = fs.get_file_info(pafs.FileSelector(path))
    if found:
        from textsort.files.safe_files import RefusedWrite

        raise RefusedWrite(f"--out {out} is not empty ({len(found)} entries): give a new or empty folder "
                           "(a run never mixes its rows with other files, and never removes them)")


def check_address(address: str | None, timeout: float = 5.0) -> None:
    """A HOST:PORT or ray://HOST:PORT cluster must accept a connection within `timeout`
    seconds: ray.init itself retries an address where nothing listens for minutes."""
    host, sep, port = (address or "").removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "local", or no port: Ray's own lookup, which fails fast
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise ConnectionError(f"no Ray cluster answers at {address} ({e.strerror or e})") from None


def classify_dataset(source: str, out: str, model: str | os.PathLike, *, out_format: str = "parquet",
                     address: str | None = None, workers: int | None = None, text_column: str = "text",
                     id_column: str | None = None, batch_size: int = 256, max_bytes: int | None = None) -> dict:
    """Classify `source` into the folder `out`; returns counts. Starts (or joins, with
    `address`) a Ray cluster; `workers` actors of one CPU each (default: all CPUs)."""
    import ray

    from textsort.core.bundle import load_bundle

    bundle = load_bundle(model)  # checks the bundle here, before any worker starts
    data = Path(model).read_bytes()
    check_out(out)
    kind = input_kind(source)
    if kind == "files":
        paths = _file_paths(source)
    else:
        check_table(kind, source, text_column, id_column)
    if address:
        check_address(address)
    if not ray.is_initialized():
        # local mode: one CPU per classifying actor plus one for reading (else the actors
        # hold every CPU and the read tasks never start)
        local_cpus = (workers or os.cpu_count() or 1) + 1
        ray.init(address=address, num_cpus=None if address else local_cpus, include_dashboard=False,
                 log_to_driver=False, logging_level="ERROR")
    workers = workers or max(1, int(ray.cluster_resources().get("CPU", 2)) - 1)
    if kind == "files":  # paths as bytes: a name that is not UTF-8 is no Arrow string
        ds = ray.data.from_items([{"path": os.fsencode(p)} for p in paths],
                                 override_num_blocks=max(1, min(len(paths) // 64, workers * 8)))
    else:
        ds = _read_table(kind, source, text_column, id_column)
    out_ds = ds.map_batches(ClassifyBatches, fn_constructor_args=(data, Path(model).name),
                            fn_constructor_kwargs={"max_bytes": max_bytes}, batch_size=batch_size,
                            batch_format="pandas", concurrency=workers, num_cpus=1)
    if out_format == "jsonl":
        out_ds.write_json(out)
    elif out_format == "parquet":
        out_ds.write_parquet(out)
    else:
        raise ValueError(f"output format must be parquet or jsonl, not {out_format!r}")
    return {"model": bundle.name, "workers": workers, "input": kind}


def check_table(kind: str, source: str, text_column: str, id_column: str | None) -> None:
    """ValueError (one line) when the table cannot be read or lacks a named column: found on
    its first file (CSV, JSON lines) or its files' schemas (Parquet), before Ray starts."""
    import pyarrow as pa
    import pyarrow.dataset as pads

    if "://" not in source and not os.path.lexists(source):
        raise ValueError(f"{source}: no such file or folder")
    try:
        if kind == "json":  # read with pandas, as Ray does (it takes a column of numbers and words)
            import pandas as pd

            fs, path = _filesystem(source)
            with fs.open_input_stream(path) as fh:
                names = [str(n) for n in pd.read_json(fh, lines=True, nrows=1).columns]
        elif kind == "csv":
            names = pads.dataset(source, format="csv").schema.names
        else:  # every file's schema: Ray refuses Parquet files whose columns differ in type
            parts = pads.dataset(source, format="parquet", partitioning="hive")
            names = pa.unify_schemas([parts.schema, *(f.physical_schema for f in parts.get_fragments())]).names
    except (ValueError, OSError, pa.ArrowException) as e:  # pyarrow's, pandas'
        raise ValueError(f"{source} cannot be read as {kind.upper()}: {' '.join(str(e).split())[:300]}") from None
    for column, option in ((text_column, "--text-column"), (id_column, "--id-column")):
        if column and column not in names:
            raise ValueError(f"{source} has no column {column!r} ({option}); its columns: {', '.join(names)}")


def _read_table(kind: str, source: str, text_column: str, id_column: str | None):
    """The table (checked by check_table) as a Ray dataset of id and text."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import ray

    if kind == "csv":  # only the columns used, as strings (a column of numbers with a word further down)
        used = [c for c in (text_column, id_column) if c]
        ds = ray.data.read_csv(source, include_paths=True, convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in used}, include_columns=used))
    elif kind == "json":
        ds = ray.data.read_json(source, lines=True, include_paths=True)
    else:
        ds = ray.data.read_parquet(source, include_paths=True)
    return ds.map_batches(_TableIds(text_column, id_column), batch_format="pandas")


def _cell(value) -> str | None:
    """A table cell as text (a number too: a column may mix them with strings); None when empty."""
    import pandas as pd

    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _TableIds:
    """Rows of a table -> id and text columns, as text (id: the id column; without one, or
    where it is empty, file#hash of the text)."""

    def __init__(self, text_column: str, id_column: str | None):
        self.text_column, self.id_column = text_column, id_column

    def __call__(self, batch):
        import pandas as pd

        if self.text_column not in batch.columns:
            raise ValueError(f"no column {self.text_column!r}; columns: {', '.join(map(str, batch.columns))}")
        texts = [_cell(t) for t in batch[self.text_column]]
        given = [_cell(i) for i in batch[self.id_column]] if self.id_column else [None] * len(texts)
        ids = [rid if rid is not None else
               f"{path}#{hashlib.sha1(str(t).encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"
               for rid, path, t in zip(given, batch["path"], texts)]
        return pd.DataFrame({"id": ids, "text": texts}, dtype=object)
