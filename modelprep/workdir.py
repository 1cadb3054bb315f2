"""Stage folders in the work directory: a stage is done when its `stage.json` exists
with the same config hash; it is written last, so a crash leaves the stage to redo."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from textsort.core.versions import RUNTIME_PACKAGES, package_versions


TRAINING_PACKAGES = ("tensorflow", "tf-keras", "scikit-learn")


def versions() -> dict:
    """The runtime's and the training packages' versions (`textsort.core.versions`); TensorFlow
    under its own name whichever wheel (tensorflow, tensorflow-cpu) provides it."""
    import tensorflow as tf

    out = package_versions(RUNTIME_PACKAGES + TRAINING_PACKAGES)
    out["tensorflow"] = tf.__version__
    return out


@dataclass
class StageFolder:
    """One stage's folder in the work directory and its `stage.json` record."""
    folder: Path
    key: str            # config hash of this stage and everything it depends on
    config: dict

    @staticmethod
    def identity(record: dict) -> str:
        """What a downstream stage's key includes: this run of the stage, not only its config."""
        return f"{record['config_hash']}@{record.get('finished', '')}"

    @property
    def record_path(self) -> Path:
        return self.folder / "stage.json"

    def done(self) -> dict | None:
        """The stored record when this stage already ran with the same config."""
        try:
            record = json.loads(self.record_path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return record if record.get("config_hash") == self.key else None

    def start(self) -> Path:
        self.record_path.unlink(missing_ok=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder

    def finish(self, seconds: float, **extra) -> dict:
        record = {"stage": self.folder.name, "config_hash": self.key, "config": self.config,
                  "finished": time.time(), "seconds": round(seconds, 1), "versions": versions(), **extra}
        tmp = self.record_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str), "utf-8")
        tmp.replace(self.record_path)
        return record
