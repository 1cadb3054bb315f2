"""What a training run will do, before it starts: `textsort-prep preview DATA --json`.

Prints JSON lines as each part is known (the app shows them as they come): the preview
events of `textsort.core.protocol`.
Data checks need no TensorFlow; the teacher and the estimate need the training extra.
"""
from __future__ import annotations

import sys
from collections import Counter

from modelprep.progress import write
from textsort.core.protocol import Event


def refuse(out, message: str) -> bool:
    """The preview's verdict that training would be refused: the problem, then the end."""
    write(out, Event.PROBLEM, message=message)
    write(out, Event.END, ok=False)
    return False


def preview(data, test, cfg, measure: bool = True, out=None, unlabelled=None) -> bool:
    """Emit the preview of training on `data` (and the `unlabelled` texts); True when
    nothing would be refused."""
    from textsort.appstate.training import training_missing
    from modelprep.data import DataError, prepare

    out = out or sys.stdout
    try:
        prepared = prepare(data, cfg.data, test)
    except DataError as e:
        return refuse(out, str(e))
    summary = prepared.summary
    counts = Counter(prepared.labels[i] for i in list(prepared.train.y) + list(prepared.val.y))
    write(out, Event.DATA, labels={label: counts[label] for label in prepared.labels}, cleaning=summary["counts"],
          split=summary["split"], warnings=summary["warnings"],
          test=(summary["test"] or {}).get("counts"))
    missing = training_missing()
    if missing:
        from textsort.appstate.training import install_message

        return refuse(out, install_message(missing))
    from modelprep.pipeline import read_pool, teacher_for
    from modelprep.teachers import TeacherError

    pool = []
    if unlabelled is not None:
        try:
            pool, pool_summary = read_pool(unlabelled, prepared, cfg)
        except ValueError as e:
            return refuse(out, str(e))
        write(out, Event.UNLABELLED, **pool_summary)
    try:
        source, reason = teacher_for(prepared, cfg, pool)
    except TeacherError as e:
        return refuse(out, str(e))
    write(out, Event.TEACHER, name=source.name, reason=reason)
    if measure:
        from modelprep.estimate import estimate_seconds, step_seconds
        from textsort.core.encoding import TextEncoder, TokenizerSpec

        spec = TokenizerSpec(max_length=cfg.teacher.max_length, cls_id=source.cls_id, sep_id=source.sep_id,
                             pad_id=source.pad_id)
        windows, _ = TextEncoder.from_json(source.tokenizer_json, spec).encode_batch(
            prepared.train.texts[:500], first_window_only=True)
        length = max(8, round(sum(len(w) for w in windows) / max(len(windows), 1)))
        steps = step_seconds(source, len(prepared.labels), cfg, length)
        write(out, Event.ESTIMATE, **estimate_seconds(len(prepared.train), len(prepared.val), cfg, steps,
                                                   few=prepared.cross_validated, n_pool=len(pool)),
              window_tokens=length)
    write(out, Event.END, ok=True)
    return True
