"""Visible GUI defaults and the settings that persist between runs (QSettings)."""
from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings

THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class GuiDefaults:
    threshold: float = 0.0          # results below this confidence are shown as "uncertain"
    debounce_ms: int = 250          # typed text is classified after this pause
    batch_ms: int = 100             # streamed results reach the table at most this often
    explain_top_n: int = 20         # words highlighted in the text view
    top_words_shown: int = 10       # words listed beside it
    max_display_chars: int = 200_000  # longer texts are shown cut (the model saw all of it)
    organisation: str = "Textsort"
    application: str = "Textsort"


DEFAULTS = GuiDefaults()


class AppSettings:
    """Typed access to QSettings: last model, threshold, window geometry, last folder."""

    def __init__(self, qsettings: QSettings | None = None, defaults: GuiDefaults = DEFAULTS):
        self.q = qsettings or QSettings(defaults.organisation, defaults.application)
        self.defaults = defaults

    def _get(self, key: str, default, kind):
        try:
            value = self.q.value(key, default, type=kind)
        except (TypeError, ValueError):
            return default
        return default if value is None else value

    @property
    def last_model(self) -> str:
        return self._get("model/last", "", str)

    @last_model.setter
    def last_model(self, path: str) -> None:
        self.q.setValue("model/last", os.path.abspath(path) if path else "")

    @property
    def user_models(self) -> list[str]:
        """Models trained or opened here, newest first (the model picker lists those that exist)."""
        value = self.q.value("model/user_models", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or [] if v]

    def remember_model(self, path: str) -> None:
        """Kept as an absolute path: the app may be started from any folder next time."""
        path = os.path.abspath(path)
        models = [path] + [m for m in self.user_models if m != path]
        self.q.setValue("model/user_models", models[:20])

    @property
    def threshold(self) -> float:
        value = float(self._get("results/threshold", self.defaults.threshold, float))
        return min(max(value, 0.0), 1.0)

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.q.setValue("results/threshold", float(value))

    @property
    def threshold_chosen(self) -> bool:
        """The user has set a threshold (else each model's suggested one applies)."""
        return self.q.contains("results/threshold")

    @property
    def theme(self) -> str:
        """"system", "light" or "dark" (View ▸ Theme); anything else reads as "system"."""
        value = str(self._get("view/theme", "system", str))
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self.q.setValue("view/theme", value if value in THEMES else "system")

    @property
    def last_folder(self) -> str:
        return self._get("files/last_folder", "", str)

    @last_folder.setter
    def last_folder(self, path: str) -> None:
        self.q.setValue("files/last_folder", str(path))

    @property
    def geometry(self) -> QByteArray | None:
        value = self.q.value("window/geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.q.setValue("window/geometry", value)

    def sync(self) -> None:
        self.q.sync()
