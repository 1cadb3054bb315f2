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
A bad file is a row with a problem; it never stops the job.
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
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
        from textsort.engine import Classifier
        from textsort.reading import DEFAULT_MAX_BYTES

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
        from textsort.session import Session

        name = self.classifier.bundle.name
        if "path" in batch.columns and "text" not in batch.columns:  # files: exactly what `classify` does
            session = Session(self.classifier, max_bytes=self.max_bytes)
            results = [_row(str(r.path), r.prediction, r.problem)
                       for r in session.run_items([Path(p) for p in batch["path"]])]
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
    """One output row from a Prediction (None when there is a problem), unrounded."""
    return {"id": rid, "label": p.label if p else None, "confidence": float(p.score) if p else None,
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
    from textsort.reading import iter_paths

    roots = sorted(glob.glob(source, recursive=True)) if glob.has_magic(source) else [source]
    return [str(item if not isinstance(item, tuple) else item[0]) for item in iter_paths(roots)]


def classify_dataset(source: str, out: str, model: str | os.PathLike, *, out_format: str = "parquet",
                     address: str | None = None, workers: int | None = None, text_column: str = "text",
                     id_column: str | None = None, batch_size: int = 256, max_bytes: int | None = None) -> dict:
    """Classify `source` into the folder `out`; returns counts. Starts (or joins, with
    `address`) a Ray cluster; `workers` actors of one CPU each (default: all CPUs)."""
    import ray

    from textsort.bundle import load_bundle

    bundle = load_bundle(model)  # checks the bundle here, before any worker starts
    data = Path(model).read_bytes()
    if not ray.is_initialized():
        # local mode: one CPU per classifying actor plus one for reading (else the actors
        # hold every CPU and the read tasks never start)
        local_cpus = (workers or os.cpu_count() or 1) + 1
        ray.init(address=address, num_cpus=None if address else local_cpus, include_dashboard=False,
                 log_to_driver=False, logging_level="ERROR")
    workers = workers or max(1, int(ray.cluster_resources().get("CPU", 2)) - 1)
    kind = input_kind(source)
    if kind == "files":
        paths = _file_paths(source)
        ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=max(1, min(len(paths) // 64,
                                                                                                 workers * 8)))
    else:
        reader = {"parquet": ray.data.read_parquet, "csv": ray.data.read_csv,
                  "json": lambda s, **kw: ray.data.read_json(s, lines=True, **kw)}[kind]
        ds = reader(source, include_paths=True)
        ds = ds.map_batches(_TableIds(text_column, id_column), batch_format="pandas")
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


class _TableIds:
    """Rows of a table -> id and text columns (id: the id column, else file#hash of the text)."""

    def __init__(self, text_column: str, id_column: str | None):
        self.text_column, self.id_column = text_column, id_column

    def __call__(self, batch):
        import pandas as pd

        if self.text_column not in batch.columns:
            raise ValueError(f"no column {self.text_column!r}; columns: {', '.join(map(str, batch.columns))}")
        texts = batch[self.text_column].astype(object).where(batch[self.text_column].notna(), None)
        if self.id_column:
            ids = batch[self.id_column].astype(str)
        else:
            ids = [f"{path}#{hashlib.sha1(str(t).encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"
                   for path, t in zip(batch["path"], texts)]
        return pd.DataFrame({"id": list(ids), "text": list(texts)})
