"""Renders textsort.svg to textsort.png (256 px) with Qt, and from it the Windows and macOS
icons build.spec uses (textsort.ico, textsort.icns; with Pillow):
python assets/icons/render_png.py"""
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SIZE = 256

if __name__ == "__main__":
    app = QGuiApplication([])
    renderer = QSvgRenderer(str(HERE / "textsort.svg"))
    if not renderer.isValid():
        raise SystemExit(f"{HERE / 'textsort.svg'}: not a valid SVG")
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    image.save(str(HERE / "textsort.png"))
    print(HERE / "textsort.png")
    from PIL import Image

    png = Image.open(HERE / "textsort.png")
    png.save(HERE / "textsort.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    png.save(HERE / "textsort.icns")
    print(HERE / "textsort.ico", HERE / "textsort.icns")
