"""python -m toolkit.sample DIR — regenerate the embedded sample into DIR (default data/sample)."""
import json
import sys
from pathlib import Path

from toolkit.sample import build

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "data/sample")
    print(json.dumps(build(out), indent=2))
