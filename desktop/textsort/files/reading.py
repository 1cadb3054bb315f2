"""Files and folders -> text. Never raises for a bad file: it says what is wrong.

Rules (docs/runtime.md): files are opened read-only and never changed; at most
`max_bytes` are read (the rest is reported as truncated); text is decoded as UTF-8
(with or without BOM) first, then UTF-16/32 by BOM or NUL pattern, then by
charset-normalizer (GB18030/GBK, Big5, Shift-JIS, Latin-1, ...); `.eml` gives subject
+ text body, `.html`/`.htm` the visible text. Binary, empty, unreadable files,
link loops and special files each get a `problem` in plain words; only regular files are
ever opened (a FIFO or device, even one swapped in after the check, is refused, never read).
Text without a letter or digit (only emoji, symbols, punctuation, spaces, invisible
characters) is "no text"; a NUL character never reaches the text.
"""
from __future__ import annotations

import codecs
import email
import errno
import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email import policy
from html.parser import HTMLParser
from pathlib import Path

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
EMAIL_SUFFIXES = (".eml",)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ALLOWED_CONTROLS = set("\t\n\r\f\v\x1b")


@dataclass
class FileText:
    path: Path
    text: str | None  # None when there is a problem and nothing could be read
    encoding: str | None = None
    kind: str = "text"  # "text", "email", "html"
    size: int = 0  # bytes on disk
    truncated: bool = False  # only the first max_bytes were read
    problem: str | None = None  # plain words, or None


EMPTY = "empty file"
NO_TEXT = "no text in file (no letters or digits: only spaces, symbols, emoji or invisible characters)"


class NotRegularFile(OSError):
    """A folder, device, pipe or socket where a file was expected; str() is the plain words."""


def _not_regular(mode: int) -> str | None:
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    return None if stat.S_ISREG(mode) else "not a regular file (a device, pipe or socket)"


def open_regular(path: str | os.PathLike):
    """Open `path` for binary reading only if it is a regular file. O_NONBLOCK: opening a FIFO
    never waits for a writer; the check is fstat on the opened file, so nothing can be swapped
    in between. Raises NotRegularFile (or the OSError of the open)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        why = _not_regular(os.fstat(fd).st_mode)
        if why:
            raise NotRegularFile(why)
        return os.fdopen(fd, "rb")  # O_NONBLOCK changes nothing for a regular file
    except BaseException:
        os.close(fd)
        raise


def os_problem(e: OSError) -> str:
    if isinstance(e, NotRegularFile):
        return str(e)
    if e.errno == errno.ELOOP:
        return "symbolic link loop"
    if e.errno == errno.ENOENT:
        return "not found (or a broken link)"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if e.errno == errno.EISDIR:
        return "is a folder, not a file"
    return f"cannot be read ({e.strerror or e})"


# -- decoding --------------------------------------------------------------
def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:4096]
    bad = sum(1 for c in sample if (c < " " and c not in _ALLOWED_CONTROLS) or c == "\ufffd")
    return bad > max(2, len(sample) // 100)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without BOM has NUL in every other byte for ASCII/Latin."""
    sample = data[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if half and odd > half * 0.3 and even < half * 0.05:
        return "utf-16-le"
    if half and even > half * 0.3 and odd < half * 0.05:
        return "utf-16-be"
    return None


def _decode_cut(data: bytes, encoding: str, truncated: bool) -> str:
    """Decode strictly; when the file was cut at the cap, drop a split last character."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        if truncated and e.start >= len(data) - 4:
            return data[: e.start].decode(encoding)
        raise


# Short texts are ambiguous; among equally plausible guesses prefer the common ones.
_PREFERRED = ("gb18030", "big5", "cp932", "shift_jis", "euc_jp", "euc_jis_2004", "cp949", "euc_kr", "cp1252")
_MULTIBYTE = set(_PREFERRED[:-1]) | {"utf_8", "utf_16", "utf_16_le", "utf_16_be", "utf_32", "hz", "iso2022_jp"}


def _guess_encoding(data: bytes):
    """charset-normalizer's candidates, ties broken towards common encodings."""
    from charset_normalizer import from_bytes  # imported only for files that are not UTF-8

    results = sorted(from_bytes(data), key=lambda m: m.chaos)
    if not results:
        return None
    floor = results[0].chaos
    rank = {enc: i for i, enc in enumerate(_PREFERRED)}
    ties = [m for m in results if m.chaos <= floor + 0.01]
    pick = min(ties, key=lambda m: rank.get(m.encoding, len(rank)))
    if pick.encoding not in _MULTIBYTE:  # a Western single-byte page: Windows-1252 unless clearly not
        western = [m for m in results if m.encoding == "cp1252" and m.chaos <= floor + 0.1]
        pick = western[0] if western else pick
    return pick


def decode_bytes(data: bytes, truncated: bool = False) -> tuple[str | None, str | None, str | None]:
    """bytes -> (text, encoding, problem). Whatever the path (BOM, UTF-16, UTF-8, a
    guess), text that is mostly control characters is a binary file."""
    text, enc, problem = _decode(data, truncated)
    if text is not None and _looks_binary(text):
        return None, None, "binary file (not text)"
    return text, enc, problem


def _decode(data: bytes, truncated: bool) -> tuple[str | None, str | None, str | None]:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return _decode_cut(data, enc, truncated), enc, None
            except UnicodeDecodeError:
                return None, None, f"damaged {enc} text (it starts with a {enc} byte-order mark)"
    if b"\x00" in data:  # never in UTF-8 text; UTF-16 without BOM or binary
        enc = _utf16_without_bom(data)
        if enc:
            try:
                text = _decode_cut(data[: len(data) // 2 * 2], enc, truncated)
                if not _looks_binary(text):
                    return text, enc, None
            except UnicodeDecodeError:
                pass
        return None, None, "binary file (not text)"
    try:
        return _decode_cut(data, "utf-8", truncated), "utf-8", None
    except UnicodeDecodeError:
        pass
    best = _guess_encoding(data)
    if best is None:
        return None, None, "binary file or unknown text encoding"
    text = str(best)
    if _looks_binary(text):
        return None, None, "binary file (not text)"
    return text, best.encoding, None


# -- HTML and e-mail -------------------------------------------------------
class _VisibleText(HTMLParser):
    SKIP = {"script", "style", "template", "noscript", "svg"}
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "title", "section",
             "article", "header", "footer", "blockquote", "pre", "table", "ul", "ol", "td", "th"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip_depth += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skip_depth:
            self.skip_depth -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip_depth:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def html_to_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.text()


def _email_to_text(data: bytes) -> tuple[str | None, str | None]:
    text, encoding, problem = decode_bytes(data)
    if problem is not None:  # random bytes named .eml are not an e-mail
        return None, problem if problem.startswith("binary") else f"not an e-mail ({problem})"
    msg = email.message_from_bytes(data, policy=policy.default)
    if not any(k.lower() in _EMAIL_HEADERS for k in msg.keys()):
        if encoding in ("utf-8", "ascii"):
            return text, None  # no message headers: a plain UTF-8 text file that is named .eml
        return None, "not an e-mail (no message headers) and not UTF-8 text"
    subject = str(msg.get("subject", "") or "").strip()
    body = ""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is not None:
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, AttributeError):  # unknown or wrong charset
            content = None
        if not isinstance(content, str) or "\x00" in content:  # NULs: a wrong charset (UTF-16 sent
            content = decode_bytes(part.get_payload(decode=True) or b"")[0] or ""  # as Latin-1): detect it
        body = html_to_text(content) if part.get_content_type() == "text/html" else content.strip()
    text = "\n\n".join(t for t in (subject, body) if t)
    return text, None if text else "e-mail without subject or text"


_EMAIL_HEADERS = {"from", "to", "subject", "date", "message-id", "received", "mime-version", "content-type",
                  "return-path", "cc", "reply-to"}


def has_text(text: str) -> bool:
    """True when the text holds at least one letter or digit (any script): a file of only emoji,
    symbols, punctuation, spaces, zero-width characters or combining marks has nothing to classify."""
    return any(c.isalnum() for c in text)


# -- files -----------------------------------------------------------------
def read_file(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> FileText:
    """Read one file as text; problems are reported in FileText.problem, never raised."""
    path = Path(path)
    suffix = path.suffix.lower()
    kind = "email" if suffix in EMAIL_SUFFIXES else "html" if suffix in HTML_SUFFIXES else "text"
    ft = FileText(path=path, text=None, kind=kind)
    try:
        st = os.stat(path)
        ft.size = st.st_size
        ft.problem = _not_regular(st.st_mode) or (EMPTY if st.st_size == 0 else None)
        if ft.problem:
            return ft
        with open_regular(path) as fh:  # checked again on the opened file: nothing swapped in
            data = fh.read(max_bytes + 1)
    except OSError as e:
        ft.problem = os_problem(e)
        return ft
    if len(data) > max_bytes:
        data, ft.truncated = data[:max_bytes], True
    if kind == "email":
        try:
            ft.text, ft.problem = _email_to_text(data)
            ft.encoding = "email"
        except Exception as e:  # the email package can fail in many ways on broken input
            ft.problem = f"damaged e-mail ({e})"
    else:
        text, ft.encoding, ft.problem = decode_bytes(data, ft.truncated)
        if text is not None:
            ft.text = html_to_text(text) if kind == "html" else text
    if ft.text is not None:
        ft.text = ft.text.replace("\x00", "")  # a NUL is never text (a stray one in UTF-16)
        if ft.problem is None and not has_text(ft.text):
            ft.problem = NO_TEXT
    return ft


def _matches(patterns: Iterable[str], rel: str, name: str) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(rel, p) for p in patterns)


def iter_paths(
    paths: Iterable[str | os.PathLike], include: Iterable[str] = (), exclude: Iterable[str] = ()
) -> Iterator[Path | tuple[Path, str]]:
    """Files named or found (recursively, sorted) under the given paths.

    `include`/`exclude` are globs matched against a file's name or its path relative
    to the folder given (e.g. "*.txt", "mail/*.eml"); `exclude` also prunes folders.
    Files named directly are always yielded. Unreadable folders and folder link loops
    are yielded as (path, problem)."""
    include, exclude = tuple(include), tuple(exclude)
    for p in paths:
        p = Path(p)
        try:
            st = os.stat(p)
        except OSError as e:
            yield (p, os_problem(e))
            continue
        if not stat.S_ISDIR(st.st_mode):
            yield p
            continue
        yield from _walk(p, include, exclude, {(st.st_dev, st.st_ino)})


def _listing(folder: Path) -> Iterator:
    """A folder's entries sorted by name, or the one (folder, problem) when it cannot be listed."""
    try:
        with os.scandir(folder) as it:
            return iter(sorted(it, key=lambda e: e.name))
    except OSError as e:
        return iter([(folder, f"folder {os_problem(e)}")])


def _walk(root: Path, include, exclude, seen: set) -> Iterator[Path | tuple[Path, str]]:
    """Depth first in name order, without recursion: a tree thousands of folders deep is walked
    (a folder whose path is too long for the system is one problem, the rest goes on)."""
    stack = [_listing(root)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if isinstance(entry, tuple):
            yield entry
            continue
        path = Path(entry.path)
        rel = path.relative_to(root).as_posix()
        if exclude and _matches(exclude, rel, entry.name):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            try:
                st = entry.stat()
            except OSError as e:
                yield (path, os_problem(e))
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                yield (path, "folder link loop or repeated folder (already visited)")
                continue
            seen.add(key)
            stack.append(_listing(path))
        elif not include or _matches(include, rel, entry.name):
            yield path
