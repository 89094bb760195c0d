"""Record the content hashes of the fixed output runs (tests/output_hashes.py) into
tests/fixtures/output_hashes.json.  Run it only when a change is *meant* to change results,
and say why in the commit; a refactor must leave the file as it is.

    .venv/bin/python scripts/record_output_hashes.py            # write
    .venv/bin/python scripts/record_output_hashes.py --check    # compare, exit 1 on a difference
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.output_hashes import FIXTURE, compute_all  # noqa: E402


def main(argv: list[str]) -> int:
    digests = compute_all()
    if "--check" in argv:
        old = json.loads(FIXTURE.read_text())
        diff = [f"{run}/{t}" for run in sorted(set(old) | set(digests))
                for t in sorted(set(old.get(run, {})) | set(digests.get(run, {})))
                if old.get(run, {}).get(t) != digests.get(run, {}).get(t)]
        for d in diff:
            print(f"changed: {d}")
        return 1 if diff else 0
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE} ({sum(len(v) for v in digests.values())} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
