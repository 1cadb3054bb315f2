"""Which package versions a run used, kept once: the runtime's packages (the app's About box,
`textsort --self-test`) and, with modelprep's training packages, every stage record and
bundle manifest. Keys are the names `pip` knows the packages by."""
from __future__ import annotations

import platform
from importlib import metadata

RUNTIME_PACKAGES = ("textsort", "numpy", "tokenizers", "ai-edge-litert")


def package_versions(packages=RUNTIME_PACKAGES) -> dict[str, str | None]:
    """{package: version}, None for one that is not installed; "python" last."""
    out: dict[str, str | None] = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["python"] = platform.python_version()
    return out
