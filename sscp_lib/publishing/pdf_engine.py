"""WeasyPrint, imported without ctypes' library search (`from sscp_lib.publishing.pdf_engine import weasyprint`).

WeasyPrint loads pango, harfbuzz, fontconfig and GLib through cffi, trying several names for each
(the Windows, macOS and Linux spellings). For every name dlopen cannot load, cffi asks
`ctypes.util.find_library`, which on Linux runs ldconfig, gcc and ld: about 200 processes and a
quarter of a second of CPU per import, to find nothing. On Linux each library's last name is its
soname, which dlopen finds by itself (the same cache ldconfig reads), so the search is skipped
there while WeasyPrint is imported; elsewhere WeasyPrint is imported as it is.
"""

from __future__ import annotations

import sys

if sys.platform.startswith("linux") and "weasyprint" not in sys.modules:
    import ctypes.util

    _find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint
    finally:
        ctypes.util.find_library = _find_library
else:
    import weasyprint

__all__ = ["weasyprint"]
