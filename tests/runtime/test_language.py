"""The script check shared by the CLI, exports, endpoint and GUI."""
from textsort.core.language import language_warning


def test_language_warning_only_for_a_plain_script_mismatch():
    assert "English" in language_warning("房间干净整洁，前台服务热情，早餐种类也多。", "en")
    assert language_warning("Hey, are we still on for lunch tomorrow?", "en") == ""
    assert language_warning("Hey, are we still on for lunch tomorrow?", "zh") != ""
    assert language_warning("这个东西很好 OK", "zh") == ""
    assert language_warning("房间干净整洁，前台服务热情。", "multi") == ""
    assert language_warning("房间干净整洁", None) == ""
