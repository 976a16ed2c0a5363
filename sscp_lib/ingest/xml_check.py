"""Whether a file is well-formed XML, checked by expat with no handlers (C speed, no Python per element).

Standard library only, so `python -m sscp_lib.ingest.xml_check FILE` starts in a few tens of milliseconds:
the CIN census reader runs it in a second process for a large return while it scans the tags in
this one (sscp_lib.ingest.cin_census). Exit status 0 when well-formed, 1 when not, 2 when unreadable.
"""

from __future__ import annotations

import sys
import xml.parsers.expat
from pathlib import Path


def check_well_formed(path: Path | str) -> None:
    """Raise ExpatError unless the file is well-formed XML, with namespaces (as ElementTree's parser reads it)."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator="}")
    with open(path, "rb") as fh:
        parser.ParseFile(fh)


def main(argv: list[str]) -> int:
    try:
        check_well_formed(argv[0])
    except xml.parsers.expat.ExpatError:
        return 1
    except OSError:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
