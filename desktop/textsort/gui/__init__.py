"""The Textsort desktop app (PySide6). The only part of `textsort` that imports Qt;
it calls textsort.core.engine, appstate.session, files.reading and appstate.models and
holds no classification logic of its own. Entry point: textsort.gui.app:main
(`textsort-app`)."""
