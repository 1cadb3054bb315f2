"""Teacher training on several devices or machines (tf.distribute), chosen from the
environment:

- `TF_CONFIG` naming more than one worker: `MultiWorkerMirroredStrategy`. Every worker
  runs the same `textsort-prep train` command; worker 0 (the chief) writes the teacher
  stage and then finishes the pipeline alone, the others stop after the teacher.
- several GPUs visible in one process: `MirroredStrategy`.
- otherwise none: the plain loop, exactly as before.

Scaling: `TeacherConfig.hparams.batch_size` is per replica, so one optimizer step sees
batch_size x replicas texts; an epoch is n / (batch_size x replicas) steps, and the
learning-rate schedule (warm-up, linear decay) and `max_steps` count those global steps;
the peak learning rate grows with the square root of the replicas (the rule for Adam-type
optimizers; batch x k -> rate x sqrt(k)).
Each replica's loss is its examples' sum divided by the global batch, so the summed
gradients are the global mean. The time budget is wall-clock: workers share the largest
elapsed time (an all-reduce every 25 steps), so they all stop at the same step. The
stage's weights are the same checkpoint whatever the worker count, so a run can resume
on another one.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass

import tensorflow as tf


@dataclass
class Distribution:
    strategy: object
    workers: int = 1            # processes
    task: int = 0               # this process's index (0: the chief)
    replicas: int = 1           # replicas in sync, all workers together

    @property
    def chief(self) -> bool:
        return self.task == 0

    @property
    def local_replicas(self) -> int:
        return max(1, self.replicas // self.workers)

    def sync_max(self, value: float) -> float:
        """The largest `value` over all workers (the same answer on every worker)."""
        if self.workers == 1:
            return value
        per_replica = self.strategy.run(lambda: tf.constant([value], tf.float32))
        return float(tf.reduce_max(self.strategy.gather(per_replica, axis=0)))  # all-gather (no MAX reduce op)


def workers_in_tf_config() -> tuple[int, int]:
    """(workers, this task's index) from TF_CONFIG; (1, 0) without one."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 1, 0
    spec = json.loads(raw)
    cluster = spec.get("cluster", {})
    workers = len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    task = spec.get("task", {})
    index = int(task.get("index", 0)) + (len(cluster.get("chief", [])) if task.get("type") == "worker" else 0)
    return max(workers, 1), index


def choose(mode: str = "auto") -> Distribution | None:
    """The strategy for `mode` ("auto" | "off"); None for one device. Create it before any
    other TensorFlow op (MultiWorkerMirroredStrategy must come first)."""
    if mode == "off":
        return None
    if mode != "auto":
        raise ValueError(f"distribute must be auto or off, not {mode!r}")
    workers, task = workers_in_tf_config()
    if workers > 1:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        return Distribution(strategy, workers, task, strategy.num_replicas_in_sync)
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        strategy = tf.distribute.MirroredStrategy()
        return Distribution(strategy, 1, 0, strategy.num_replicas_in_sync)
    return None
