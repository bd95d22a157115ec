"""The mutation score of `make mutation`, from mutmut's own statistics (run in build/mutation/)."""

import json
import subprocess
import sys
from pathlib import Path

subprocess.run([str(Path(sys.executable).parent / "mutmut"), "export-cicd-stats"], check=True)
stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text())
decided = stats["killed"] + stats["survived"] + stats.get("timeout", 0) + stats.get("suspicious", 0)
killed = stats["killed"] + stats.get("timeout", 0)
print(json.dumps(stats, sort_keys=True))
print(f"killed {killed} of {decided} decided mutants: {100 * killed / max(decided, 1):.1f}%")
print("survivors: build/mutation/survivors.txt (mutmut show NAME, in build/mutation, for the diff)")
