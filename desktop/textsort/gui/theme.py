"""The app's colour schemes: the platform's look, or Fusion with a light or dark palette
(`textsort-app --theme`, View ▸ Theme)."""
from __future__ import annotations


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    p = QPalette()
    roles = QPalette.ColorRole
    for role, rgb in ((roles.Window, (45, 45, 48)), (roles.WindowText, (230, 230, 230)),
                      (roles.Base, (30, 30, 32)), (roles.AlternateBase, (40, 40, 44)),
                      (roles.Text, (230, 230, 230)), (roles.Button, (55, 55, 60)),
                      (roles.ButtonText, (230, 230, 230)), (roles.ToolTipBase, (60, 60, 64)),
                      (roles.ToolTipText, (230, 230, 230)), (roles.PlaceholderText, (150, 150, 150)),
                      (roles.Highlight, (42, 110, 200)), (roles.HighlightedText, (255, 255, 255)),
                      (roles.Link, (110, 170, 255)), (roles.Mid, (90, 90, 96)), (roles.Dark, (25, 25, 27)),
                      (roles.Light, (80, 80, 86)), (roles.Midlight, (70, 70, 75)), (roles.Shadow, (10, 10, 10))):
        p.setColor(role, QColor(*rgb))
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return p


def apply_theme(app, theme: str) -> None:
    """"system" keeps (or restores) the platform's look; "light"/"dark" use Fusion with a
    fixed palette. Can be called again while the app runs (View ▸ Theme)."""
    from PySide6.QtCore import Qt

    if app.property("textsort_system_style") is None:
        app.setProperty("textsort_system_style", app.style().name())
    if theme == "system":
        if app.property("textsort_theme") in ("light", "dark"):  # back from a theme set earlier
            app.setStyle(str(app.property("textsort_system_style")))
            app.styleHints().unsetColorScheme()
            app.setPalette(app.style().standardPalette())
        app.setProperty("textsort_theme", "system")
        return
    app.setProperty("textsort_theme", theme)
    app.setStyle("Fusion")
    app.styleHints().setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    app.setPalette(dark_palette() if theme == "dark" else app.style().standardPalette())
