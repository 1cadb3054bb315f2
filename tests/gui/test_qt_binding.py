"""The installed Qt binding must not lose references to None (PySide6 6.12.0 does: on
CPython 3.11 the app aborts after a few thousand Qt calls)."""
from __future__ import annotations

import sys

import pytest

from textsort.gui.qt_check import MAX_LOST, binding_problem, none_refcount_leak


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from CPython 3.12")
def test_qt_calls_keep_references_to_none(qtbot):
    assert none_refcount_leak() < MAX_LOST, binding_problem()


def test_the_self_test_reports_the_binding(capsys, tiny_bundle):
    from textsort.gui.app import self_test

    assert self_test(tiny_bundle) == 0
    assert "references to None kept (checked)" in capsys.readouterr().out
